// The read side of the process (ROLE=query, and ROLE=all): the allocation API on the service's HTTP
// port, and with the embedded engine the SQL endpoint behind `npm run sql`. Reads run through a
// reader of their own (query/reader.ts) on ClickHouse clients of their own (query/read-clients.ts),
// under the read limits, so a user's query cannot hold up the receiver or the processor's writes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { errorMessage } from '../core/errors.ts';
import { redactUrl } from '../processor/clickhouse/client.ts';
import { allocationRoutes } from '../query/allocation/route.ts';
import { readLimits } from '../query/limits.ts';
import { createQueryMetrics } from '../query/metrics.ts';
import { embeddedReadSlots, openReadClients, RESERVED_THREADS, threadPoolSize } from '../query/read-clients.ts';
import { createReader, type Reader } from '../query/reader.ts';
import { startSqlEndpoint, type SqlEndpoint } from '../query/sql-endpoint.ts';
import { sqlToken } from '../query/sql-token.ts';
import { listenError, type Config } from './config.ts';
import type { ReadinessCheck } from './http-server.ts';

export interface QueryRole {
  readonly sqlEndpoint?: SqlEndpoint;
  /** With a ClickHouse server: whether it answers the read side. */
  readonly checks: readonly ReadinessCheck[];
  /** Stops the running reads (their requests are answered 503) so the HTTP server can close. */
  stopReads(): Promise<void>;
  close(): Promise<void>;
}

export interface QueryRoleOptions {
  /** The tenant a request may read, or a thrown 4xx error carrying `status` and `code`. */
  readTenant(request: FastifyRequest): string;
}

const PROBE_INTERVAL_MS = 5000;

export async function startQueryRole(app: FastifyInstance, config: Config, registry: Registry, logger: Logger, options: QueryRoleOptions): Promise<QueryRole> {
  const pool = threadPoolSize();
  const slots = config.CLICKHOUSE_URL ? config.QUERY_CONCURRENCY : embeddedReadSlots(config.QUERY_CONCURRENCY, pool);
  if (slots < config.QUERY_CONCURRENCY) {
    logger.warn(
      { slots, QUERY_CONCURRENCY: config.QUERY_CONCURRENCY, UV_THREADPOOL_SIZE: pool },
      `the embedded engine runs ${slots} reads at once, not QUERY_CONCURRENCY=${config.QUERY_CONCURRENCY}: each holds one of Node's ${pool} worker threads, ` +
        `and ${RESERVED_THREADS} stay free for the log's fsync and the processor's inserts; start with UV_THREADPOOL_SIZE=${config.QUERY_CONCURRENCY + RESERVED_THREADS} or more (npm start sets 16)`,
    );
  }
  const clients = await openReadClients(config, logger, { slots });
  const metrics = createQueryMetrics(registry);
  const reader: Reader = createReader({ clients: clients.clients, control: clients.control, serverSettings: clients.serverSettings, limits: readLimits(config), metrics, log: logger });
  let sqlEndpoint: SqlEndpoint | undefined;
  try {
    await app.register(allocationRoutes, { reader, database: config.CLICKHOUSE_DATABASE, tenantFromRequest: options.readTenant, log: logger, metrics });
    // Only one process may open the embedded engine's directory, so users query through this one.
    if (!config.CLICKHOUSE_URL) {
      const { token, source } = await sqlToken(config, { create: true, log: logger });
      try {
        sqlEndpoint = await startSqlEndpoint({ reader, database: config.CLICKHOUSE_DATABASE, token, host: config.SQL_HOST, port: config.SQL_PORT, log: logger, metrics });
      } catch (err) {
        throw listenError(err, 'SQL_PORT', config.SQL_PORT);
      }
      logger.info({ token: source }, `the SQL endpoint takes the token in ${source}`);
    }
  } catch (err) {
    await clients.close().catch(() => undefined);
    throw err;
  }

  const checks: ReadinessCheck[] = [];
  let probe: NodeJS.Timeout | undefined;
  if (config.CLICKHOUSE_URL && config.ROLE === 'query') {
    // The processor's check covers ClickHouse in ROLE=all; alone, the read side watches it itself.
    let reachable = false;
    let reason = 'not reached yet';
    const url = redactUrl(config.CLICKHOUSE_URL);
    const ping = () =>
      clients.control.command({ query: 'SELECT 1' }).then(
        () => void (reachable = true),
        (err: unknown) => {
          reachable = false;
          reason = `cannot reach ClickHouse at ${url} (CLICKHOUSE_URL): ${errorMessage(err)}`;
        },
      );
    void ping();
    probe = setInterval(() => void ping(), PROBE_INTERVAL_MS).unref();
    checks.push({ name: 'clickhouse', isReady: () => reachable, reason: () => reason });
  }

  return {
    sqlEndpoint,
    checks,
    stopReads: () => reader.stop(),
    async close() {
      clearInterval(probe);
      await sqlEndpoint?.close();
      await reader.stop();
      await clients.close();
    },
  };
}
