// The README's generated sections: the configuration table (from the config schema), the table
// definition (migrations/0001), the cost rules (processor/cost-model/RULES.md) and the SQL cookbook (query/COOKBOOK.md).
// `npx tsx scripts/readme-sections.ts` rewrites them; a unit test fails when they are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configVariables } from '../service/config.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

/** One table per component slice, under the slice's heading. */
export function configTable(): string {
  const lines: string[] = [];
  let section: string | undefined;
  for (const v of configVariables()) {
    if (v.section !== section) {
      if (section !== undefined) lines.push('');
      section = v.section;
      lines.push(`### ${section}`, '', '| Variable | Default | Meaning |', '|---|---|---|');
    }
    const fallback = v.fallback === undefined ? '(unset)' : v.fallback === '' ? '(empty)' : `\`${v.fallback}\``;
    lines.push(`| \`${v.name}\` | ${fallback} | ${v.description.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}

/** Shifts a document's headings one level down so it nests under the README's sections. */
function nested(file: string): string {
  return readFileSync(new URL(file, `file://${root}`), 'utf8')
    .trim()
    .replace(/^(#+) /gm, '#$1 ');
}

/** The table's definition, straight from its migration. */
function schema(): string {
  const sql = readFileSync(new URL('migrations/0001_k8s_expenses.sql', `file://${root}`), 'utf8').trim();
  return ['## The `k8s_expenses` table', '', 'Created by `migrations/0001_k8s_expenses.sql` (`{database}` and `{ttl}` are filled in from', '`CLICKHOUSE_DATABASE` and `CLICKHOUSE_TTL`); the view `k8s_expenses_final` is `SELECT * FROM k8s_expenses FINAL`.', '', '```sql', sql, '```'].join('\n');
}

export function sections(): Record<string, string> {
  return {
    'config-table': configTable(),
    schema: schema(),
    rules: nested('processor/cost-model/RULES.md'),
    cookbook: nested('query/COOKBOOK.md'),
  };
}

export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, body] of Object.entries(sections())) {
    const pattern = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!pattern.test(out)) throw new Error(`README.md has no <!-- ${name}:start --> ... <!-- ${name}:end --> markers`);
    out = out.replace(pattern, (_m, start: string, end: string) => `${start}\n${body}\n${end}`);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = `${root}README.md`;
  writeFileSync(file, renderReadme(readFileSync(file, 'utf8')));
}
