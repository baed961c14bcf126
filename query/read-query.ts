// Runs a user's read query (already checked by the guard) and returns ClickHouse's own output in one
// of ClickHouse's text formats, byte for byte: a spreadsheet gets CSV as ClickHouse writes it, a
// terminal gets ClickHouse's table. Shared by the SQL endpoint and `npm run sql` against a server.
//
// The format travels as the `default_format` setting, never as a FORMAT clause in the text (the
// guard refuses those): a server takes it as a URL parameter for this query alone, and the
// embedded engine as the format of this one call, so no session setting is left behind.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';

/** The formats offered, under ClickHouse's names; the first is the default. */
const OUTPUT_FORMATS = [
  'PrettyCompactMonoBlock',
  'PrettyCompact',
  'Pretty',
  'PrettySpace',
  'Vertical',
  'Markdown',
  'CSV',
  'CSVWithNames',
  'CSVWithNamesAndTypes',
  'TSV',
  'TSVWithNames',
  'TSVWithNamesAndTypes',
  'TabSeparated',
  'TabSeparatedWithNames',
  'JSONEachRow',
  'JSONCompactEachRow',
  'JSON',
  'JSONCompact',
] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const DEFAULT_FORMAT: OutputFormat = 'PrettyCompactMonoBlock';

/** The format named by `text` (any letter case), the default when empty, undefined when unknown. */
export function parseOutputFormat(text: string | undefined): OutputFormat | undefined {
  if (text === undefined || text === '') return DEFAULT_FORMAT;
  return OUTPUT_FORMATS.find((f) => f.toLowerCase() === text.toLowerCase());
}

/** For messages refusing an unknown format. */
export function formatList(): string {
  return OUTPUT_FORMATS.join(', ');
}

/** The HTTP content type of a format's output. */
export function contentType(format: OutputFormat): string {
  if (format.startsWith('CSV')) return 'text/csv; charset=utf-8';
  if (format.startsWith('TSV') || format.startsWith('TabSeparated')) return 'text/tab-separated-values; charset=utf-8';
  if (format.endsWith('EachRow')) return 'application/x-ndjson; charset=utf-8';
  if (format.startsWith('JSON')) return 'application/json; charset=utf-8';
  if (format === 'Markdown') return 'text/markdown; charset=utf-8';
  return 'text/plain; charset=utf-8';
}

/** Whether the format writes nothing at all for an empty result (its readers may want to be told). */
export function isSilentWhenEmpty(format: OutputFormat): boolean {
  return format.startsWith('Pretty') || format === 'Vertical' || format === 'Markdown';
}

export interface ReadQueryOptions {
  /**
   * Per-query settings, for a server only: through the embedded engine they would stay in force
   * for every later query of the process.
   */
  settings?: ClickHouseSettings;
  /** Bound parameters ({name:Type} in the text). */
  params?: Record<string, unknown>;
}

export async function runReadQuery(client: Pick<ClickHouseClient, 'exec'>, sql: string, format: OutputFormat, options: ReadQueryOptions = {}): Promise<string> {
  const result = await client.exec({
    query: sql,
    query_params: options.params,
    // The client's type lists only the formats it can parse itself; the text is passed through here.
    clickhouse_settings: { ...options.settings, default_format: format as ClickHouseSettings['default_format'] },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
