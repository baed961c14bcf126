// Runs a user's read query (already checked by the guard) and returns its output as text: an aligned
// table, or one JSON object per line. Shared by the SQL endpoint and `npm run sql` against a server.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { renderTable } from './pretty-table.ts';

export const OUTPUT_FORMATS = ['table', 'JSONEachRow'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(text: string | undefined): OutputFormat | undefined {
  if (text === undefined || text === '') return 'table';
  return OUTPUT_FORMATS.find((f) => f.toLowerCase() === text.toLowerCase());
}

export interface ReadQueryOptions {
  /**
   * Per-query settings, for a server only: through the embedded engine they would stay in force
   * for every later query of the process.
   */
  settings?: ClickHouseSettings;
  signal?: AbortSignal;
}

export async function runReadQuery(client: ClickHouseClient, sql: string, format: OutputFormat, options: ReadQueryOptions = {}): Promise<string> {
  const common = { query: sql, clickhouse_settings: options.settings, abort_signal: options.signal };
  if (format === 'JSONEachRow') {
    const result = await client.query({ ...common, format: 'JSONEachRow' });
    return result.text();
  }
  // Names and types first: column order is kept (JSON objects would reorder numeric-looking keys)
  // and numbers can be right-aligned.
  const result = await client.query({ ...common, format: 'JSONCompactEachRowWithNamesAndTypes' });
  const [names = [], types = [], ...rows] = await result.json<unknown[]>();
  return renderTable({ names: names as string[], types: types as string[], rows });
}
