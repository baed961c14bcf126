// Several processors of one consumer group, each with its own embedded engine, as one shared
// ClickHouse table would hold their rows: k8s_expenses is a ReplacingMergeTree(version, is_deleted),
// so for every (tenant, cluster, hour, namespace, pod) the row with the highest version is the one
// FINAL goes by, whichever processor wrote it, and a key whose highest row is a deletion row is not
// there at all. Every engine's rows are read, deletion rows included (its own FINAL would hide a
// deletion that must win over another engine's older row). A processor that wrote after losing a
// partition (a stale row with a higher version) shows up here exactly as it would in production.
import { COMPARED_COLUMNS, podHourKey, sqlRows, type PodHour } from './expenses.ts';

type VersionedPodHour = PodHour & { version: string; is_deleted: number };

/** The latest live row of every pod-hour over the engines behind `sqlUrls` (their SQL endpoints). */
export async function sharedTablePodHours(sqlUrls: readonly string[]): Promise<Map<string, PodHour>> {
  const latest = new Map<string, { version: bigint; deleted: boolean; row: PodHour }>();
  for (const url of sqlUrls) {
    const rows = await sqlRows<VersionedPodHour>(
      url,
      `SELECT tenant_id, cluster, toUnixTimestamp(hour) AS hour, namespace, pod, workload_kind, workload, node, is_final, ${COMPARED_COLUMNS.join(', ')}, toString(version) AS version, is_deleted
       FROM k8s_expenses`,
    );
    for (const { version, is_deleted, ...rest } of rows) {
      const row: PodHour = { ...rest, hour: Number(rest.hour) };
      const key = podHourKey(row);
      const seen = latest.get(key);
      if (!seen || BigInt(version) > seen.version) latest.set(key, { version: BigInt(version), deleted: is_deleted === 1, row });
    }
  }
  return new Map([...latest].filter(([, { deleted }]) => !deleted).map(([key, { row }]) => [key, row]));
}
