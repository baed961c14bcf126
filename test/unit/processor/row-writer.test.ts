// How the row writer retries a failing sink: retriable failures with backoff, permanent ones at the
// longest delay, never given up; reading paused meanwhile; each failure logged once and counted by code.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServiceError } from '../../../core/errors.ts';
import { createProcessorMetrics } from '../../../processor/metrics.ts';
import { createRowWriter } from '../../../processor/row-writer.ts';
import { metricValue } from '../../support/net.ts';

const RETRY = 100;
const LONGEST = 1000;
const unavailable = new ServiceError('clickhouse-unavailable', 'ClickHouse cannot be reached', { retriable: true });
const unknownTable = new ServiceError('clickhouse-unknown-table', 'the table does not exist: run `npm run migrate`, or check CLICKHOUSE_DATABASE', { retriable: false });

interface LogLine {
  level: number;
  msg: string;
  code?: string;
}

function setup(failures: unknown[]) {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const registry = new Registry();
  const flow = { pauses: 0, resumes: 0 };
  const attempts: number[] = [];
  const writer = createRowWriter<string>({
    sink: {
      async write() {
        attempts.push(Date.now());
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
      },
    },
    consumption: { pause: () => void flow.pauses++, resume: () => void flow.resumes++ },
    metrics: createProcessorMetrics(registry),
    log,
    retryDelayMs: RETRY,
    maxRetryDelayMs: LONGEST,
  });
  const gaps = () => attempts.slice(1).map((t, i) => t - attempts[i]);
  const errors = () => lines.filter((l) => l.level === 50);
  return { writer, registry, flow, attempts, gaps, lines, errors };
}

describe('the row writer', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('retries a retriable failure with backoff, paused and not ready meanwhile, then resumes', async () => {
    const { writer, registry, flow, gaps, lines, errors } = setup([unavailable, unavailable, unavailable]);
    const done = writer.write(['row']);
    await vi.advanceTimersByTimeAsync(0);
    expect(writer.failure()).toEqual({ code: 'clickhouse-unavailable', message: 'ClickHouse cannot be reached', retriable: true });
    expect(flow).toEqual({ pauses: 1, resumes: 0 });
    await vi.advanceTimersByTimeAsync(RETRY + 2 * RETRY + 4 * RETRY);
    await done;
    // Equal jitter: each delay within the upper half of its doubling ceiling.
    const [first, second, third] = gaps();
    expect(first).toBeGreaterThanOrEqual(RETRY / 2);
    expect(first).toBeLessThanOrEqual(RETRY);
    expect(second).toBeGreaterThanOrEqual(RETRY);
    expect(second).toBeLessThanOrEqual(2 * RETRY);
    expect(third).toBeGreaterThanOrEqual(2 * RETRY);
    expect(third).toBeLessThanOrEqual(4 * RETRY);
    expect(writer.failure()).toBeUndefined();
    expect(flow).toEqual({ pauses: 1, resumes: 1 });
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_write_failures_total', { code: 'clickhouse-unavailable' })).toBe(3);
    expect(errors()).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'ClickHouse writes succeed again' });
  });

  it('retries a permanent failure at the longest delay, never giving up, and logs it once with what to do', async () => {
    const { writer, registry, gaps, errors } = setup([unknownTable, unknownTable, unknownTable, unknownTable]);
    const done = writer.write(['row']);
    await vi.advanceTimersByTimeAsync(LONGEST - 1);
    expect(gaps()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(gaps()).toEqual([LONGEST]);
    expect(writer.failure()?.code).toBe('clickhouse-unknown-table');
    await vi.advanceTimersByTimeAsync(3 * LONGEST);
    await done;
    expect(gaps()).toEqual([LONGEST, LONGEST, LONGEST, LONGEST]);
    expect(metricValue(await registry.metrics(), 'k8s_expenses_processor_write_failures_total', { code: 'clickhouse-unknown-table' })).toBe(4);
    expect(errors()).toHaveLength(1);
    expect(errors()[0].code).toBe('clickhouse-unknown-table');
    expect(errors()[0].msg).toContain('run `npm run migrate`, or check CLICKHOUSE_DATABASE');
    expect(errors()[0].msg).toContain('every 1 s');
  });

  it('logs again when the failure changes, and counts each under its code', async () => {
    const { writer, registry, errors } = setup([unavailable, unknownTable, unknownTable]);
    const done = writer.write(['row']);
    await vi.advanceTimersByTimeAsync(RETRY + 2 * LONGEST);
    await done;
    expect(errors().map((l) => l.code)).toEqual(['clickhouse-unavailable', 'clickhouse-unknown-table']);
    const metrics = await registry.metrics();
    expect(metricValue(metrics, 'k8s_expenses_processor_write_failures_total', { code: 'clickhouse-unavailable' })).toBe(1);
    expect(metricValue(metrics, 'k8s_expenses_processor_write_failures_total', { code: 'clickhouse-unknown-table' })).toBe(2);
  });

  it('treats an error that is not a ServiceError as internal and permanent', async () => {
    const { writer, gaps } = setup([new TypeError('a bug')]);
    const done = writer.write(['row']);
    await vi.advanceTimersByTimeAsync(0);
    expect(writer.failure()).toEqual({ code: 'internal', message: 'a bug', retriable: false });
    await vi.advanceTimersByTimeAsync(LONGEST);
    await done;
    expect(gaps()).toEqual([LONGEST]);
  });
});
