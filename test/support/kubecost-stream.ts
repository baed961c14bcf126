// Kubecost traffic as Prometheus sends it over hours, for the tests that stream it while something
// fails, with the irregularities that make a sample's interval depend on its neighbours (so a
// rebuilt hour differs if its context is missing, and an hour's rows depend on samples of the next
// hour): scrape times jitter by up to 20 s, a scrape is missed now and then (a 2-minute gap), pods
// come and go (churnPods), and a request is now and then delivered a few scrapes late (within a
// LATE_WINDOW of 10 min; always the first of an hour, after the hour before closed with a
// HOUR_GRACE of 2 min).
//
// Every request keeps its series, so the rows it should produce can be computed without the
// service (./expected-rows.ts).
import { encodeWriteRequestV1, kubecostTenants, kubecostValue, seededRandom, snappyCompress, type SeriesSamples } from '../../bench/kubecost-traffic.ts';

const MIN = 60_000;

export interface StreamRequest {
  readonly tenant: string;
  /** The cluster_id of its series. */
  readonly cluster: string;
  readonly scrape: number;
  readonly series: readonly SeriesSamples[];
  /** The snappy-compressed prometheus.WriteRequest. */
  readonly body: Uint8Array<ArrayBuffer>;
}

export interface StreamOptions {
  /** Tenant of each cluster (a name may repeat: one tenant with several clusters). */
  tenants: readonly string[];
  /** First scrape time; scrapes follow every minute. */
  startMs: number;
  scrapes: number;
  seriesPerTenant?: number;
  seed?: number;
}

/** A short-lived pod: its series appear at scrape `from` and end with stale markers at scrape `to`. */
interface ChurnPod {
  name: string;
  node: string;
  from: number;
  to: number;
}

/**
 * Pods that come and go, as Jobs do: one starting in the last scrape interval of every hour (its
 * first sample stands for the interval to the next one, which lies in the next hour) and one
 * starting mid-hour, each running 12 to 31 scrapes and ending with stale markers.
 */
function churnPods(options: StreamOptions, t: number, node: string): ChurnPod[] {
  const pods: ChurnPod[] = [];
  for (let scrape = 0; scrape < options.scrapes; scrape++) {
    const minute = (options.startMs / MIN + scrape) % 60;
    if (minute === 59 || minute === (17 + 11 * t) % 60) pods.push({ name: `report-${t}-${scrape}`, node, from: scrape, to: scrape + 12 + ((scrape * 7 + t) % 20) });
  }
  return pods;
}

function churnSeries(cluster: string, pod: ChurnPod, scrape: number, timestamp: number): SeriesSamples[] {
  const stale = scrape === pod.to;
  const labels = (name: string, extra: Record<string, string>) =>
    Object.entries({ __name__: name, cluster_id: cluster, namespace: 'batch', pod: pod.name, ...extra }).sort(([a], [b]) => (a < b ? -1 : 1));
  const sample = (value: number) => [{ value, timestamp, stale }];
  return [
    { labels: labels('container_cpu_allocation', { container: 'report', node: pod.node }), samples: sample(0.25 + (scrape % 3) / 10) },
    { labels: labels('container_memory_allocation_bytes', { container: 'report', node: pod.node }), samples: sample(256 * 2 ** 20) },
    { labels: labels('kube_pod_owner', { owner_kind: 'Job', owner_name: pod.name }), samples: sample(1) },
  ];
}

/** The requests in the order a sender delivers them (one per cluster and scrape, late ones moved back). */
export function kubecostStream(options: StreamOptions): StreamRequest[] {
  const tenants = kubecostTenants({ seed: options.seed ?? 7, tenants: options.tenants.length, tenantNames: options.tenants, seriesPerTenant: options.seriesPerTenant ?? 250 });
  const rand = seededRandom(11);
  const out: { due: number; request: StreamRequest }[] = [];
  const churn = tenants.map((tenant, t) => {
    const node = tenant.series.flatMap((s) => s.labels).find(([name]) => name === 'node')![1];
    return churnPods(options, t, node);
  });
  for (let scrape = 0; scrape < options.scrapes; scrape++) {
    for (const [t, tenant] of tenants.entries()) {
      if (rand() < 0.05) continue; // a missed scrape
      const timestamp = options.startMs + scrape * MIN + Math.floor(rand() * 20_000);
      const values = seededRandom(scrape * 7919 + t);
      const series: SeriesSamples[] = tenant.series.map((s) => ({ labels: s.labels, samples: [{ value: kubecostValue(s, scrape, values), timestamp }] }));
      for (const pod of churn[t]) if (scrape >= pod.from && scrape <= pod.to) series.push(...churnSeries(tenant.clusterId, pod, scrape, timestamp));
      // The first scrape of every hour comes 4 scrapes late, after the previous hour closed: the pod
      // that started in that hour's last scrape interval gets its next sample then.
      const delay = (options.startMs / MIN + scrape) % 60 === 0 ? 4 : rand() < 0.05 ? 2 + Math.floor(rand() * 3) : 0;
      const body = new Uint8Array(snappyCompress(encodeWriteRequestV1(series)));
      out.push({ due: scrape + delay + t / 10, request: { tenant: tenant.tenant, cluster: tenant.clusterId, scrape, series, body } });
    }
  }
  return out.sort((a, b) => a.due - b.due).map((x) => x.request);
}
