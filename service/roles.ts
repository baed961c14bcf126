// What each ROLE runs in the process. The read side needs the table the processor writes: with the
// embedded engine only the process that owns it can read it, so ROLE=query needs CLICKHOUSE_URL, and
// a processor on the embedded engine serves the reads itself (nothing else could).
export const ROLES = ['all', 'receiver', 'processor', 'query'] as const;
export type Role = (typeof ROLES)[number];

export interface RoleParts {
  /** Remote write on PORT, records to the log. */
  receives: boolean;
  /** Records from the log, rows to ClickHouse. */
  processes: boolean;
  /** The allocation API on PORT, and the SQL endpoint on the embedded engine. */
  queries: boolean;
}

/** `embedded`: no CLICKHOUSE_URL, the rows are in the embedded engine of the processing process. */
export function roleParts(role: Role, embedded = false): RoleParts {
  return {
    receives: role === 'all' || role === 'receiver',
    processes: role === 'all' || role === 'processor',
    queries: role === 'all' || role === 'query' || (role === 'processor' && embedded),
  };
}
