// Wires the processor role: ClickHouse (server or embedded engine), migrations, the cost model,
// the consumer of the record log, and the read-only SQL endpoint for the embedded engine.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RecordConsumer } from '../ingest/record-log.ts';
import { listenError, type Config } from '../service/config.ts';
import { startSqlEndpoint, type SqlEndpoint } from '../service/sql-endpoint.ts';
import { openClickHouse } from './clickhouse/client.ts';
import { isRetriable } from './clickhouse/errors.ts';
import type { ExpenseRow } from './clickhouse/expense-row.ts';
import { createExpenseSink } from './clickhouse/expense-sink.ts';
import { migrate } from './clickhouse/migrations.ts';
import { redactUrl } from './clickhouse/client.ts';
import { withRetry } from './clickhouse/retry.ts';
import { createCostModel, type HourlyRow } from './cost-model/index.ts';
import { createProcessorMetrics } from './metrics.ts';
import { createProcessor, type Processor } from './processor.ts';

export interface ProcessorRole {
  /** For the start-up line. */
  readonly clickhouse: string;
  readonly sqlEndpoint?: string;
  isReady(): boolean;
  close(): Promise<void>;
}

export async function startProcessorRole(config: Config, consumer: RecordConsumer, registry: Registry, logger: Logger): Promise<ProcessorRole> {
  const client = await openClickHouse(config, logger);
  const database = config.CLICKHOUSE_DATABASE;
  // A server may still be starting (docker compose): wait for it rather than fail start-up.
  await withRetry(() => migrate(client, { database, ttl: config.CLICKHOUSE_TTL, logger }), {
    isRetriable,
    maxDelayMs: 5000,
    onRetry: (err, attempt, delayMs) => logger.warn({ err, attempt, delayMs }, 'ClickHouse not ready for migrations yet; retrying'),
  });
  const sink = createExpenseSink(client, { database });
  const metrics = createProcessorMetrics(registry);
  const processor: Processor = createProcessor<HourlyRow, ExpenseRow>({
    consumer,
    sink,
    createModel: () =>
      createCostModel({
        maxSampleGapMs: config.MAX_SAMPLE_GAP,
        defaultScrapeIntervalMs: config.DEFAULT_SCRAPE_INTERVAL,
        defaultPrices: { cpuCoreHour: config.DEFAULT_CPU_PRICE, ramGiBHour: config.DEFAULT_RAM_PRICE, gpuHour: config.DEFAULT_GPU_PRICE },
      }),
    toRows: (rows, final, version, now) => rows.map((row) => ({ ...row, is_final: final, version, updated_at: now })),
    rules: { graceMs: config.HOUR_GRACE, lateWindowMs: config.LATE_WINDOW, idleFinalizeMs: config.IDLE_FINALIZE },
    flushIntervalMs: config.FLUSH_INTERVAL,
    maxSampleGapMs: config.MAX_SAMPLE_GAP,
    metrics,
    logger,
  });
  await processor.start();

  // Only one process may open the embedded engine's directory, so users query through this one.
  let endpoint: SqlEndpoint | undefined;
  if (!config.CLICKHOUSE_URL) {
    try {
      endpoint = await startSqlEndpoint(client, config, logger);
    } catch (err) {
      // The caller only has the transport to close: stop consuming first, so the consumer is not
      // left reading a log that is closed under it (e.g. SQL_PORT already in use).
      await processor.close().catch(() => undefined);
      await client.close().catch(() => undefined);
      throw listenError(err, 'SQL_PORT', config.SQL_PORT);
    }
  }

  return {
    clickhouse: config.CLICKHOUSE_URL ? `ClickHouse ${redactUrl(config.CLICKHOUSE_URL)} database ${database}` : `embedded ClickHouse at ${path.resolve(config.DATA_DIR, 'clickhouse')}`,
    sqlEndpoint: endpoint?.url,
    isReady: () => processor.isReady(),
    async close() {
      await endpoint?.close();
      await processor.close();
      await client.close();
    },
  };
}
