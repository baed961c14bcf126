// The newest-sample age per tenant and cluster, the gauge to alert on when a cluster stops sending,
// kept bounded whatever the traffic: the first MAX_CLUSTER_SERIES (tenant, cluster) pairs this
// process sees keep their own series; later ones are reported together as tenant="other",
// cluster="other", with the largest age among them (so an alert on it still fires when one of them
// stops). 500 clusters is far above what one processor normally holds and well within what a
// Prometheus scrape takes. The series of a revoked partition's clusters are removed: another
// process reports them now.
import { createLabelCap, OTHER_LABEL_VALUE } from '../core/label-cap.ts';
import type { ClusterState, PartitionState } from './hour-window/partition-state.ts';
import { clusterId } from './hour-window/partition-state.ts';
import type { ProcessorMetrics } from './metrics.ts';

export const MAX_CLUSTER_SERIES = 500;

export interface SampleAgeGauge {
  /** Sets the age of every cluster held, at `now`. */
  update(partitions: Iterable<PartitionState>, now: number): void;
  /** Removes the series of clusters no longer held (a revoked partition's). */
  forget(clusters: Iterable<ClusterState>): void;
}

export function createSampleAgeGauge(gauge: ProcessorMetrics['newestSampleAge'], max = MAX_CLUSTER_SERIES): SampleAgeGauge {
  const cap = createLabelCap(max);
  const other = { tenant: OTHER_LABEL_VALUE, cluster: OTHER_LABEL_VALUE };
  const own = (c: ClusterState): boolean => cap(clusterId(c.tenant, c.cluster)) !== OTHER_LABEL_VALUE;
  return {
    update(partitions, now) {
      let otherAge = -1;
      for (const p of partitions) {
        for (const c of p.clusters.values()) {
          if (!Number.isFinite(c.watermark)) continue;
          const age = Math.max(0, (now - c.watermark) / 1000);
          if (own(c)) gauge.set({ tenant: c.tenant, cluster: c.cluster }, age);
          else otherAge = Math.max(otherAge, age);
        }
      }
      if (otherAge >= 0) gauge.set(other, otherAge);
      else gauge.remove(other);
    },
    forget(clusters) {
      for (const c of clusters) gauge.remove({ tenant: c.tenant, cluster: c.cluster });
    },
  };
}
