// The remote-write endpoint: a thin handler that resolves the tenant, admits the request, decodes
// it, prepares the records and waits for the record log to acknowledge them.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from '../core/errors.ts';
import { createLogLimiter } from '../core/log-limiter.ts';
import { PublishError, type RecordPublisher } from '../ingest/record-log.ts';
import type { Admission, Ticket } from './admission.ts';
import { readBody } from './body-reader.ts';
import { clusterNames, keepAdmittedClusters, type ClusterLimit } from './cluster-limit.ts';
import type { RecordOptions } from './cluster-records.ts';
import { remoteWriteVersion, snappyDecodedLength } from './decode/index.ts';
import { classifyError, ReceiverError } from './errors.ts';
import type { ReceiverMetrics } from './metrics.ts';
import { mainThreadDecoder, type RequestDecoder } from './request-decode.ts';

export const REMOTE_WRITE_PATHS = ['/api/v1/write', '/api/v1/receive', '/api/v1/push'] as const;

export interface RemoteWriteOptions {
  records: RecordOptions;
  maxRequestBytes: number;
  maxDecodedBytes: number;
  /** Longest a body may take to arrive (BODY_TIMEOUT). */
  bodyTimeoutMs: number;
  publisher: RecordPublisher;
  admission: Admission;
  metrics: ReceiverMetrics;
  /** Establishes the tenant from the request (header or credentials); throws a ReceiverError. */
  tenantFromRequest(request: FastifyRequest): string;
  /** Optional per-tenant rate limit: returns seconds to wait when over the limit. */
  rateLimit?(tenant: string, samples: number): number | undefined;
  /** Optional bound on the distinct clusters per tenant (TENANT_MAX_CLUSTERS). */
  clusterLimit?: ClusterLimit;
  /** The tenant label of the per-tenant metrics, bounded whatever the traffic (default: the tenant). */
  tenantLabel?(tenant: string): string;
  isShuttingDown(): boolean;
  now?(): number;
  /** Where requests are decoded and their records prepared (default: on the main thread). */
  decoder?: RequestDecoder;
}

interface WriteState {
  tenant?: string;
  ticket?: Ticket;
  /** The handler is working on the body (its memory is still in use). */
  handling?: boolean;
  /** The connection closed: answered, or the client went away before the answer. */
  closed?: boolean;
  version?: 1 | 2;
  written: { samples: number; histograms: number; exemplars: number };
  started: bigint;
}

declare module 'fastify' {
  interface FastifyRequest {
    remoteWrite?: WriteState;
  }
}

const ACCEPTED_ENCODINGS = new Set(['snappy', '']);

export async function remoteWriteRoutes(app: FastifyInstance, options: RemoteWriteOptions): Promise<void> {
  const { metrics, publisher, admission } = options;
  const now = options.now ?? Date.now;
  const tenantLabel = options.tenantLabel ?? ((tenant: string) => tenant);
  const decoder = options.decoder ?? mainThreadDecoder({ maxDecodedBytes: options.maxDecodedBytes, records: options.records });

  // Every body is read as raw bytes, under the body deadline, its bytes charged as they arrive;
  // the handler decides whether the media type is supported.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', async (request: FastifyRequest, payload: NodeJS.ReadableStream) => {
    const ticket = request.remoteWrite!.ticket!;
    return readBody(payload as Readable, { maxBytes: options.maxRequestBytes, timeoutMs: options.bodyTimeoutMs, charge: (bytes) => ticket.grow(bytes) });
  });

  // Cheap checks before the body is read: shutdown, tenant, encoding, declared size. Nothing is
  // reserved yet: the processing slot is taken once the body is complete.
  app.addHook('onRequest', async (request, reply) => {
    const state: WriteState = { written: { samples: 0, histograms: 0, exemplars: 0 }, started: process.hrtime.bigint() };
    request.remoteWrite = state;
    // The same Content-Type parsing as the decoder (case-insensitive, quoted values), so a 2.0
    // request refused before decoding still gets the written-count headers; an unsupported type
    // is answered 415 later, by the decoder.
    try {
      state.version = remoteWriteVersion(request.headers['content-type']);
    } catch {
      state.version = 1;
    }
    if (options.isShuttingDown()) throw new ReceiverError('shutting-down');
    state.tenant = options.tenantFromRequest(request);
    const encoding = String(request.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (!ACCEPTED_ENCODINGS.has(encoding)) throw new ReceiverError('unsupported-encoding', `"${encoding}"; remote write uses snappy block compression`);
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > options.maxRequestBytes)
      throw new ReceiverError('body-too-large', `${declared} bytes declared, the limit is ${options.maxRequestBytes} (MAX_REQUEST_BYTES)`);
    const ticket = admission.open(state.tenant);
    state.ticket = ticket;
    // Fastify runs onResponse only for answers it could write: when the client goes away first (a
    // sender's timeout, a dropped connection) its bytes and slot would never come back and, after
    // enough such requests, every request would get 503. The response's 'close' comes in every
    // case; the ticket is released then, or when the handler has let go of the body if it is still
    // working on it.
    reply.raw.once('close', () => {
      state.closed = true;
      if (!state.handling) ticket.release();
    });
    // Checked, not reserved: a body that cannot fit now is refused before it is sent, while a
    // sender that declares much and sends little holds only what it sent.
    if (Number.isFinite(declared) && !ticket.fits(declared)) {
      throw new ReceiverError('saturated', `${admission.bytes} bytes in flight, no room for ${declared} more`);
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const state = request.remoteWrite;
    state?.ticket?.release();
    const status = String(reply.statusCode);
    metrics.requests.inc({ status, tenant: state?.tenant === undefined ? '' : tenantLabel(state.tenant) });
    if (state) metrics.requestDuration.observe({ status }, Number(process.hrtime.bigint() - state.started) / 1e9);
  });

  // A misconfigured cluster retries every few seconds: one line per refusal would bury everything
  // else, so each (code, sender address) gets a line a minute, which says how many it stands for.
  const refusals = createLogLimiter({ now });
  app.setErrorHandler(async (err, request, reply) => {
    const failure = classifyError(err);
    metrics.rejectedRequests.inc({ reason: failure.code });
    const address = request.ip;
    const decision = refusals.allow(`${failure.code} ${address}`);
    if (decision.allowed) {
      const fields = {
        code: failure.code,
        status: failure.status,
        address,
        userAgent: request.headers['user-agent'],
        tenant: request.remoteWrite?.tenant,
        suppressed: decision.suppressed,
        // The stack of what failed underneath: a defect's own, or the record log's error.
        err: failure.status >= 500 ? failure.cause : undefined,
      };
      const level = failure.code === 'internal' ? 'error' : failure.status >= 500 ? 'warn' : 'info';
      request.log[level](fields, failure.code === 'internal' ? `unexpected error: ${errorMessage(err)}` : failure.message);
    }
    // Refused before its body was complete: the rest is not read, so the connection cannot carry
    // another request; closing it also ends a stalled sender's hold on its socket.
    if (!request.raw.complete) reply.header('connection', 'close');
    return answer(reply, request.remoteWrite, failure.status, `${failure.message} (${failure.code})\n`, failure.retryAfterSeconds);
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const state = request.remoteWrite!;
    state.handling = true;
    try {
      return await handle(request, reply);
    } finally {
      state.handling = false;
      if (state.closed) state.ticket?.release();
    }
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const state = request.remoteWrite!;
    const tenant = state.tenant!;
    const label = tenantLabel(tenant);
    const body = request.body as Buffer | undefined;
    if (!body || body.length === 0) throw new ReceiverError('corrupt-snappy', 'the body is empty');
    // Gone between its last byte and now: its ticket is already released.
    if (state.closed) throw new ReceiverError('client-aborted', 'the connection closed before the request was handled');
    if (!state.ticket!.takeSlot()) throw new ReceiverError('saturated', `${admission.requests} requests being processed`);

    const decodedLength = snappyDecodedLength(body);
    if (decodedLength > options.maxDecodedBytes)
      throw new ReceiverError('decoded-too-large', `${decodedLength} bytes declared, the limit is ${options.maxDecodedBytes} (MAX_DECODED_BYTES)`);
    if (!state.ticket!.grow(decodedLength)) throw new ReceiverError('saturated', `${admission.bytes} bytes in flight`);

    // After this the body may be gone (transferred to a decode worker).
    const decodeStart = process.hrtime.bigint();
    const decoded = await decoder.decode(body, request.headers['content-type'], tenant, now(), connectionNumber(request.raw.socket));
    metrics.decodeDuration.observe(Number(process.hrtime.bigint() - decodeStart) / 1e9);
    state.version = decoded.version;
    metrics.samplesReceived.inc({ tenant: label }, decoded.totalSamples);

    const { prepared } = decoded;
    const refusedClusters = options.clusterLimit ? keepAdmittedClusters(prepared, options.clusterLimit.admit(tenant, clusterNames(prepared.records))) : [];
    if (prepared.seriesRemembered) metrics.seriesCacheLookups.inc({ result: 'hit' }, prepared.seriesRemembered);
    if (prepared.seriesLearned) metrics.seriesCacheLookups.inc({ result: 'miss' }, prepared.seriesLearned);
    if (prepared.seriesCacheReset) metrics.seriesCacheResets.inc();
    for (const [reason, n] of prepared.samplesRejected) metrics.samplesRejected.inc({ tenant: label, reason }, n);
    if (prepared.samplesFiltered) metrics.samplesIgnored.inc({ reason: 'not_allowlisted' }, prepared.samplesFiltered);
    if (decoded.histogramCount) metrics.samplesIgnored.inc({ reason: 'native_histogram' }, decoded.histogramCount);
    if (decoded.exemplarCount) metrics.samplesIgnored.inc({ reason: 'exemplar' }, decoded.exemplarCount);

    const wait = options.rateLimit?.(tenant, prepared.samplesAccepted);
    if (wait !== undefined) {
      metrics.samplesRejected.inc({ tenant: label, reason: 'rate_limited' }, prepared.samplesAccepted);
      throw new ReceiverError('rate-limited', `retry in ${wait}s`, { retryAfterSeconds: wait });
    }

    const publishStart = process.hrtime.bigint();
    try {
      if (prepared.records.length > 0) await publisher.publish(prepared.records);
    } catch (err) {
      // classifyError turns the failure into the answer; here only the samples are counted.
      metrics.samplesRejected.inc({ tenant: label, reason: err instanceof PublishError ? 'log_unavailable' : 'internal' }, prepared.samplesAccepted);
      throw err;
    } finally {
      metrics.publishDuration.observe(Number(process.hrtime.bigint() - publishStart) / 1e9);
    }
    metrics.samplesPublished.inc({ tenant: label }, prepared.samplesAccepted);
    // Histograms, exemplars and series outside the allowlist are dropped on purpose, not lost: they
    // count as written, or a 2.0 sender would take the answer for a receiver that failed them.
    state.written = { samples: prepared.samplesAccepted + prepared.samplesFiltered, histograms: decoded.histogramCount, exemplars: decoded.exemplarCount };

    if (refusedClusters.length > 0) {
      const shown = refusedClusters.slice(0, 5).map((c) => `"${c}"`).join(', ');
      throw new ReceiverError('too-many-clusters', `${refusedClusters.length} new cluster(s) refused: ${shown}`);
    }
    if (prepared.invalidSeries > 0) {
      const first = prepared.problems.map((p) => `${p.reason}: ${p.detail}`).join('; ');
      throw new ReceiverError('invalid-series', `${prepared.invalidSeries} of ${decoded.seriesCount} series dropped; first: ${first}`);
    }
    return answer(reply, state, 204);
  };

  for (const path of REMOTE_WRITE_PATHS) app.post(path, handler);
}

/**
 * A number per connection, in the order they opened. A Prometheus shard keeps its connection and
 * sends the same series on it every scrape, so decoding a connection's requests on one thread
 * lets that thread's series cache hold that shard's series alone.
 */
const connectionNumbers = new WeakMap<object, number>();
let connections = 0;
function connectionNumber(socket: object): number {
  let n = connectionNumbers.get(socket);
  if (n === undefined) {
    n = connections++ & 0x3fffffff;
    connectionNumbers.set(socket, n);
  }
  return n;
}

/** Sends the answer; a 2.0 request gets the written counts on every answer, errors included. */
function answer(reply: FastifyReply, state: WriteState | undefined, status: number, body?: string, retryAfter?: number): FastifyReply {
  reply.code(status);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="k8s-expenses", Basic realm="k8s-expenses"');
  if (state?.version === 2) {
    reply.header('x-prometheus-remote-write-samples-written', String(state.written.samples));
    reply.header('x-prometheus-remote-write-histograms-written', String(state.written.histograms));
    reply.header('x-prometheus-remote-write-exemplars-written', String(state.written.exemplars));
  }
  if (body === undefined) return reply.send();
  return reply.type('text/plain; charset=utf-8').send(body);
}
