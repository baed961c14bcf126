// The allocation API that OpenCost and Kubecost tools speak: GET /allocation/compute (also
// /allocation and Kubecost's /model/allocation). A thin handler: resolve the reading tenant, check
// the parameters, run one aggregating query through the reader (read limits, own connections,
// stopped when the client goes away), shape the answer. The plugin takes its dependencies as
// options, so the service decides credentials and limits.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Log } from '../../core/log.ts';
import { errorAnswer, ReadError } from '../errors.ts';
import { limitName } from '../limits.ts';
import type { QueryMetrics } from '../metrics.ts';
import type { Reader } from '../reader.ts';
import { buildAllocationQuery } from './allocation-sql.ts';
import { toCsv } from './csv.ts';
import { parseAllocationRequest, type QueryParameters } from './request.ts';
import { answerWindows, toSets, type AllocationRow } from './response.ts';

const ALLOCATION_PATHS = ['/allocation/compute', '/allocation', '/model/allocation'] as const;

export interface AllocationRouteOptions {
  /** Runs the query under the read limits (QUERY_MAX_RESULT_ROWS also bounds the allocations). */
  reader: Pick<Reader, 'rows' | 'limits'>;
  /** The database of k8s_expenses (CLICKHOUSE_DATABASE); a plain identifier. */
  database: string;
  /**
   * The tenant whose rows the request may read. Throws when there is none: an error carrying an
   * HTTP `status` (401, 403, ...) and a `code` is answered with them, anything else with a 500.
   */
  tenantFromRequest(request: FastifyRequest): string | Promise<string>;
  /** Epoch milliseconds: `today`, `7d`, ... are computed from it in UTC. Default Date.now. */
  now?(): number;
  log?: Log;
  metrics?: QueryMetrics;
}

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

export async function allocationRoutes(app: FastifyInstance, options: AllocationRouteOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const log = options.log ?? silent;
  const { reader, metrics } = options;
  const maxResultRows = reader.limits.maxResultRows;

  app.addHook('onResponse', async (_request, reply) => {
    metrics?.requests.inc({ endpoint: 'allocation', status: String(reply.statusCode) });
  });

  app.setErrorHandler(async (err, request, reply) => {
    const answer = errorAnswer(err);
    metrics?.refused.inc({ endpoint: 'allocation', reason: answer.code });
    if (answer.status >= 500 && answer.code !== 'query-timeout') log[answer.status === 500 ? 'error' : 'warn']({ err, code: answer.code, url: request.url }, 'allocation query failed');
    else log.info({ code: answer.code, status: answer.status, message: answer.message }, 'allocation request refused');
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
    return reply.code(answer.status).type('application/json; charset=utf-8').send({ code: answer.status, error: answer.code, message: answer.message });
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const tenant = await options.tenantFromRequest(request);
    const parsed = parseAllocationRequest(request.query as QueryParameters, now(), maxResultRows);
    const { sql, params } = buildAllocationQuery(parsed, tenant, options.database, { maxResultRows });

    // A client that goes away stops its query (the reader kills it in ClickHouse).
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    let rows: AllocationRow[];
    try {
      rows = await reader.rows<AllocationRow>({ endpoint: 'allocation', sql, params, signal: abort.signal });
    } catch (err) {
      if (!(err instanceof ReadError && err.code === 'client-gone')) throw err;
      metrics?.refused.inc({ endpoint: 'allocation', reason: err.code });
      log.info({ tenant }, 'allocation query stopped: the client went away');
      // Nobody is left to answer: let go of the connection, or a closing server would wait for it.
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    if (rows.length > maxResultRows) {
      throw new ReadError(
        'too-large',
        `the answer has more than ${maxResultRows} allocations (${limitName(reader.limits, 'rows')}): aggregate more coarsely (aggregate), use a longer step, or accumulate=true`,
      );
    }
    const sets = toSets(rows, answerWindows(parsed));
    log.info({ tenant, allocations: rows.length, sets: sets.length, ms: Math.round(performance.now() - started) }, 'allocation query');
    if (parsed.format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(sets));
    return reply.type('application/json; charset=utf-8').send({ code: 200, status: 'success', data: sets });
  };

  for (const path of ALLOCATION_PATHS) app.get(path, handler);
}
