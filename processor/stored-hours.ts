// Before this process first writes an hour it did not open itself (after a restart or a rebalance,
// its records lie in the backlog it took over), it reads which keys the table holds for that hour,
// once: a rewrite must delete those its rows no longer have, whoever wrote them. One query per
// cluster, for all of its hours a flush is about to write.
import { planFlush } from './hour-window/flush-plan.ts';
import type { LifecycleRules } from './hour-window/hour-lifecycle.ts';
import type { ClusterState } from './hour-window/partition-state.ts';
import type { Partition } from './partition.ts';
import type { RowWriter } from './row-writer.ts';

/** Reads the stored keys of every hour the next flush at `now` writes whose keys are not known yet. */
export async function readStoredHours<ModelRow, Row>(
  partitions: ReadonlyMap<number, Partition<ModelRow>>,
  writer: Pick<RowWriter<Row>, 'storedKeys'>,
  now: number,
  rules: LifecycleRules,
): Promise<void> {
  const unknown = new Map<ClusterState, number[]>();
  for (const p of partitions.values()) {
    for (const { cluster, hour } of planFlush(p, now, rules)) {
      if (cluster.hours.get(hour)?.storedKeys !== undefined) continue;
      const hours = unknown.get(cluster);
      if (hours) hours.push(hour);
      else unknown.set(cluster, [hour]);
    }
  }
  for (const [cluster, hours] of unknown) {
    const stored = await writer.storedKeys(cluster.tenant, cluster.cluster, hours);
    for (const hour of hours) {
      const mark = cluster.hours.get(hour);
      if (!mark || mark.storedKeys !== undefined) continue;
      const held = stored.get(hour);
      mark.storedKeys = held ? new Set(held.keys) : new Set();
      mark.storedVersion = held?.version ?? 0;
    }
  }
}
