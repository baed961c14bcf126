// The read-only SQL endpoint behind `npm run sql` when the service owns the embedded engine (only one
// process may open its data directory). POST /query with the SQL text as the body answers what
// ClickHouse writes in the format named by ?format= (ClickHouse's names: CSV, TSVWithNames,
// JSONEachRow, ...; PrettyCompactMonoBlock, its table, by default).
//
// It answers only requests addressed to loopback (or SQL_HOST), not from a browser page of another
// site, with the endpoint's token (query/sql-endpoint-access.ts); only plain reads of the project's
// tables pass (query/sql-guard.ts); each runs through the reader, under the read limits, on
// read-only connections of its own, and is stopped when the client goes away.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Log } from '../core/log.ts';
import { errorAnswer, ReadError } from './errors.ts';
import type { QueryMetrics } from './metrics.ts';
import { contentType, formatList, parseOutputFormat } from './read-query.ts';
import type { Reader } from './reader.ts';
import { allowedHosts, checkSqlAccess } from './sql-endpoint-access.ts';
import { checkReadOnlyQuery } from './sql-guard.ts';

export interface SqlEndpointOptions {
  reader: Pick<Reader, 'text'>;
  /** The project's database (CLICKHOUSE_DATABASE): the only one a table may be qualified with. */
  database: string;
  /** The bearer token every request must carry. */
  token: string;
  /** SQL_HOST: requests may address it, besides the loopback names. */
  host: string;
  log: Log;
  metrics?: QueryMetrics;
}

export interface SqlEndpoint {
  /** http://host:port, with the port actually bound (SQL_PORT=0 picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

const SQL_BODY_LIMIT = 256 * 1024;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function buildSqlEndpoint(options: SqlEndpointOptions): FastifyInstance {
  const { log, metrics } = options;
  const hosts = allowedHosts(options.host);
  const app = Fastify({ logger: false, bodyLimit: SQL_BODY_LIMIT });
  // The body is SQL whatever the content type says (curl -d sends a form type).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const fail = (reply: FastifyReply, err: unknown) => {
    const answer = errorAnswer(err);
    metrics?.refused.inc({ endpoint: 'sql', reason: answer.code });
    if (answer.status === 500) log.error({ err }, 'sql endpoint query failed');
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
    if (answer.status === 401) reply.header('www-authenticate', 'Bearer realm="k8s-expenses SQL endpoint"');
    return reply.code(answer.status).type('application/json; charset=utf-8').send({ error: answer.code, message: answer.message });
  };

  app.addHook('onResponse', async (_request, reply) => {
    metrics?.requests.inc({ endpoint: 'sql', status: String(reply.statusCode) });
  });
  app.setErrorHandler(async (err, _request, reply) => fail(reply, err));
  // Checked before the body is read: a refused request costs nothing.
  app.addHook('onRequest', async (request, reply) => {
    const refusal = checkSqlAccess(request.headers, { token: options.token, hosts });
    if (!refusal) return;
    log.warn({ code: refusal.code, host: request.headers.host, origin: request.headers.origin, remote: request.ip }, `sql endpoint refused a request: ${refusal.message}`);
    return fail(reply, refusal);
  });

  app.post<{ Querystring: { format?: string }; Body: string | undefined }>('/query', async (req, reply) => {
    const format = parseOutputFormat(req.query.format);
    if (!format) throw new ReadError('bad-parameter', `unknown format ${JSON.stringify(req.query.format)}: use one of ${formatList()}`);
    const checked = checkReadOnlyQuery(typeof req.body === 'string' ? req.body : '', { database: options.database });
    if (!checked.ok) {
      log.info({ reason: checked.message }, 'sql endpoint refused a query');
      throw new ReadError('query-refused', checked.message);
    }
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const started = performance.now();
    try {
      const text = await options.reader.text({ endpoint: 'sql', sql: checked.sql, signal: abort.signal, limitResultRows: true, userSql: true }, format);
      log.info({ ms: Math.round(performance.now() - started), format }, 'sql endpoint query');
      return reply.type(contentType(format)).send(text);
    } catch (err) {
      if (!(err instanceof ReadError && err.code === 'client-gone')) throw err;
      metrics?.refused.inc({ endpoint: 'sql', reason: err.code });
      log.info({ ms: Math.round(performance.now() - started) }, 'sql endpoint query stopped: the client went away');
      reply.hijack();
      reply.raw.destroy();
    }
  });
  return app;
}

export async function startSqlEndpoint(options: SqlEndpointOptions & { port: number }): Promise<SqlEndpoint> {
  const app = buildSqlEndpoint(options);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  if (!LOOPBACK.has(options.host)) {
    options.log.warn({ host: options.host, port }, 'the SQL endpoint listens beyond loopback: its token is all that protects it (and it travels in clear over HTTP)');
  }
  options.log.info({ host: options.host, port }, 'sql endpoint listening');
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
