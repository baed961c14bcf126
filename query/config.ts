// The read side's configuration slice: the SQL endpoint and the limits every read runs under.
import { z } from 'zod';
import { duration, int, optionalText, size, type ConfigOf } from '../core/config-fields.ts';

const timeout = duration('30s').refine((ms) => ms >= 1000 && ms % 1000 === 0, {
  message: 'expected whole seconds, at least 1s (ClickHouse limits a query in seconds)',
});

const token = optionalText.refine((v) => v === undefined || /^[\x21-\x7e]{16,200}$/.test(v), {
  message: 'expected 16 to 200 printable characters without spaces (generate one with `openssl rand -base64 32`)',
});

export const queryConfigShape = {
  SQL_HOST: z.string().default('127.0.0.1').describe('Address of the read-only SQL endpoint used by `npm run sql` with the embedded engine'),
  SQL_PORT: int(9202, 0, 65535).describe('Port of the read-only SQL endpoint'),
  SQL_TOKEN: token.describe('Bearer token of the SQL endpoint (unset: generated at first start into DATA_DIR/sql-token, owner-only)'),
  QUERY_TIMEOUT: timeout.describe('Longest a read (allocation API, SQL endpoint) may run; longer ones are stopped (503)'),
  QUERY_MAX_MEMORY: size('2GiB').describe('Memory one read may use in ClickHouse; more is refused (400)'),
  QUERY_MAX_RESULT_ROWS: int(1_000_000, 1, 1_000_000_000).describe('Rows (allocations) one answer may hold; more is refused (400)'),
  QUERY_CONCURRENCY: int(4, 1, 1000).describe('Reads run at once; more answer 503 with Retry-After'),
};

export type QueryConfig = ConfigOf<typeof queryConfigShape>;
