// Decode worker threads (DECODE_THREADS): the snappy + protobuf decoding, validation, grouping and
// record encoding of each request run on one of them, so one receiver process uses more than one
// core. The main thread keeps HTTP, admission, limits, metrics and publishing; a request's
// admission (its slot, its decoded size charged) is settled before it gets here.
//
// Requests waiting for a worker need no bound of their own: each holds an admission slot, so
// there are never more than MAX_INFLIGHT_REQUESTS of them, and their bytes are already charged to
// MAX_INFLIGHT_BYTES.
import { Worker } from 'node:worker_threads';
import type { Counter, Gauge } from 'prom-client';
import { errorMessage, ServiceError } from '../core/errors.ts';
import type { Log } from '../core/log.ts';
import { bodyForTransfer, failureError, unpackRecords, type DecodeJob, type WorkerMessage } from './decode-messages.ts';
import { ReceiverError } from './errors.ts';
import type { DecodedRequest, DecodeSettings, RequestDecoder } from './request-decode.ts';

export interface DecodePoolMetrics {
  decodeThreads: Gauge;
  decodeRequests: Gauge<'state'>;
  decodeWorkerRestarts: Counter;
}

export interface DecodePoolOptions {
  threads: number;
  settings: DecodeSettings;
  log: Log;
  metrics: DecodePoolMetrics;
  /** The worker's entry module (default: decode-worker next to this module). */
  entry?: URL;
}

/** Jobs one worker holds at once: one being decoded, one to start on as soon as it answers. */
const JOBS_PER_WORKER = 2;
/** A replacement that dies before it is ready is retried after a growing pause, up to this. */
const MAX_RESTART_DELAY_MS = 30_000;

interface Waiting {
  tenant: string;
  affinity: number;
  job: Omit<DecodeJob, 'body'>;
  body: Buffer;
  resolve(request: DecodedRequest): void;
  reject(err: unknown): void;
}

interface Slot {
  /** Its place among the threads, kept by its replacement. */
  index: number;
  worker: Worker;
  ready: boolean;
  jobs: Map<number, Waiting>;
  /** The uncaught error the worker died of, reported with its exit. */
  error?: unknown;
}

/**
 * The worker entry beside the current module: decode-worker.js in the compiled service,
 * decode-worker.ts when running from source (tests, benchmarks, `npm run dev`).
 */
export function decodeWorkerEntry(moduleUrl: string = import.meta.url): URL {
  return new URL(moduleUrl.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js', moduleUrl);
}

function spawnWorker(entry: URL, settings: DecodeSettings): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: settings });
  // Running from source: Node 20 does not pass a TypeScript loader on to worker threads, so the
  // worker registers tsx itself before it imports its entry.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const code = `import(${tsx}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData: settings });
}

/** The number of decode threads for DECODE_THREADS on a machine with `cores` cores. */
export function decodeThreadsFor(setting: number | 'auto', cores: number): number {
  if (setting !== 'auto') return setting;
  // As many threads as cores, not one fewer: the main thread's share of a request's work is a
  // third or less (npm start, with the processor) so it needs no core of its own, and on two cores
  // two threads took in about 1.8 times what one did (bench:receiver --embedded, medians). On one
  // core a thread would only add the hand-over.
  return cores <= 1 ? 0 : Math.min(8, cores);
}

/** Starts the workers; resolves once each is ready to decode, rejects when one cannot start. */
export async function startDecodePool(options: DecodePoolOptions): Promise<RequestDecoder> {
  const { settings, log, metrics } = options;
  const entry = options.entry ?? decodeWorkerEntry();
  const slots = new Set<Slot>();
  const queue: Waiting[] = [];
  let nextId = 1;
  let closed = false;
  /** Until every first worker is ready, a failure fails the start instead of being replaced. */
  let started = false;
  let failedStarts = 0;
  /** Replacements waiting to start, one per thread that died while starting had been failing. */
  const restarts = new Set<NodeJS.Timeout>();

  const updateGauges = () => {
    let decoding = 0;
    for (const slot of slots) decoding += slot.jobs.size;
    metrics.decodeRequests.set({ state: 'decoding' }, decoding);
    metrics.decodeRequests.set({ state: 'waiting' }, queue.length);
  };

  const pump = () => {
    while (queue.length > 0) {
      const waiting = queue[0];
      // The least busy thread; among equally busy ones, the request's own (see RequestDecoder).
      const home = waiting.affinity % options.threads;
      let best: Slot | undefined;
      for (const slot of slots) {
        if (!slot.ready || slot.jobs.size >= JOBS_PER_WORKER) continue;
        if (!best || slot.jobs.size < best.jobs.size || (slot.jobs.size === best.jobs.size && slot.index === home)) best = slot;
      }
      if (!best) break;
      queue.shift();
      const { body, transfer } = bodyForTransfer(waiting.body);
      best.jobs.set(waiting.job.id, waiting);
      best.worker.postMessage({ ...waiting.job, body } satisfies DecodeJob, transfer);
    }
    updateGauges();
  };

  const settle = (slot: Slot, message: WorkerMessage) => {
    if (message.type === 'ready') {
      slot.ready = true;
      // The HTTP server keeps the process up while it serves; an idle worker must not. (Until it
      // is ready it must: at start-up nothing else may be holding the process up yet.)
      slot.worker.unref();
      failedStarts = 0;
      return pump();
    }
    const waiting = slot.jobs.get(message.id);
    if (!waiting) return;
    slot.jobs.delete(message.id);
    if (message.type === 'decoded') {
      const { request, records } = message;
      waiting.resolve({ ...request, prepared: { ...request.prepared, records: unpackRecords(records, waiting.tenant) } });
    } else {
      waiting.reject(failureError(message.failure));
    }
    pump();
  };

  const died = (slot: Slot, exitCode: number) => {
    slots.delete(slot);
    if (closed || !started) return;
    const lost = [...slot.jobs.values()];
    const reason = slot.error === undefined ? `exit code ${exitCode}` : errorMessage(slot.error);
    for (const waiting of lost) {
      waiting.reject(new ReceiverError('internal', `the decode worker handling the request stopped (${reason}); retry`, { cause: slot.error }));
    }
    metrics.decodeWorkerRestarts.inc();
    if (!slot.ready) failedStarts++;
    const delay = failedStarts === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (failedStarts - 1));
    log.error(
      { err: slot.error, exitCode, requests: lost.length, restartInMs: delay },
      `a decode worker stopped unexpectedly (${reason}); its ${lost.length} request(s) were answered 500 and their senders retry them; a new worker replaces it. ` +
        'This is a defect: report it with this line. If it repeats, set DECODE_THREADS=0 to decode on the main thread meanwhile',
    );
    if (delay === 0) add(slot.index);
    else {
      const timer = setTimeout(() => {
        restarts.delete(timer);
        add(slot.index);
      }, delay).unref();
      restarts.add(timer);
    }
    if (workerless()) for (const waiting of queue.splice(0)) waiting.reject(noWorker());
    pump();
  };

  // While replacements keep failing to start, requests are answered at once rather than held
  // until the next attempt (the senders retry them).
  const workerless = () => restarts.size > 0 && ![...slots].some((slot) => slot.ready);
  const noWorker = () => new ReceiverError('internal', 'no decode worker is running (see the log); retry');

  const add = (index: number): Slot => {
    const slot: Slot = { index, worker: spawnWorker(entry, settings), ready: false, jobs: new Map() };
    slots.add(slot);
    slot.worker.on('message', (message: WorkerMessage) => settle(slot, message));
    slot.worker.on('error', (err) => (slot.error = err));
    slot.worker.once('exit', (code) => died(slot, code));
    return slot;
  };

  const close = async () => {
    closed = true;
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    const stopping = new ReceiverError('shutting-down');
    for (const waiting of queue.splice(0)) waiting.reject(stopping);
    const workers = [...slots];
    for (const slot of workers) for (const waiting of slot.jobs.values()) waiting.reject(stopping);
    await Promise.all(workers.map((slot) => slot.worker.terminate()));
    updateGauges();
  };

  const first = Array.from({ length: options.threads }, (_, index) => add(index));
  try {
    await Promise.all(first.map((slot) => readiness(slot.worker)));
  } catch (err) {
    await close();
    throw new ServiceError('decode-threads', `the decode worker threads could not start (set DECODE_THREADS=0 to decode on the main thread): ${errorMessage(err)}`, { cause: err });
  }
  started = true;
  metrics.decodeThreads.set(options.threads);
  updateGauges();

  return {
    decode(body, contentType, tenant, now, affinity = 0) {
      if (closed) return Promise.reject(new ReceiverError('shutting-down'));
      if (workerless()) return Promise.reject(noWorker());
      return new Promise<DecodedRequest>((resolve, reject) => {
        queue.push({ tenant, affinity, job: { id: nextId++, contentType, tenant, now }, body, resolve, reject });
        pump();
      });
    },
    close,
  };
}

/** Resolves on the worker's first 'ready', rejects when it fails or exits before. */
function readiness(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if (message.type !== 'ready') return;
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`the worker exited with code ${code} before it was ready`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}
