// The receiver's configuration slice: tenants, limits and what is forwarded.
import { z } from 'zod';
import { duration, identifier, int, optionalText, size, type ConfigOf } from '../core/config-fields.ts';

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'expected an HTTP header name' })
  .default('Cloud-Account-Id')
  .transform((v) => v.toLowerCase());

const regex = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    try {
      // Anchored like Prometheus relabel regexes: the whole metric name must match.
      return new RegExp(`^(?:${v})$`);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `expected a regular expression: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

const threads = z
  .string()
  .default('auto')
  .transform((v, ctx) => {
    if (v.trim().toLowerCase() === 'auto') return 'auto' as const;
    const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n > 64) {
      ctx.addIssue({ code: 'custom', message: 'expected auto or a number of threads from 0 to 64' });
      return z.NEVER;
    }
    return n;
  });

export const receiverConfigShape = {
  TENANT_HEADER: headerName.describe('Header naming the tenant (of remote write, and of reads) when no tenants file is configured'),
  TENANTS_FILE: optionalText.describe('JSON file of tenants and their write and read credential hashes; when set every request (remote write, allocation API) must authenticate'),
  CLUSTER_LABEL: identifier('cluster_id', 'a Prometheus label name').describe('Series label naming the cluster (series without it belong to cluster "default")'),

  MAX_REQUEST_BYTES: size('16MiB').describe('Largest compressed request body (413 above)'),
  MAX_DECODED_BYTES: size('64MiB').describe('Largest decompressed request, checked from the snappy header before allocating (413 above)'),
  MAX_LABELS_PER_SERIES: int(40, 1, 1000).describe('Labels per series (the series is rejected above)'),
  MAX_LABEL_NAME_BYTES: int(1024, 1, 65_536).describe('Longest label name in bytes'),
  MAX_LABEL_VALUE_BYTES: int(4096, 1, 1_048_576).describe('Longest label value in bytes'),
  MAX_SAMPLE_FUTURE: duration('10m').describe('Samples further in the future than this are rejected'),
  MAX_INFLIGHT_REQUESTS: int(64, 1, 100_000).describe('Requests processed at once (once their body has arrived); more answer 503 with Retry-After'),
  MAX_INFLIGHT_BYTES: size('128MiB').describe('Body bytes as they arrive plus decompressed bytes held by in-flight requests; more answer 503 with Retry-After'),
  TENANT_INFLIGHT_SHARE: z.coerce
    .number({ message: 'expected a number' })
    .gt(0, { message: 'expected a fraction above 0' })
    .max(1, { message: 'expected a fraction of at most 1' })
    .default(0.5)
    .describe('Share of MAX_INFLIGHT_REQUESTS and MAX_INFLIGHT_BYTES one tenant may hold, so one tenant cannot starve the others (1 = no per-tenant bound)'),
  BODY_TIMEOUT: duration('30s')
    .refine((ms) => ms > 0, { message: 'expected a duration above 0' })
    .describe('Longest a request body may take to arrive; a slower one ends with 503 and Retry-After (the sender retries it)'),
  TENANT_MAX_CLUSTERS: int(0, 0, 1_000_000).describe('Distinct clusters per tenant this process accepts, 0 = off (series of further clusters answer 400 too-many-clusters)'),
  TENANT_RATE_LIMIT: z.coerce.number().min(0).default(0).describe('Samples per second per tenant, 0 = off (429 with Retry-After above)'),
  TENANT_RATE_BURST: z.coerce.number().min(0).default(0).describe('Burst of the per-tenant rate limit in samples (0: 10 x the rate)'),
  SERIES_CACHE_BYTES: size('128MiB').describe('Memory for the series remembered between requests (their labels checked once, not in every request); per process, shared by the decode threads; emptied when full, 0 = off'),
  DECODE_THREADS: threads.describe(
    'Worker threads that decode requests and encode their records, so one process uses more than one core; auto = one per core, at most 8 (0 on one core); 0 = on the main thread',
  ),
  METRIC_ALLOWLIST: regex.describe('Regex of metric names forwarded to Kafka (unset: all)'),
};

export type ReceiverConfig = ConfigOf<typeof receiverConfigShape> & {
  /** Largest record value (ingest's KAFKA_MAX_RECORD_BYTES): bigger requests are split. */
  readonly KAFKA_MAX_RECORD_BYTES: number;
};
