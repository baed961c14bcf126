// The processor: consumes records, feeds the cost model, writes hourly rows, commits offsets.
//
// Exactly once, end to end: a sample is counted once by the model (it de-duplicates by series and
// timestamp); rows are written with a version that rises with the offset read (row-version.ts), so
// the rows that saw the most replace the others under FINAL, whatever the clocks say, and a key an
// hour no longer has gets a deletion row (hour-rows.ts); offsets are committed only after the rows
// the records fed are stored, and never past a record that still feeds an hour that can change (or
// the hour before it, which a rebuild needs as context). A restart therefore rebuilds every hour
// that can still change, exactly.
//
// Split by role: hour-window/ decides (which hours are written, settle, may be committed),
// record-loop.ts feeds records to the model, flush-step.ts writes and commits through
// row-writer.ts. This file is the lifecycle: partitions as they are assigned and revoked, the
// flush timer, readiness, and an orderly close.
import type { Logger } from 'pino';
import type { InboundRecord, RecordConsumer } from '../ingest/record-log.ts';
import type { AdmitSeries, HourlyCostModel } from './cost-model-port.ts';
import { createFlushStep, type FinishRow, type RowDeletion } from './flush-step.ts';
import type { LifecycleRules } from './hour-window/hour-lifecycle.ts';
import type { ProcessorMetrics } from './metrics.ts';
import { openPartition, type Partition } from './partition.ts';
import { createRecordLoop } from './record-loop.ts';
import { createSampleAgeGauge } from './sample-age.ts';
import { createRowWriter, type RowSink } from './row-writer.ts';
import { createTenantSeriesLimit } from './tenant-series.ts';

export interface ProcessorOptions<ModelRow, Row> {
  consumer: RecordConsumer;
  sink: RowSink<Row>;
  /**
   * One model per partition, so a revoked partition's state goes away whole. `admitSeries` (set
   * when maxSeriesPerTenant is) is to be asked before a new series is stored.
   */
  createModel(admitSeries?: AdmitSeries): HourlyCostModel<ModelRow>;
  /** TENANT_MAX_SERIES: active series per tenant over this processor's partitions (0 or unset: no bound). */
  maxSeriesPerTenant?: number;
  /** The one place a model row becomes a stored row (finality, version, write time). */
  finishRow: FinishRow<ModelRow, Row>;
  /** Deletion rows for keys a rewrite of their hour no longer has (without it, stored rows are only replaced). */
  deletion?: RowDeletion<ModelRow, Row>;
  rules: LifecycleRules;
  flushIntervalMs: number;
  metrics: ProcessorMetrics;
  logger: Logger;
  /**
   * Longest interval one sample stands for (MAX_SAMPLE_GAP, the model's maxSampleGapMs): a sample
   * that close to its hour's start can change the hour before (see markChanged). Default 5 min.
   */
  maxSampleGapMs?: number;
  /** Retry delay after a failed write, doubling up to maxRetryDelayMs (the delay of permanent failures). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  now?(): number;
}

export interface Processor {
  start(): Promise<void>;
  /** Writes what changed and commits what is settled; resolves once stored (retrying on failure). */
  flush(): Promise<void>;
  isReady(): boolean;
  /** Why it is not ready, for /ready (undefined when it is). */
  notReadyReason(): string | undefined;
  /** Stops consuming, stores and commits what was consumed, then returns. */
  close(): Promise<void>;
}

export function createProcessor<ModelRow, Row>(options: ProcessorOptions<ModelRow, Row>): Processor {
  const { consumer, metrics } = options;
  const log = options.logger.child({ component: 'processor' });
  const partitions = new Map<number, Partition<ModelRow>>();
  const starting = new Map<number, Promise<Partition<ModelRow> | undefined>>();
  // Revocations per partition: a batch that was on its way across one (waiting for its partition's
  // start, a broker round trip) belongs to the previous owner's turn and is dropped, so it neither
  // recreates the state the revocation dropped nor leads to a commit for a partition that another
  // process owns now.
  const revocations = new Map<number, number>();
  const revocationsOf = (partition: number): number => revocations.get(partition) ?? 0;
  let closed = false;
  let flushing: Promise<void> | undefined;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const feedRecords = createRecordLoop<ModelRow>({ metrics, log, maxSampleGapMs: options.maxSampleGapMs ?? 300_000 });
  const seriesLimit = options.maxSeriesPerTenant ? createTenantSeriesLimit(options.maxSeriesPerTenant, log) : undefined;
  const recountSeries = (): void => seriesLimit?.recount([...partitions.values()].map((p) => p.model));
  const writer = createRowWriter<Row>({
    sink: options.sink,
    // Closing pauses reading for good: a write that heals then must not restart it.
    consumption: {
      pause: () => consumer.pause(),
      resume: () => {
        if (!closed) consumer.resume();
      },
    },
    metrics,
    log,
    retryDelayMs: options.retryDelayMs ?? 500,
    maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
  });
  const sampleAge = createSampleAgeGauge(metrics.newestSampleAge);
  const flushOnce = createFlushStep<ModelRow, Row>({
    partitions,
    writer,
    finishRow: options.finishRow,
    deletion: options.deletion,
    commit: (commits) => consumer.commit(commits),
    rules: options.rules,
    metrics,
    log,
    now: options.now ?? Date.now,
    sampleAge,
  });

  /** The partition's state, started when needed; undefined when it was revoked meanwhile. */
  const partitionFor = async (partition: number): Promise<Partition<ModelRow> | undefined> => {
    const existing = partitions.get(partition);
    if (existing) return existing;
    let pending = starting.get(partition);
    if (!pending) {
      const turn = revocationsOf(partition);
      pending = consumer.partitionStart(partition).then((start) => {
        if (revocationsOf(partition) !== turn) return undefined;
        const state = openPartition(partition, start, options.createModel(seriesLimit?.admit), log);
        partitions.set(partition, state);
        return state;
      });
      const started = pending;
      starting.set(partition, started);
      void started.finally(() => {
        if (starting.get(partition) === started) starting.delete(partition);
      });
    }
    return pending;
  };

  const onRecords = async (partition: number, records: InboundRecord[], end: bigint): Promise<void> => {
    inFlight++;
    const turn = revocationsOf(partition);
    try {
      const state = await partitionFor(partition);
      if (!state || revocationsOf(partition) !== turn) {
        log.warn({ partition, records: records.length, from: records[0]?.offset.toString() }, 'dropping a batch of a partition revoked while it was on its way (its new owner reads it)');
        return;
      }
      feedRecords(state, records, end);
    } finally {
      if (--inFlight === 0) idle?.();
    }
  };

  const flush = (): Promise<void> => {
    // One flush at a time; a flush asked for during one runs right after it.
    const run = (flushing ?? Promise.resolve()).then(flushOnce).then(recountSeries);
    flushing = run.catch((err: unknown) => log.error({ err }, 'flush failed'));
    return run;
  };

  return {
    async start() {
      await consumer.start({
        onRecords,
        onRevoked(revoked) {
          for (const partition of revoked) {
            revocations.set(partition, revocationsOf(partition) + 1);
            const gone = partitions.get(partition);
            if (gone) sampleAge.forget(gone.clusters.values());
            partitions.delete(partition);
            starting.delete(partition);
            metrics.consumerLag.remove({ partition: String(partition) });
          }
          recountSeries();
        },
      });
      timer = setInterval(() => void flush().catch(() => undefined), options.flushIntervalMs);
      timer.unref();
    },
    flush,
    isReady() {
      return consumer.isReady() && writer.failure() === undefined;
    },
    notReadyReason() {
      const failure = writer.failure();
      if (failure) return `${failure.code}: ${failure.message}`;
      return consumer.isReady() ? undefined : 'not consuming the record log';
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      // Stop fetching, let the batch in hand finish, store and commit it, then leave the group.
      consumer.pause();
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      await flush().catch(() => undefined);
      await consumer.close();
    },
  };
}
