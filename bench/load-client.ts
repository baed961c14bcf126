// A light remote-write load generator: pre-encoded bodies sent over N keep-alive connections with
// node:http (one request in flight per connection, like a Prometheus queue shard), with the
// latency of every request and the samples of every 2xx answer counted.
import http from 'node:http';

export interface LoadBody {
  /** The snappy-compressed protobuf, as it goes on the wire. */
  readonly body: Buffer;
  readonly tenant: string;
  readonly samples: number;
  readonly contentType: string;
  /**
   * Bodies of the same stream carry the same series (later scrapes): one is never sent before the
   * previous one of its stream was answered, so every series' samples arrive in time order, as
   * Prometheus guarantees by sharding its queue by series (receivers with a TSDB refuse
   * out-of-order samples).
   */
  readonly stream: number;
}

export interface LoadTarget {
  /** Full URL of the write endpoint, e.g. http://127.0.0.1:9201/api/v1/write */
  readonly writeUrl: string;
  /** Header naming the tenant (sent with every request; receivers that do not use it ignore it). */
  readonly tenantHeader: string;
}

export interface PhaseOptions {
  concurrency: number;
  /** Index of the first body to send; bodies are taken in order (wrapping around at the end). */
  startIndex: number;
  /** Stop sending once this many samples were sent ... */
  maxSamples: number;
  /** ... or once this much time has passed, whichever comes first. */
  maxSeconds: number;
  /** Per-request timeout. */
  timeoutMs?: number;
}

export interface PhaseResult {
  requests: number;
  /** 2xx answers and the samples they carried: the only ones counted as throughput. */
  okRequests: number;
  okSamples: number;
  /** Answers by status ("error" for a request that got no answer). */
  statuses: Record<string, number>;
  /** The first few non-2xx answers (status and body) or errors. */
  failures: string[];
  /** From the first request sent to the last answer received. */
  seconds: number;
  /** Latency of every 2xx answer, milliseconds, sorted. */
  latenciesMs: Float64Array;
  /** Index of the body after the last one sent. */
  nextIndex: number;
  /** Some bodies were sent twice in this phase or an earlier one (the index wrapped around). */
  wrapped: boolean;
}

export class LoadClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(
    private readonly target: LoadTarget,
    private readonly bodies: readonly LoadBody[],
    concurrency: number,
  ) {
    this.url = new URL(target.writeUrl);
    // Exactly `concurrency` sockets kept open between requests and between phases.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  }

  close(): void {
    this.agent.destroy();
  }

  private send(b: LoadBody, timeoutMs: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve) => {
      const req = http.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path: this.url.pathname,
          method: 'POST',
          headers: {
            'content-type': b.contentType,
            'content-encoding': 'snappy',
            'x-prometheus-remote-write-version': '0.1.0',
            'user-agent': 'k8s-expenses-bench/1',
            'content-length': b.body.length,
            [this.target.tenantHeader]: b.tenant,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.resume();
            res.once('end', () => resolve({ status, text: '' }));
          } else {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              if (text.length < 500) text += c;
            });
            res.once('end', () => resolve({ status, text }));
          }
          res.once('error', (err) => resolve({ status: 0, text: err.message }));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.once('error', (err) => resolve({ status: 0, text: err.message }));
      req.end(b.body);
    });
  }

  /** Sends bodies with `concurrency` requests in flight until a bound is reached and every answer is in. */
  async run(options: PhaseOptions): Promise<PhaseResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const failures: string[] = [];
    let index = options.startIndex;
    let wrapped = index >= this.bodies.length;
    let sentSamples = 0;
    let requests = 0;
    let okRequests = 0;
    let okSamples = 0;
    const started = performance.now();
    const deadline = started + options.maxSeconds * 1000;
    let lastAnswer = started;
    const inFlight = new Map<number, Promise<void>>();

    const worker = async (): Promise<void> => {
      while (sentSamples < options.maxSamples && performance.now() < deadline) {
        if (index >= this.bodies.length) wrapped = true;
        const b = this.bodies[index % this.bodies.length];
        index++;
        sentSamples += b.samples;
        requests++;
        // Queue behind the previous body of this stream (a chain: later ones queue behind this one).
        const previous = inFlight.get(b.stream);
        let answered!: () => void;
        const mine = new Promise<void>((resolve) => (answered = resolve));
        inFlight.set(b.stream, mine);
        if (previous) await previous;
        const t0 = performance.now();
        const { status, text } = await this.send(b, timeoutMs);
        const t1 = performance.now();
        answered();
        if (inFlight.get(b.stream) === mine) inFlight.delete(b.stream);
        lastAnswer = t1;
        const key = status === 0 ? 'error' : String(status);
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (status >= 200 && status < 300) {
          okRequests++;
          okSamples += b.samples;
          latencies.push(t1 - t0);
        } else if (failures.length < 5) {
          failures.push(`${key}: ${text.trim().slice(0, 300)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return {
      requests,
      okRequests,
      okSamples,
      statuses,
      failures,
      seconds: (lastAnswer - started) / 1000,
      latenciesMs: Float64Array.from(latencies).sort(),
      nextIndex: index,
      wrapped,
    };
  }
}

/** The q-quantile (0..1) of sorted values, nearest-rank; NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}
