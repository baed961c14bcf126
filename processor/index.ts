// Wires the processor role: migrations, the cost model, the consumer of the record log and the
// ClickHouse sink, over a client the service opened (the embedded engine allows one per process,
// which the read side shares).
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RecordConsumer } from '../ingest/record-log.ts';
import { errorMessage } from '../core/errors.ts';
import { createLogLimiter, warnLimited } from '../core/log-limiter.ts';
import { withRetry } from '../core/retry.ts';
import { redactUrl } from './clickhouse/client.ts';
import type { ClickHouseConfig } from './clickhouse/config.ts';
import type { ProcessorConfig } from './config.ts';
import { isRetriable } from './clickhouse/errors.ts';
import { expenseRowDeletion, toExpenseRow, type ExpenseRow } from './clickhouse/expense-row.ts';
import { createExpenseSink } from './clickhouse/expense-sink.ts';
import { migrate } from './clickhouse/migrations.ts';
import { createCostModel, type HourlyRow } from './cost-model/index.ts';
import { createProcessorMetrics } from './metrics.ts';
import { createProcessor, type Processor } from './processor.ts';

export interface ProcessorRole {
  isReady(): boolean;
  /** Why it is not ready (e.g. the code and message of the failure writes are in), for /ready. */
  notReadyReason(): string | undefined;
  /** Stops consuming, stores and commits what was consumed; the client stays open (its owner closes it). */
  close(): Promise<void>;
}

export interface ProcessorRoleOptions {
  /** Aborts waiting for ClickHouse (a shutdown before the role is up). */
  signal?: AbortSignal;
  /** Told what the role waits for while ClickHouse is not there yet, for /ready. */
  onWaiting?: (reason: string) => void;
}

export async function startProcessorRole(
  config: ProcessorConfig & ClickHouseConfig,
  client: ClickHouseClient,
  consumer: RecordConsumer,
  registry: Registry,
  logger: Logger,
  options: ProcessorRoleOptions = {},
): Promise<ProcessorRole> {
  const database = config.CLICKHOUSE_DATABASE;
  const target = config.CLICKHOUSE_URL ? `ClickHouse at ${redactUrl(config.CLICKHOUSE_URL)} (CLICKHOUSE_URL)` : 'the embedded ClickHouse engine';
  const warnings = createLogLimiter();
  // A server may still be starting (docker compose): wait for it rather than fail start-up.
  await withRetry(() => migrate(client, { database, ttl: config.CLICKHOUSE_TTL, logger }), {
    isRetriable,
    maxDelayMs: 5000,
    signal: options.signal,
    onRetry: (err, attempt, delayMs) => {
      const waiting = `waiting for ${target} to apply the migrations: ${errorMessage(err)}`;
      options.onWaiting?.(waiting);
      warnLimited(logger, warnings, errorMessage(err), { error: errorMessage(err), attempt, retryInMs: delayMs }, `${waiting}; retrying`);
    },
  });
  const sink = createExpenseSink(client, { database });
  const metrics = createProcessorMetrics(registry);
  const processor: Processor = createProcessor<HourlyRow, ExpenseRow>({
    consumer,
    sink,
    createModel: (admitSeries) =>
      createCostModel({
        maxSampleGapMs: config.MAX_SAMPLE_GAP,
        defaultScrapeIntervalMs: config.DEFAULT_SCRAPE_INTERVAL,
        defaultPrices: { cpuCoreHour: config.DEFAULT_CPU_PRICE, ramGiBHour: config.DEFAULT_RAM_PRICE, gpuHour: config.DEFAULT_GPU_PRICE },
        admitSeries,
      }),
    maxSeriesPerTenant: config.TENANT_MAX_SERIES,
    finishRow: toExpenseRow,
    deletion: expenseRowDeletion,
    rules: { graceMs: config.HOUR_GRACE, lateWindowMs: config.LATE_WINDOW, idleFinalizeMs: config.IDLE_FINALIZE },
    flushIntervalMs: config.FLUSH_INTERVAL,
    maxSampleGapMs: config.MAX_SAMPLE_GAP,
    metrics,
    logger,
  });
  await processor.start();

  return {
    isReady: () => processor.isReady(),
    notReadyReason: () => processor.notReadyReason(),
    close: () => processor.close(),
  };
}
