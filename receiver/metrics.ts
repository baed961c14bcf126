// The receiver's Prometheus metrics. Failures are counted with a reason label, one counter per kind.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Tenants named by a header (authentication off) that keep their own `tenant` label; later ones are
 * counted under tenant="other", so invented tenant headers cannot grow /metrics without bound.
 */
export const MAX_TENANT_LABELS = 100;

export function createReceiverMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'k8s_expenses_receiver_requests_total',
      help: 'Remote-write requests answered, by HTTP status and tenant (empty when the tenant was not established)',
      labelNames: ['status', 'tenant'] as const,
      registers,
    }),
    rejectedRequests: new Counter({
      name: 'k8s_expenses_receiver_requests_rejected_total',
      help: 'Remote-write requests refused, by reason (the error code)',
      labelNames: ['reason'] as const,
      registers,
    }),
    samplesReceived: new Counter({
      name: 'k8s_expenses_receiver_samples_received_total',
      help: 'Float samples decoded from requests, by tenant',
      labelNames: ['tenant'] as const,
      registers,
    }),
    samplesPublished: new Counter({
      name: 'k8s_expenses_receiver_samples_published_total',
      help: 'Samples acknowledged by the record log, by tenant',
      labelNames: ['tenant'] as const,
      registers,
    }),
    samplesRejected: new Counter({
      name: 'k8s_expenses_receiver_samples_rejected_total',
      help: 'Samples not published, by tenant and reason',
      labelNames: ['tenant', 'reason'] as const,
      registers,
    }),
    samplesIgnored: new Counter({
      name: 'k8s_expenses_receiver_samples_ignored_total',
      help: 'Samples accepted but deliberately not forwarded (native histograms, exemplars, metrics outside the allowlist), by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    seriesCacheLookups: new Counter({
      name: 'k8s_expenses_receiver_series_cache_lookups_total',
      help: 'Series of valid requests looked up among the series remembered from earlier requests, by result (hit: labels not checked again; miss: checked and remembered)',
      labelNames: ['result'] as const,
      registers,
    }),
    seriesCacheResets: new Counter({
      name: 'k8s_expenses_receiver_series_cache_resets_total',
      help: 'Times the remembered series were forgotten because they filled SERIES_CACHE_BYTES (often: raise it)',
      registers,
    }),
    requestDuration: new Histogram({
      name: 'k8s_expenses_receiver_request_duration_seconds',
      help: 'Time from request start to answer',
      labelNames: ['status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    decodeDuration: new Histogram({
      name: 'k8s_expenses_receiver_decode_duration_seconds',
      help: 'Time from a complete body to its records, waiting for a decode thread included',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    publishDuration: new Histogram({
      name: 'k8s_expenses_receiver_publish_duration_seconds',
      help: 'Time waiting for the record log (Kafka) to acknowledge a request\'s records',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inflightRequests: new Gauge({
      name: 'k8s_expenses_receiver_inflight_requests',
      help: 'Remote-write requests being processed (their body has arrived)',
      registers,
    }),
    inflightBytes: new Gauge({
      name: 'k8s_expenses_receiver_inflight_bytes',
      help: 'Body bytes received so far plus decompressed bytes held by in-flight requests',
      registers,
    }),
    decodeThreads: new Gauge({
      name: 'k8s_expenses_receiver_decode_threads',
      help: 'Worker threads decoding requests (DECODE_THREADS; 0: requests are decoded on the main thread)',
      registers,
    }),
    decodeRequests: new Gauge({
      name: 'k8s_expenses_receiver_decode_requests',
      help: 'Requests on the decode worker threads: state="decoding" sent to a worker, state="waiting" waiting for one',
      labelNames: ['state'] as const,
      registers,
    }),
    decodeWorkerRestarts: new Counter({
      name: 'k8s_expenses_receiver_decode_worker_restarts_total',
      help: 'Decode worker threads that stopped unexpectedly and were replaced (a defect; the requests they held were answered 500, and their senders retry them)',
      registers,
    }),
  };
}

export type ReceiverMetrics = ReturnType<typeof createReceiverMetrics>;
