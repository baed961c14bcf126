// The reader with stand-in clients whose queries end when the test says: the text each read is
// sent as, the concurrency slots (held until the engine has let go of a query), stopping by KILL
// QUERY, the deadline. The real engine: test/integration/query/read-limits.test.ts.
import { describe, expect, it } from 'vitest';
import { ReadError } from '../../../query/errors.ts';
import { limitName, limitSettings, type ReadLimits } from '../../../query/limits.ts';
import { createReader, type ReadClient } from '../../../query/reader.ts';
import { silentLog } from '../../support/clickhouse-engine.ts';

const LIMITS: ReadLimits = { timeoutMs: 2000, maxMemoryBytes: 64 * 1024 ** 2, maxResultRows: 100, concurrency: 2 };

interface Pending {
  query: string;
  params?: Record<string, unknown>;
  resolve(rows: unknown[]): void;
  reject(err: unknown): void;
}

function standIn() {
  const pending: Pending[] = [];
  const commands: string[] = [];
  const client = {
    query: (call: { query: string; query_params?: Record<string, unknown> }) =>
      new Promise((resolve, reject) => pending.push({ query: call.query, params: call.query_params, resolve: (rows) => resolve({ json: async () => rows }), reject })),
    command: async ({ query }: { query: string }) => void commands.push(query),
  } as unknown as ReadClient;
  return { client, pending, commands };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('limitSettings', () => {
  it('carries time and memory on every read, rows and bytes of the answer when asked', () => {
    expect(limitSettings(LIMITS, { resultRows: false })).toBe('SETTINGS max_execution_time = 2, max_memory_usage = 67108864');
    expect(limitSettings(LIMITS, { resultRows: true })).toBe(
      "SETTINGS max_execution_time = 2, max_memory_usage = 67108864, max_result_rows = 100, max_result_bytes = 67108864, result_overflow_mode = 'throw'",
    );
  });

  it('names each limit as it is configured', () => {
    expect(['timeout', 'memory', 'rows', 'concurrency'].map((l) => limitName(LIMITS, l as 'timeout'))).toEqual([
      'QUERY_TIMEOUT=2s',
      'QUERY_MAX_MEMORY=64MiB',
      'QUERY_MAX_RESULT_ROWS=100',
      'QUERY_CONCURRENCY=2',
    ]);
    expect(limitName({ ...LIMITS, maxMemoryBytes: 1_000_000 }, 'memory')).toBe('QUERY_MAX_MEMORY=1000000');
  });
});

describe('createReader', () => {
  it('sends a marker comment, the text, then the limits; parameters stay bound', async () => {
    const { client, pending } = standIn();
    const reader = createReader({ clients: [client], control: client, limits: LIMITS, log: silentLog });
    const rows = reader.rows({ endpoint: 'allocation', sql: 'SELECT {t:String} AS x', params: { t: "'); DROP" } });
    await tick();
    expect(pending[0].query).toMatch(/^\/\* k8s-expenses-read:[0-9a-f-]{36} \*\/\nSELECT \{t:String\} AS x\nSETTINGS max_execution_time = 2, max_memory_usage = 67108864$/);
    expect(pending[0].params).toEqual({ t: "'); DROP" });
    pending[0].resolve([{ x: 1 }]);
    expect(await rows).toEqual([{ x: 1 }]);
  });

  it('refuses a read over QUERY_CONCURRENCY at once, with Retry-After, and takes one again when a slot frees', async () => {
    const a = standIn();
    const b = standIn();
    const reader = createReader({ clients: [a.client, b.client], control: a.client, limits: LIMITS, log: silentLog });
    const first = reader.rows({ endpoint: 'sql', sql: 'SELECT 1' });
    const second = reader.rows({ endpoint: 'sql', sql: 'SELECT 2' });
    const third = reader.rows({ endpoint: 'sql', sql: 'SELECT 3' });
    await expect(third).rejects.toMatchObject({ code: 'too-many-queries', status: 503, retryAfterSeconds: 1, message: 'QUERY_CONCURRENCY=2 reads are running already: retry in a moment' });
    const sent = () => [...a.pending, ...b.pending];
    sent().find((p) => p.query.includes('SELECT 2'))!.resolve([]);
    await second;
    const fourth = reader.rows({ endpoint: 'sql', sql: 'SELECT 4' });
    await tick();
    sent().find((p) => p.query.includes('SELECT 4'))!.resolve([]);
    sent().find((p) => p.query.includes('SELECT 1'))!.resolve([]);
    await Promise.all([first, fourth]);
  });

  it('stops a read whose client went away by KILL QUERY, repeated until the engine lets go, and holds its slot until then', async () => {
    const reads = standIn();
    const control = standIn();
    const reader = createReader({ clients: [reads.client], control: control.client, limits: LIMITS, log: silentLog, killIntervalMs: 20 });
    const abort = new AbortController();
    const read = reader.rows({ endpoint: 'sql', sql: 'SELECT slow', signal: abort.signal });
    await tick();
    abort.abort();
    await expect(read).rejects.toMatchObject({ code: 'client-gone' });
    const marker = /k8s-expenses-read:([0-9a-f-]{36})/.exec(reads.pending[0].query)![1];
    await expect.poll(() => control.commands.length).toBeGreaterThanOrEqual(2);
    expect(control.commands[0]).toBe(`KILL QUERY WHERE query LIKE concat('%', 'k8s-expenses-read:', '${marker}', '%') ASYNC`);
    // The engine still computes: the slot stays taken.
    await expect(reader.rows({ endpoint: 'sql', sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'too-many-queries' });
    reads.pending[0].reject(Object.assign(new Error('Query was cancelled'), { code: '394' }));
    await tick();
    const kills = control.commands.length;
    // Let go of (SELECT 1 on the connection), then the slot is free and the KILLs stop.
    expect(reads.commands).toEqual(['SELECT 1']);
    const next = reader.rows({ endpoint: 'sql', sql: 'SELECT 2' });
    await tick();
    reads.pending[1].resolve([]);
    await next;
    await new Promise((r) => setTimeout(r, 60));
    expect(control.commands.length).toBe(kills);
  });

  it('gives up on a read that outlives QUERY_TIMEOUT (one waiting to start), naming the limit, and stops it', async () => {
    const reads = standIn();
    const control = standIn();
    const reader = createReader({ clients: [reads.client], control: control.client, limits: { ...LIMITS, timeoutMs: 50 }, graceMs: 10, killIntervalMs: 20, log: silentLog });
    const read = reader.rows({ endpoint: 'allocation', sql: 'SELECT stuck' });
    await expect(read).rejects.toMatchObject({ code: 'query-timeout', status: 503, message: expect.stringMatching(/^the query ran longer than QUERY_TIMEOUT=0.05s/) });
    await expect.poll(() => control.commands.length).toBeGreaterThanOrEqual(1);
    reads.pending[0].resolve([]);
  });

  it('classifies what ClickHouse says', async () => {
    const reads = standIn();
    const reader = createReader({ clients: [reads.client], control: reads.client, limits: LIMITS, log: silentLog });
    const mine = reader.rows({ endpoint: 'allocation', sql: 'SELECT x' });
    await tick();
    reads.pending[0].reject(Object.assign(new Error('Query memory limit exceeded: would use 1 GiB'), { code: '241' }));
    await expect(mine).rejects.toMatchObject({ code: 'memory-limit', status: 400 });
    const users = reader.rows({ endpoint: 'sql', sql: 'SELECT nope', userSql: true });
    await tick();
    reads.pending[1].reject(Object.assign(new Error('Unknown identifier nope'), { code: '47' }));
    await expect(users).rejects.toEqual(expect.objectContaining({ code: 'query-failed', message: 'Unknown identifier nope' }));
    await expect(users).rejects.toBeInstanceOf(ReadError);
  });

  it('stop() refuses new reads, stops the running ones and waits for them', async () => {
    const reads = standIn();
    const control = standIn();
    const reader = createReader({ clients: [reads.client], control: control.client, limits: LIMITS, log: silentLog, killIntervalMs: 20 });
    const running = reader.rows({ endpoint: 'sql', sql: 'SELECT slow' });
    running.catch(() => undefined);
    await tick();
    let stopped = false;
    const stopping = reader.stop().then(() => (stopped = true));
    await expect.poll(() => control.commands.length).toBeGreaterThanOrEqual(1);
    expect(stopped).toBe(false);
    await expect(reader.rows({ endpoint: 'sql', sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'clickhouse-unavailable', status: 503 });
    reads.pending[0].reject(Object.assign(new Error('Query was cancelled'), { code: '394' }));
    await stopping;
    await expect(running).rejects.toMatchObject({ code: 'clickhouse-unavailable' });
  });
});
