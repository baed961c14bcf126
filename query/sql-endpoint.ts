// The read-only SQL endpoint behind `npm run sql` when the service owns the embedded engine (only one
// process may open its data directory). POST /query with the SQL text as the body answers what
// ClickHouse writes in the format named by ?format= (ClickHouse's names: CSV, TSVWithNames,
// JSONEachRow, ...; PrettyCompactMonoBlock, its table, by default). Only plain reads of the project's
// tables pass (query/sql-guard.ts); there is no authentication, so it listens on
// loopback unless SQL_HOST says otherwise.
import type { ClickHouseClient } from '@clickhouse/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { clickHouseErrorCode, isRetriable } from '../processor/clickhouse/errors.ts';
import type { Log } from '../core/log.ts';
import { contentType, formatList, parseOutputFormat, runReadQuery } from './read-query.ts';
import { checkReadOnlyQuery } from './sql-guard.ts';
import type { ClickHouseConfig } from '../processor/clickhouse/config.ts';
import type { QueryConfig } from './config.ts';

export type SqlEndpointConfig = QueryConfig & Pick<ClickHouseConfig, 'CLICKHOUSE_DATABASE'>;

export interface SqlEndpoint {
  /** http://host:port, with the port actually bound (SQL_PORT=0 picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

/** The `error` field of the endpoint's JSON error bodies: {"error": ..., "message": ...}. */
export type SqlErrorCode = 'bad_request' | 'query_refused' | 'query_failed' | 'clickhouse_unavailable' | 'internal';

const SQL_BODY_LIMIT = 256 * 1024;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The status of a query ClickHouse rejected, decided here only: an error with a ClickHouse code is
 * the query's fault (400: unknown column, syntax, ...) unless the code is a passing condition (503:
 * try again); without a code something else broke (500).
 */
export function queryErrorStatus(err: unknown): { status: number; error: SqlErrorCode } {
  if (isRetriable(err)) return { status: 503, error: 'clickhouse_unavailable' };
  if (clickHouseErrorCode(err) !== undefined) return { status: 400, error: 'query_failed' };
  return { status: 500, error: 'internal' };
}

function buildSqlEndpoint(client: ClickHouseClient, config: Pick<ClickHouseConfig, 'CLICKHOUSE_DATABASE'>, logger: Log): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: SQL_BODY_LIMIT });
  // The body is SQL whatever the content type says (curl -d sends a form type).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post<{ Querystring: { format?: string }; Body: string | undefined }>('/query', async (req, reply) => {
    const fail = (status: number, error: SqlErrorCode, message: string) => reply.code(status).send({ error, message });
    const format = parseOutputFormat(req.query.format);
    if (!format) return fail(400, 'bad_request', `unknown format ${JSON.stringify(req.query.format)}: use one of ${formatList()}`);
    const checked = checkReadOnlyQuery(typeof req.body === 'string' ? req.body : '', { database: config.CLICKHOUSE_DATABASE });
    if (!checked.ok) {
      logger.info({ reason: checked.message }, 'sql endpoint refused a query');
      return fail(400, 'query_refused', checked.message);
    }
    const started = performance.now();
    try {
      const text = await runReadQuery(client, checked.sql, format);
      logger.info({ ms: Math.round(performance.now() - started), format }, 'sql endpoint query');
      return reply.type(contentType(format)).send(text);
    } catch (err) {
      const { status, error } = queryErrorStatus(err);
      if (status === 500) logger.error({ err }, 'sql endpoint query failed');
      return fail(status, error, (err instanceof Error ? err.message : String(err)).trim());
    }
  });
  return app;
}

export async function startSqlEndpoint(client: ClickHouseClient, config: SqlEndpointConfig, logger: Log): Promise<SqlEndpoint> {
  const app = buildSqlEndpoint(client, config, logger);
  await app.listen({ host: config.SQL_HOST, port: config.SQL_PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.SQL_PORT;
  const host = config.SQL_HOST.includes(':') ? `[${config.SQL_HOST}]` : config.SQL_HOST;
  if (!LOOPBACK.has(config.SQL_HOST)) {
    logger.warn({ host: config.SQL_HOST, port }, 'the SQL endpoint has no authentication and listens beyond loopback');
  }
  logger.info({ host: config.SQL_HOST, port }, 'sql endpoint listening');
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
