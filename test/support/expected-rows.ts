// The rows a set of acknowledged requests must produce, computed by the pure cost model alone:
// no receiver, record log, processor or ClickHouse. A fault test compares what the service stored
// with this; a sample lost or counted twice anywhere on the way changes a pod-hour.
import { createCostModel } from '../../processor/cost-model/index.ts';
import type { NodeHour, PodHour } from './expenses.ts';
import { nodeHourKey, podHourKey } from './expenses.ts';
import type { StreamRequest } from './kubecost-stream.ts';

/**
 * Every pod-hour of `requests`, keyed like podHours() (tenant/cluster/hour/namespace/pod), with the
 * service's default prices and sample gaps. The cluster is the series' cluster_id (CLUSTER_LABEL's
 * default). The model counts a (series, timestamp) once, as the service must: a request acknowledged
 * twice (a sender's retry after a lost answer) changes nothing.
 */
export function modelPodHours(requests: Iterable<StreamRequest>): Map<string, PodHour> {
  return modelHours(requests).pods;
}

/** Both tables' rows of `requests`: pod-hours as modelPodHours(), node-hours keyed like nodeHours(). */
export function modelHours(requests: Iterable<StreamRequest>): { pods: Map<string, PodHour>; nodes: Map<string, NodeHour> } {
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
  const pods = new Map<string, PodHour>();
  const nodes = new Map<string, NodeHour>();
  for (const { tenant, cluster, hourStartMs } of model.hours()) {
    const rows = model.hourRows(tenant, cluster, hourStartMs);
    for (const row of rows.pods) {
      const podHour: PodHour = { ...row, hour: row.hour / 1000, is_final: 1 };
      pods.set(podHourKey(podHour), podHour);
    }
    for (const row of rows.nodes) {
      const nodeHour: NodeHour = { ...row, hour: row.hour / 1000, is_final: 1 };
      nodes.set(nodeHourKey(nodeHour), nodeHour);
    }
  }
  return { pods, nodes };
}
