// Wires the receiver into an HTTP server: metrics, admission, tenant resolution, decode threads, routes.
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReceiverConfig } from './config.ts';
import type { RecordPublisher } from '../ingest/record-log.ts';
import { createLabelCap } from '../core/label-cap.ts';
import { createAdmission } from './admission.ts';
import { createClusterLimit } from './cluster-limit.ts';
import { decodeThreadsFor, startDecodePool } from './decode-pool.ts';
import { createReceiverMetrics, MAX_TENANT_LABELS } from './metrics.ts';
import { remoteWriteRoutes } from './remote-write-route.ts';
import { tenantFromCredentials } from './credentials.ts';
import { createRateLimiter } from './rate-limit.ts';
import { tenantFromHeader } from './tenant.ts';
import { openLiveTenants, type LiveTenants } from './live-tenants.ts';
import { mainThreadDecoder, type DecodeSettings } from './request-decode.ts';

export interface ReceiverHandle {
  /** Stop admitting new requests (they get 503 while the server drains). */
  beginShutdown(): void;
  /** Re-reads the tenants file (SIGHUP); on error the previous credentials stay in force. */
  reloadTenants(): void;
}

export async function registerReceiver(
  app: FastifyInstance,
  config: ReceiverConfig,
  publisher: RecordPublisher,
  registry: Registry,
  logger: Logger,
): Promise<ReceiverHandle> {
  const metrics = createReceiverMetrics(registry);
  const admission = createAdmission({ maxRequests: config.MAX_INFLIGHT_REQUESTS, maxBytes: config.MAX_INFLIGHT_BYTES, tenantShare: config.TENANT_INFLIGHT_SHARE }, (requests, bytes) => {
    metrics.inflightRequests.set(requests);
    metrics.inflightBytes.set(bytes);
  });
  let shuttingDown = false;
  // Re-read when the file changes and on SIGHUP; swapped whole, so a request sees either the old
  // or the new credentials.
  let tenants: LiveTenants | undefined;
  if (config.TENANTS_FILE) {
    tenants = openLiveTenants(config.TENANTS_FILE, logger);
    logger.info({ file: config.TENANTS_FILE, tenants: tenants.current().tenantCount }, 'authentication on: the credentials decide the tenant');
  } else {
    logger.warn({ header: config.TENANT_HEADER }, 'authentication is off: any well-formed tenant header is accepted (set TENANTS_FILE to require credentials)');
  }
  const limiter = config.TENANT_RATE_LIMIT > 0 ? createRateLimiter(config.TENANT_RATE_LIMIT, config.TENANT_RATE_BURST) : undefined;
  // With credentials only the tenants of the file can be established, so their labels are bounded
  // by it; a tenant header can name anything, so the labels are capped (later tenants are `other`).
  const headerTenantLabel = createLabelCap(MAX_TENANT_LABELS);

  const threads = decodeThreadsFor(config.DECODE_THREADS, os.availableParallelism());
  const settings: DecodeSettings = {
    maxDecodedBytes: config.MAX_DECODED_BYTES,
    records: {
      clusterLabel: config.CLUSTER_LABEL,
      maxSampleFutureMs: config.MAX_SAMPLE_FUTURE,
      maxRecordBytes: config.KAFKA_MAX_RECORD_BYTES,
      metricAllowlist: config.METRIC_ALLOWLIST,
      maxLabelsPerSeries: config.MAX_LABELS_PER_SERIES,
      maxLabelNameBytes: config.MAX_LABEL_NAME_BYTES,
      maxLabelValueBytes: config.MAX_LABEL_VALUE_BYTES,
      // Each thread that prepares records remembers the series it sees: the budget is the process's.
      seriesCacheBytes: Math.floor(config.SERIES_CACHE_BYTES / Math.max(1, threads)),
    },
  };
  const decoder = threads > 0 ? await startDecodePool({ threads, settings, log: logger, metrics }) : mainThreadDecoder(settings);
  // Fastify runs onClose once the server has answered every request in flight: none needs a worker any more.
  app.addHook('onClose', async () => decoder.close());
  logger.info({ decodeThreads: threads }, threads > 0 ? `decoding requests on ${threads} worker thread(s) (DECODE_THREADS)` : 'decoding requests on the main thread (DECODE_THREADS=0)');

  await app.register(remoteWriteRoutes, {
    records: settings.records,
    maxRequestBytes: config.MAX_REQUEST_BYTES,
    maxDecodedBytes: config.MAX_DECODED_BYTES,
    decoder,
    bodyTimeoutMs: config.BODY_TIMEOUT,
    publisher,
    admission,
    metrics,
    tenantFromRequest: (request) =>
      tenants
        ? tenantFromCredentials(tenants.current(), request.headers.authorization, request.headers[config.TENANT_HEADER], config.TENANT_HEADER)
        : tenantFromHeader(request.headers[config.TENANT_HEADER], config.TENANT_HEADER),
    rateLimit: limiter ? (tenant, samples) => limiter.take(tenant, samples, Date.now()) : undefined,
    clusterLimit: config.TENANT_MAX_CLUSTERS > 0 ? createClusterLimit(config.TENANT_MAX_CLUSTERS) : undefined,
    tenantLabel: (tenant) => (tenants ? tenant : headerTenantLabel(tenant)),
    isShuttingDown: () => shuttingDown,
  });
  return {
    beginShutdown() {
      shuttingDown = true;
      tenants?.close();
    },
    reloadTenants() {
      tenants?.reload();
    },
  };
}
