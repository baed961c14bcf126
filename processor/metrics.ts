// The processor's Prometheus metrics. The newest-sample age per cluster is what to alert on when a
// cluster stops sending: the system this replaces reported $0.00 instead.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createProcessorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    records: new Counter({ name: 'k8s_expenses_processor_records_total', help: 'Records consumed', registers }),
    poisonRecords: new Counter({
      name: 'k8s_expenses_processor_poison_records_total',
      help: 'Records skipped because they could not be decoded, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    samples: new Counter({
      name: 'k8s_expenses_processor_samples_total',
      help: 'Samples consumed, by result: accepted, duplicate, ignored (not a cost series), invalid, too_late (past LATE_WINDOW), over_limit (of a new series over TENANT_MAX_SERIES)',
      labelNames: ['result'] as const,
      registers,
    }),
    seriesDropped: new Counter({
      name: 'k8s_expenses_processor_series_dropped_total',
      help: 'New series dropped, by reason: tenant_max_series (the tenant holds TENANT_MAX_SERIES active series); counted each time a record brings one',
      labelNames: ['reason'] as const,
      registers,
    }),
    rowsWritten: new Counter({
      name: 'k8s_expenses_processor_rows_written_total',
      help: 'k8s_expenses rows written, by finality',
      labelNames: ['final'] as const,
      registers,
    }),
    rowsDeleted: new Counter({
      name: 'k8s_expenses_processor_rows_deleted_total',
      help: 'Deletion rows written: keys a rewrite of their hour no longer has (e.g. an __unmounted__ row taken over by its pod)',
      registers,
    }),
    rowsDropped: new Counter({
      name: 'k8s_expenses_processor_rows_dropped_total',
      help: 'Computed rows not written, by reason: non_finite (a number that is not finite; logged once per cluster and hour)',
      labelNames: ['reason'] as const,
      registers,
    }),
    writeFailures: new Counter({
      name: 'k8s_expenses_processor_write_failures_total',
      help: 'Failed ClickHouse writes, by error code (README, Operations); every one is retried, nothing is committed meanwhile',
      labelNames: ['code'] as const,
      registers,
    }),
    flushDuration: new Histogram({
      name: 'k8s_expenses_processor_flush_duration_seconds',
      help: 'Time to compute, store and commit one flush',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'k8s_expenses_processor_consumer_lag_records',
      help: 'Records in the partition not yet consumed',
      labelNames: ['partition'] as const,
      registers,
    }),
    openHours: new Gauge({ name: 'k8s_expenses_processor_open_hours', help: 'Hours held in state (open or within their late window)', registers }),
    stateBytes: new Gauge({ name: 'k8s_expenses_processor_state_bytes', help: 'Estimated bytes of cost-model state', registers }),
    newestSampleAge: new Gauge({
      name: 'k8s_expenses_processor_newest_sample_age_seconds',
      help: 'Age of the newest sample seen per tenant and cluster; alert when it grows (a cluster stopped sending). Past 500 clusters in one process, the others are tenant="other", cluster="other" (their largest age)',
      labelNames: ['tenant', 'cluster'] as const,
      registers,
    }),
  };
}

export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>;
