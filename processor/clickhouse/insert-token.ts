// The deduplication token of an insert into a replicated table (insert_deduplication_token). A write
// whose answer was lost (a timeout, a cut connection) is sent again by the processor with the same
// rows; the replicas must store it once. The token is a hash of the rows as sent, so:
//   - a retry of the same rows has the same token and is dropped as a duplicate;
//   - a later write of the same hours never shares it: it carries another version (from a later
//     offset), or the same offset with is_final = 1 when the hour closes, or other values, so it is
//     stored, however much of it equals the write before.
// Identical rows are the same key, version and values: dropping them loses nothing.
import { createHash } from 'node:crypto';

export function insertDeduplicationToken(table: string, values: readonly Record<string, unknown>[]): string {
  const hash = createHash('sha256');
  hash.update(table);
  for (const value of values) hash.update(`\n${JSON.stringify(value)}`);
  return `${table}:${values.length}:${hash.digest('hex')}`;
}
