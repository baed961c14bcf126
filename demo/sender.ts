// The demo sender: what a cluster's Prometheus does, in a few lines. Every interval it scrapes the
// exporter, labels the samples like a scrape with `honor_labels: true` (the exporter's labels win
// over job/instance; external labels such as cluster_id are added where absent), adds `up`, and
// remote-writes them to the service under the demo tenant: a tenant header, or a bearer token when
// the service runs with a tenants file.
import { parseExposition } from './exposition.ts';
import { encodeWriteRequest, sendWithRetry, sleep, type WriteSeries } from './remote-write.ts';

export interface SenderOptions {
  /** The exporter's metrics URL, e.g. http://127.0.0.1:9003/metrics */
  scrapeUrl: string;
  /** The receiver's write URL, e.g. http://127.0.0.1:9201/api/v1/write */
  writeUrl: string;
  /** Scrape interval (default 15 s). */
  intervalMs?: number;
  /** Longest a scrape may take (default: the interval, at most 10 s, as Prometheus' scrape_timeout). */
  scrapeTimeoutMs?: number;
  /** The tenant, sent in `tenantHeader` when no token is given (default demo). */
  tenant?: string;
  /** Default Cloud-Account-Id (the service's TENANT_HEADER). */
  tenantHeader?: string;
  /** A bearer token from the tenants file: sent instead of the tenant header. */
  token?: string;
  /** Default { cluster_id: 'demo-cluster' }. */
  externalLabels?: Record<string, string>;
  /** Default kubecost. */
  job?: string;
  /** Samples per request (Prometheus' max_samples_per_send, default 2000). */
  maxSamplesPerSend?: number;
  /** One line per scrape and per problem (default: stdout). */
  log?: (line: string) => void;
  now?: () => number;
}

export interface ScrapeReport {
  /** Samples in the exposition (0 when the scrape failed). */
  scraped: number;
  /** Samples accepted by the receiver, `up` included. */
  sent: number;
  /** Samples in batches the receiver refused (4xx) or that were abandoned at stop. */
  dropped: number;
  requests: number;
  /** Statuses of the final answers, e.g. [204]. */
  statuses: number[];
  scrapeError?: string;
}

export interface Sender {
  /** Scrapes and sends once (the loop does this every interval). */
  scrapeOnce(): Promise<ScrapeReport>;
  readonly totals: { scrapes: number; sent: number; dropped: number; failedScrapes: number };
  /** Stops the loop; a send in progress stops retrying. */
  stop(): Promise<void>;
}

export const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;

/** The samples of one scrape as remote-write series, labelled as Prometheus would label them. */
export function scrapeToSeries(
  text: string,
  target: { job: string; instance: string },
  externalLabels: Readonly<Record<string, string>>,
  scrapeMs: number,
): WriteSeries[] {
  const { samples } = parseExposition(text);
  const out: WriteSeries[] = [];
  for (const s of samples) {
    // honor_labels: true: the exposition's labels win; the target's fill in what is missing.
    const labels: Record<string, string> = { job: target.job, instance: target.instance, ...s.labels, __name__: s.name };
    for (const [k, v] of Object.entries(externalLabels)) if (labels[k] === undefined || labels[k] === '') labels[k] = v;
    out.push({ labels, samples: [{ t: s.timestampMs ?? scrapeMs, v: s.value }] });
  }
  return out;
}

function upSeries(target: { job: string; instance: string }, externalLabels: Readonly<Record<string, string>>, scrapeMs: number, up: boolean): WriteSeries {
  return { labels: { ...externalLabels, job: target.job, instance: target.instance, __name__: 'up' }, samples: [{ t: scrapeMs, v: up ? 1 : 0 }] };
}

export function startSender(options: SenderOptions): Sender {
  const intervalMs = options.intervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
  const scrapeTimeoutMs = options.scrapeTimeoutMs ?? Math.min(intervalMs, 10_000);
  const tenant = options.tenant ?? 'demo';
  const external = options.externalLabels ?? { cluster_id: 'demo-cluster' };
  const target = { job: options.job ?? 'kubecost', instance: new URL(options.scrapeUrl).host };
  const perSend = options.maxSamplesPerSend ?? 2000;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : { [options.tenantHeader ?? 'Cloud-Account-Id']: tenant };
  const who = options.token ? 'with the bearer token' : `as tenant ${tenant}`;
  const stopping = new AbortController();
  const totals = { scrapes: 0, sent: 0, dropped: 0, failedScrapes: 0 };

  async function scrape(scrapeMs: number): Promise<{ series: WriteSeries[]; scraped: number; error?: string }> {
    try {
      const res = await fetch(options.scrapeUrl, { signal: AbortSignal.timeout(scrapeTimeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const series = scrapeToSeries(await res.text(), target, external, scrapeMs);
      return { series: [...series, upSeries(target, external, scrapeMs, true)], scraped: series.length };
    } catch (err) {
      return { series: [upSeries(target, external, scrapeMs, false)], scraped: 0, error: (err as Error).message };
    }
  }

  async function scrapeOnce(): Promise<ScrapeReport> {
    const scrapeMs = now();
    const { series, scraped, error } = await scrape(scrapeMs);
    totals.scrapes++;
    if (error !== undefined) {
      totals.failedScrapes++;
      log(`demo sender: scrape of ${options.scrapeUrl} failed: ${error}`);
    }
    const report: ScrapeReport = { scraped, sent: 0, dropped: 0, requests: 0, statuses: [], scrapeError: error };
    for (let i = 0; i < series.length; i += perSend) {
      const batch = series.slice(i, i + perSend);
      const result = await sendWithRetry(options.writeUrl, encodeWriteRequest(batch), {
        headers,
        signal: stopping.signal,
        onRetry: (reason, attempt, delayMs) => log(`demo sender: ${options.writeUrl} answered ${reason}; retry ${attempt} in ${delayMs} ms`),
      });
      report.requests += result.attempts;
      report.statuses.push(result.status);
      if (result.status >= 200 && result.status < 300) {
        report.sent += batch.length;
      } else {
        report.dropped += batch.length;
        if (result.error !== undefined) log(`demo sender: ${options.writeUrl} refused ${batch.length} samples with ${result.status}: ${result.error}`);
      }
    }
    totals.sent += report.sent;
    totals.dropped += report.dropped;
    if (report.sent > 0) {
      log(`demo sender: scraped ${scraped} samples, sent ${report.sent} to ${options.writeUrl} ${who} (cluster ${external.cluster_id ?? 'default'}; HTTP ${[...new Set(report.statuses)].join(', ')})`);
    }
    return report;
  }

  // Scrapes on a fixed grid (like Prometheus), never two at once: a slow send delays the next scrape.
  const loop = (async () => {
    let next = now();
    while (!stopping.signal.aborted) {
      await scrapeOnce();
      next += intervalMs;
      const wait = next - now();
      if (wait < 0) next = now();
      await sleep(Math.max(0, wait), stopping.signal);
    }
  })();

  return {
    scrapeOnce,
    totals,
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
