// Several processors of one consumer group, each with its own embedded engine, as one shared
// ClickHouse table would hold their rows: k8s_expenses is a ReplacingMergeTree(version), so for
// every (tenant, cluster, hour, namespace, pod) the row with the highest version is the one FINAL
// returns, whichever processor wrote it. A processor that wrote after losing a partition (a stale
// row with a higher version) shows up here exactly as it would in production.
import { COMPARED_COLUMNS, podHourKey, sqlRows, type PodHour } from './expenses.ts';

type VersionedPodHour = PodHour & { version: string };

/** The latest row of every pod-hour over the engines behind `sqlUrls` (their SQL endpoints). */
export async function sharedTablePodHours(sqlUrls: readonly string[]): Promise<Map<string, PodHour>> {
  const latest = new Map<string, { version: bigint; row: PodHour }>();
  for (const url of sqlUrls) {
    const rows = await sqlRows<VersionedPodHour>(
      url,
      `SELECT tenant_id, cluster, toUnixTimestamp(hour) AS hour, namespace, pod, workload_kind, workload, node, is_final, ${COMPARED_COLUMNS.join(', ')}, toString(version) AS version
       FROM k8s_expenses FINAL`,
    );
    for (const { version, ...rest } of rows) {
      const row: PodHour = { ...rest, hour: Number(rest.hour) };
      const key = podHourKey(row);
      const seen = latest.get(key);
      if (!seen || BigInt(version) > seen.version) latest.set(key, { version: BigInt(version), row });
    }
  }
  return new Map([...latest].map(([key, { row }]) => [key, row]));
}
