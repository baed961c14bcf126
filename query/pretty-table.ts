// Renders a query result as an aligned text table in the spirit of clickhouse-client's
// PrettyCompact: numbers right-aligned, NULL spelled out, one line per row, a row count below.

export interface TableData {
  names: readonly string[];
  types: readonly string[];
  rows: readonly (readonly unknown[])[];
}

const NUMERIC = /^(?:Nullable\()?(?:U?Int\d+|Float\d+|Decimal)/;

/** One cell as text: control characters escaped so every row stays on one line. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function renderTable({ names, types, rows }: TableData): string {
  const right = types.map((t) => NUMERIC.test(t));
  const cells = rows.map((row) => names.map((_, i) => formatCell(row[i])));
  const widths = names.map((name, i) => Math.max(name.length, ...cells.map((r) => r[i].length)));
  const pad = (text: string, i: number, fill = ' ') => (right[i] ? text.padStart(widths[i], fill) : text.padEnd(widths[i], fill));
  const lines = [
    `┌─${names.map((name, i) => pad(name, i, '─')).join('─┬─')}─┐`,
    ...cells.map((r) => `│ ${r.map((c, i) => pad(c, i)).join(' │ ')} │`),
    `└─${widths.map((w) => '─'.repeat(w)).join('─┴─')}─┘`,
  ];
  const count = `${rows.length} ${rows.length === 1 ? 'row' : 'rows'}`;
  return names.length === 0 ? `${count}\n` : `${lines.join('\n')}\n${count}\n`;
}
