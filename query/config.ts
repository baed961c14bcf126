// The read side's configuration slice.
import { int, type ConfigOf } from '../core/config-fields.ts';
import { z } from 'zod';

export const queryConfigShape = {
  SQL_HOST: z.string().default('127.0.0.1').describe('Address of the read-only SQL endpoint used by `npm run sql` with the embedded engine'),
  SQL_PORT: int(9202, 0, 65535).describe('Port of the read-only SQL endpoint'),
};

export type QueryConfig = ConfigOf<typeof queryConfigShape>;
