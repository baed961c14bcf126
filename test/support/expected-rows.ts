// The rows a set of acknowledged requests must produce, computed by the pure cost model alone:
// no receiver, record log, processor or ClickHouse. A fault test compares what the service stored
// with this; a sample lost or counted twice anywhere on the way changes a pod-hour.
import { createCostModel } from '../../processor/cost-model/index.ts';
import type { PodHour } from './expenses.ts';
import { podHourKey } from './expenses.ts';
import type { StreamRequest } from './kubecost-stream.ts';

/**
 * Every pod-hour of `requests`, keyed like podHours() (tenant/cluster/hour/namespace/pod), with the
 * service's default prices and sample gaps. The cluster is the series' cluster_id (CLUSTER_LABEL's
 * default). The model counts a (series, timestamp) once, as the service must: a request acknowledged
 * twice (a sender's retry after a lost answer) changes nothing.
 */
export function modelPodHours(requests: Iterable<StreamRequest>): Map<string, PodHour> {
  const model = createCostModel();
  const stale = new Uint8Array(1);
  for (const request of requests) {
    for (const series of request.series) {
      const labels = Object.fromEntries(series.labels);
      const key = series.labels.map(([name, value]) => `${name}\u0000${value}`).join('\u0001');
      for (const sample of series.samples) {
        stale[0] = sample.stale ? 1 : 0;
        model.addSeries(request.tenant, labels.cluster_id ?? 'default', key, labels, [sample.timestamp], [sample.value], stale);
      }
    }
  }
  const out = new Map<string, PodHour>();
  for (const { tenant, cluster, hourStartMs } of model.hours()) {
    for (const row of model.rows(tenant, cluster, hourStartMs)) {
      const podHour: PodHour = { ...row, hour: row.hour / 1000, is_final: 1 };
      out.set(podHourKey(podHour), podHour);
    }
  }
  return out;
}
