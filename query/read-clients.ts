// The read side's own ClickHouse clients, apart from the processor's writer, so that neither waits
// behind the other.
//
// Embedded engine: a connection runs one query at a time, and a write waits behind a read on the
// same connection for as long as the read runs. Reads get connections of their own to the same data
// directory (the engine allows several in one process; each has its own session), one per read that
// may run at once plus one for KILL QUERY, each made read-only (readonly = 2: no writes or DDL,
// per-query limits still allowed). Their session settings cannot reach the writer's session.
// Each running query also holds one of Node's libuv worker threads, which the embedded log's
// fsync and the writer's inserts use too: reads may hold all but RESERVED_THREADS of them.
//
// Server: one client with its own socket pool (QUERY_CONCURRENCY sockets), so a read never holds a
// socket a write waits for; the server runs reads and writes side by side. Every read is sent with
// readonly = 2, and cancel_http_readonly_queries_on_client_close so a dropped connection stops it.
import { createClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Log } from '../core/log.ts';
import { clientLogOption } from '../processor/clickhouse/client-log.ts';
import { openClickHouse, type ClickHouseOpenConfig } from '../processor/clickhouse/client.ts';
import type { QueryConfig } from './config.ts';
import type { ReadClient } from './reader.ts';

/** libuv worker threads left to the embedded log's fsync and the writer's inserts. */
export const RESERVED_THREADS = 2;

export interface ReadClients {
  /** One entry per read that may run at once (the same server client repeated). */
  readonly clients: readonly ReadClient[];
  readonly control: ReadClient;
  readonly serverSettings?: ClickHouseSettings;
  close(): Promise<void>;
}

type ReadClientsConfig = ClickHouseOpenConfig & Pick<QueryConfig, 'QUERY_CONCURRENCY' | 'QUERY_TIMEOUT'>;

/**
 * Reads the embedded engine may run at once: QUERY_CONCURRENCY, but no more than the libuv
 * worker threads (UV_THREADPOOL_SIZE, 4 by default) minus those kept for writes.
 */
export function embeddedReadSlots(concurrency: number, threadPoolSize: number): number {
  return Math.max(1, Math.min(concurrency, threadPoolSize - RESERVED_THREADS));
}

/** The size of libuv's worker pool, as read from UV_THREADPOOL_SIZE when the process started. */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 1024) : 4;
}

export async function openReadClients(config: ReadClientsConfig, log: Log, options: { slots: number }): Promise<ReadClients> {
  if (config.CLICKHOUSE_URL) return serverReadClients(config, log, options.slots);
  // The engine's own "using the embedded engine" line is said once, by the writer's connection.
  const quiet: Log = { ...log, debug() {}, info() {} };
  const opened: Awaited<ReturnType<typeof openClickHouse>>[] = [];
  try {
    for (let i = 0; i <= options.slots; i++) {
      const client = await openClickHouse(config, quiet);
      opened.push(client);
      await client.command({ query: 'SET readonly = 2' });
    }
  } catch (err) {
    await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
    throw err;
  }
  const [control, ...clients] = opened;
  return { clients, control, close: async () => void (await Promise.all(opened.map((c) => c.close()))) };
}

function serverReadClients(config: ReadClientsConfig, log: Log, slots: number): ReadClients {
  // Credentials in the URL win, as for the writer (processor/clickhouse/client.ts).
  const inUrl = new URL(config.CLICKHOUSE_URL!).username !== '';
  const open = (sockets: number, timeoutMs: number) =>
    createClient({
      url: config.CLICKHOUSE_URL,
      username: inUrl ? undefined : config.CLICKHOUSE_USER,
      password: inUrl ? undefined : config.CLICKHOUSE_PASSWORD,
      application: 'k8s-expenses-read',
      max_open_connections: sockets,
      // Longer than the query may run: the server stops it at QUERY_TIMEOUT and says so.
      request_timeout: timeoutMs,
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
      log: clientLogOption(log),
    });
  const client = open(slots, config.QUERY_TIMEOUT + 30_000);
  const control = open(1, 10_000);
  return {
    clients: Array.from({ length: slots }, () => client),
    control,
    serverSettings: { readonly: '2', cancel_http_readonly_queries_on_client_close: 1 },
    async close() {
      await Promise.all([client.close(), control.close()]);
    },
  };
}
