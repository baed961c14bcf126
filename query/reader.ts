// Runs the read side's queries under the read limits, on clients of their own, so a read never
// waits behind the processor's writes nor they behind it.
//
// - At most QUERY_CONCURRENCY reads run at once; one more is refused at once (503, Retry-After)
//   rather than queued behind queries that may run for QUERY_TIMEOUT.
// - Each query carries its limits in its own SETTINGS clause (query/limits.ts), and a comment with a
//   random marker as its first line, by which it can be found in system.processes.
// - A read whose client went away, or that outlives QUERY_TIMEOUT (the engine stops it itself at
//   that point; this is the backstop when it waited before starting), is stopped with KILL QUERY
//   through the control client, repeated until the query has ended. Its slot is held until then:
//   the embedded engine cannot interrupt a query from JavaScript (an aborted call returns early while
//   the engine computes on), so a slot given back at the abort would let stopped queries pile up.
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { Log } from '../core/log.ts';
import { classifyReadFailure, ReadError, timeoutError } from './errors.ts';
import { limitName, limitSettings, type ReadLimits } from './limits.ts';
import type { QueryMetrics, ReadEndpoint } from './metrics.ts';
import { runReadQuery, type OutputFormat } from './read-query.ts';

export type ReadClient = Pick<ClickHouseClient, 'query' | 'exec' | 'command'>;

/** Prefix of the comment that marks a read's text; KILL QUERY finds the read by it. */
export const READ_MARKER = 'k8s-expenses-read:';

export interface ReaderOptions {
  /**
   * One client per read that may run at once: the reader takes one for each read and gives it back
   * when the query has ended. A connection of the embedded engine runs one query at a time, so each
   * is its own connection; a server client pools its sockets, so the same client may be listed
   * several times.
   */
  clients: readonly ReadClient[];
  /** Where KILL QUERY goes: a client no read waits behind. */
  control: ReadClient;
  limits: ReadLimits;
  /** Per-query settings sent by a server client (e.g. readonly); never with the embedded engine. */
  serverSettings?: ClickHouseSettings;
  metrics?: QueryMetrics;
  log: Log;
  /** How long after QUERY_TIMEOUT an answer is given up on when the engine has not stopped the query. Default 2 s. */
  graceMs?: number;
  /** Pause between KILL QUERY attempts while a stopped query still runs. Default 1 s. */
  killIntervalMs?: number;
}

export interface ReadRequest {
  endpoint: ReadEndpoint;
  /** Our SQL, or the user's once the guard has passed it: no SETTINGS clause of its own. */
  sql: string;
  params?: Record<string, unknown>;
  /** Aborted when the client that asked goes away. */
  signal?: AbortSignal;
  /** Refuse answers over QUERY_MAX_RESULT_ROWS rows (or QUERY_MAX_MEMORY bytes) in ClickHouse. */
  limitResultRows?: boolean;
  /** The SQL is the user's: ClickHouse's refusal of it is passed on as query-failed. */
  userSql?: boolean;
}

export interface Reader {
  readonly limits: ReadLimits;
  /** Reads allowed at once (QUERY_CONCURRENCY, or fewer when the engine cannot run more). */
  readonly slots: number;
  /** The rows of a query, parsed from JSONEachRow. */
  rows<T>(request: ReadRequest): Promise<T[]>;
  /** ClickHouse's own text of a query in `format`, byte for byte. */
  text(request: ReadRequest, format: OutputFormat): Promise<string>;
  /** Refuses new reads, stops the running ones, and resolves once none runs any more. */
  stop(): Promise<void>;
}

type Outcome<T> = { value: T } | { error: unknown } | { stop: 'timeout' | 'client-gone' };

export function createReader(options: ReaderOptions): Reader {
  const { limits, control, log, metrics } = options;
  const idle = [...options.clients];
  /** Each running read's marker and the promise of its end. */
  const running = new Map<string, Promise<void>>();
  let stopping = false;
  const graceMs = options.graceMs ?? 2000;
  const killIntervalMs = options.killIntervalMs ?? 1000;

  const kill = async (marker: string, ended: Promise<void>): Promise<void> => {
    let done = false;
    void ended.then(() => (done = true));
    // The pattern is assembled by ClickHouse, so the KILL's own text does not match it.
    const query = `KILL QUERY WHERE query LIKE concat('%', '${READ_MARKER}', '${marker}', '%') ASYNC`;
    const giveUp = Date.now() + limits.timeoutMs + 60_000;
    while (!done && Date.now() < giveUp) {
      await control.command({ query }).catch((err: unknown) => log.warn({ err }, 'could not stop a read query; it ends at QUERY_TIMEOUT'));
      await Promise.race([ended, new Promise((r) => setTimeout(r, killIntervalMs).unref())]);
    }
  };

  async function run<T>(request: ReadRequest, execute: (client: ReadClient, sql: string) => Promise<T>): Promise<T> {
    if (request.signal?.aborted) throw new ReadError('client-gone', 'the client went away before the query started');
    if (stopping) throw new ReadError('clickhouse-unavailable', 'the service is shutting down: retry on another instance', { retryAfterSeconds: 1 });
    const client = idle.pop();
    if (!client) {
      const slots = options.clients.length;
      const running = slots === limits.concurrency ? limitName(limits, 'concurrency') : `${slots} (${limitName(limits, 'concurrency')}, fewer on the embedded engine: see the start-up log)`;
      throw new ReadError('too-many-queries', `${running} reads are running already: retry in a moment`, { retryAfterSeconds: 1 });
    }
    const marker = randomUUID();
    const sql = `/* ${READ_MARKER}${marker} */\n${request.sql}\n${limitSettings(limits, { resultRows: request.limitResultRows ?? false })}`;
    const started = performance.now();
    metrics?.running.inc();
    const query = execute(client, sql);
    // The embedded engine keeps a failed or stopped query in system.processes, with its memory, until
    // the connection's next query: one cheap query lets go of it before the client is used again.
    const ended = query.then(
      () => undefined,
      () =>
        Promise.resolve()
          .then(() => client.command({ query: 'SELECT 1' }))
          .then(
            () => undefined,
            () => undefined,
          ),
    );
    running.set(
      marker,
      ended.then(() => {
        idle.push(client);
        metrics?.running.dec();
        metrics?.duration.observe({ endpoint: request.endpoint }, (performance.now() - started) / 1000);
        running.delete(marker);
      }),
    );

    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<Outcome<T>>((resolve) => {
      timer = setTimeout(() => resolve({ stop: 'timeout' }), limits.timeoutMs + graceMs);
      onAbort = () => resolve({ stop: 'client-gone' });
      request.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const outcome = await Promise.race<Outcome<T>>([query.then((value) => ({ value }), (error: unknown) => ({ error })), stop]);
    clearTimeout(timer);
    if (onAbort) request.signal?.removeEventListener('abort', onAbort);

    if ('value' in outcome) return outcome.value;
    if ('stop' in outcome) {
      void kill(marker, ended);
      if (outcome.stop === 'timeout') throw timeoutError(limits);
      throw new ReadError('client-gone', 'the client went away: the query was stopped');
    }
    throw classifyReadFailure(outcome.error, limits, { userSql: request.userSql ?? false });
  }

  return {
    limits,
    slots: options.clients.length,
    rows<T>(request: ReadRequest) {
      return run(request, async (client, query) => {
        const result = await client.query({ query, query_params: request.params, format: 'JSONEachRow', clickhouse_settings: options.serverSettings });
        return result.json<T>();
      });
    },
    text(request, format) {
      return run(request, (client, query) => runReadQuery(client, query, format, { settings: options.serverSettings, params: request.params }));
    },
    async stop() {
      stopping = true;
      while (running.size > 0) {
        for (const [marker, ended] of running) void kill(marker, ended);
        await Promise.all(running.values());
      }
    },
  };
}
