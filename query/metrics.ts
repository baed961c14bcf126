// The read side's Prometheus metrics. Labels are bounded: the endpoint (allocation, sql), the HTTP
// status, and the refusal's code from the registry (query/errors.ts).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ReadEndpoint = 'allocation' | 'sql';

export function createQueryMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'k8s_expenses_query_requests_total',
      help: 'Read requests answered, by endpoint (allocation, sql) and HTTP status',
      labelNames: ['endpoint', 'status'] as const,
      registers,
    }),
    refused: new Counter({
      name: 'k8s_expenses_query_refused_total',
      help: 'Read requests refused or failed, by endpoint and reason (the error code: query-timeout, memory-limit, too-many-queries, ...)',
      labelNames: ['endpoint', 'reason'] as const,
      registers,
    }),
    running: new Gauge({
      name: 'k8s_expenses_query_running',
      help: 'Reads running in ClickHouse now (at most QUERY_CONCURRENCY), including stopped ones the engine has not let go of yet',
      registers,
    }),
    duration: new Histogram({
      name: 'k8s_expenses_query_duration_seconds',
      help: 'Time a read spent in ClickHouse, by endpoint',
      labelNames: ['endpoint'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
  };
}

export type QueryMetrics = ReturnType<typeof createQueryMetrics>;
