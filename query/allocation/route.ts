// The allocation API that OpenCost and Kubecost tools speak: GET /allocation/compute (also
// /allocation and Kubecost's /model/allocation). A thin handler: resolve the reading tenant, check
// the parameters, run one aggregating query limited by time, memory and rows, shape the answer.
// The plugin takes its dependencies as options, so the service decides credentials and limits.
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Log } from '../../core/log.ts';
import { buildAllocationQuery, type AllocationQueryLimits } from './allocation-sql.ts';
import { toCsv } from './csv.ts';
import { AllocationError, classifyQueryFailure, errorAnswer } from './errors.ts';
import { parseAllocationRequest, type QueryParameters } from './request.ts';
import { answerWindows, toSets, type AllocationRow } from './response.ts';

const ALLOCATION_PATHS = ['/allocation/compute', '/allocation', '/model/allocation'] as const;

export interface AllocationRouteOptions {
  /** Reads {database}.k8s_expenses; only `query` is used. */
  client: Pick<ClickHouseClient, 'query'>;
  /** The database of k8s_expenses (CLICKHOUSE_DATABASE); a plain identifier. */
  database: string;
  /**
   * The tenant whose rows the request may read. Throws when there is none: an error carrying an
   * HTTP `status` (401, 403, ...) and a `code` is answered with them, anything else with a 500.
   */
  tenantFromRequest(request: FastifyRequest): string | Promise<string>;
  /** Limits of every query (its SETTINGS clause and LIMIT). */
  limits: AllocationQueryLimits;
  /** Epoch milliseconds: `today`, `7d`, ... are computed from it in UTC. Default Date.now. */
  now?(): number;
  log?: Log;
}

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

export async function allocationRoutes(app: FastifyInstance, options: AllocationRouteOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const log = options.log ?? silent;

  app.setErrorHandler(async (err, request, reply) => {
    const answer = errorAnswer(err);
    if (answer.status >= 500) log[answer.status === 500 ? 'error' : 'warn']({ err, code: answer.code, url: request.url }, 'allocation query failed');
    else log.info({ code: answer.code, status: answer.status, message: answer.message }, 'allocation request refused');
    return reply.code(answer.status).type('application/json; charset=utf-8').send({ code: answer.status, message: answer.message });
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const tenant = await options.tenantFromRequest(request);
    const parsed = parseAllocationRequest(request.query as QueryParameters, now(), options.limits.maxResultRows);
    const { sql, params } = buildAllocationQuery(parsed, tenant, options.database, options.limits);

    // A client that goes away cancels its query: the HTTP client closes its connection to a server
    // (which then stops the query), the embedded engine stops at max_execution_time.
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    let rows: AllocationRow[];
    try {
      const result = await options.client.query({ query: sql, query_params: params, format: 'JSONEachRow', abort_signal: abort.signal });
      rows = await result.json<AllocationRow>();
    } catch (err) {
      if (abort.signal.aborted) {
        log.info({ tenant }, 'allocation query cancelled: the client went away');
        // Nobody is left to answer: let go of the connection, or a closing server would wait for it.
        reply.hijack();
        reply.raw.destroy();
        return;
      }
      throw classifyQueryFailure(err);
    }
    if (rows.length > options.limits.maxResultRows) {
      throw new AllocationError(
        'too-large',
        `the answer has more than ${options.limits.maxResultRows} allocations: aggregate more coarsely (aggregate), use a longer step, or accumulate=true`,
      );
    }
    const sets = toSets(rows, answerWindows(parsed));
    log.info({ tenant, allocations: rows.length, sets: sets.length, ms: Math.round(performance.now() - started) }, 'allocation query');
    if (parsed.format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(sets));
    return reply.type('application/json; charset=utf-8').send({ code: 200, status: 'success', data: sets });
  };

  for (const path of ALLOCATION_PATHS) app.get(path, handler);
}
