// Reading k8s_expenses back through a running service's SQL endpoint (the processor owns the
// embedded engine's directory, so tests query through it), and comparing two runs' rows.
import { metricValue } from './net.ts';
import { waitFor } from './service.ts';

/** The columns compared between runs: every quantity and cost of a pod-hour. */
export const COMPARED_COLUMNS = [
  'minutes',
  'cpu_core_hours',
  'cpu_cost',
  'ram_byte_hours',
  'ram_cost',
  'gpu_hours',
  'gpu_cost',
  'pv_byte_hours',
  'pv_cost',
  'network_cost',
  'load_balancer_cost',
  'total_cost',
] as const;

export type PodHour = Record<(typeof COMPARED_COLUMNS)[number], number> & {
  tenant_id: string;
  cluster: string;
  /** Epoch seconds of the hour start. */
  hour: number;
  namespace: string;
  pod: string;
  workload_kind: string;
  workload: string;
  node: string;
  is_final: number;
};

/** Runs a read query on the SQL endpoint and returns its rows; throws with the endpoint's message on refusal. */
export async function sqlRows<T = Record<string, unknown>>(sqlUrl: string, sql: string): Promise<T[]> {
  const res = await fetch(`${sqlUrl}/query?format=JSONEachRow`, { method: 'POST', body: sql, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`SQL endpoint answered ${res.status}: ${text}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Every pod-hour as the latest version (FINAL), keyed `tenant/cluster/hour/namespace/pod`. */
export async function podHours(sqlUrl: string): Promise<Map<string, PodHour>> {
  const rows = await sqlRows<PodHour>(
    sqlUrl,
    `SELECT tenant_id, cluster, toUnixTimestamp(hour) AS hour, namespace, pod, workload_kind, workload, node, is_final, ${COMPARED_COLUMNS.join(', ')}
     FROM k8s_expenses FINAL ORDER BY tenant_id, cluster, hour, namespace, pod`,
  );
  return new Map(rows.map((r) => [podHourKey(r), { ...r, hour: Number(r.hour) }]));
}

export function podHourKey(r: { tenant_id: string; cluster: string; hour: number | string; namespace: string; pod: string }): string {
  return `${r.tenant_id}/${r.cluster}/${r.hour}/${r.namespace}/${r.pod}`;
}

export function relativeDifference(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/**
 * The differences between two runs keyed alike (empty when they agree): keys present in one only,
 * and every numeric column whose relative difference is at least `tolerance`.
 */
export function diffKeyed<T>(expected: Map<string, T>, actual: Map<string, T>, columns: readonly (keyof T)[], tolerance: number, extra?: (key: string, e: T, a: T) => string | undefined): string[] {
  const out: string[] = [];
  for (const key of expected.keys()) if (!actual.has(key)) out.push(`missing ${key}`);
  for (const key of actual.keys()) if (!expected.has(key)) out.push(`unexpected ${key}`);
  for (const [key, e] of expected) {
    const a = actual.get(key);
    if (!a) continue;
    const more = extra?.(key, e, a);
    if (more) out.push(more);
    for (const column of columns) {
      const d = relativeDifference(e[column] as number, a[column] as number);
      if (!(d < tolerance)) out.push(`${key} ${String(column)}: ${e[column]} vs ${a[column]} (relative difference ${d})`);
    }
  }
  return out;
}

/** The differences between two runs' pod-hours: compared columns and the workload. */
export function diffPodHours(expected: Map<string, PodHour>, actual: Map<string, PodHour>, tolerance = 1e-9): string[] {
  return diffKeyed(expected, actual, COMPARED_COLUMNS, tolerance, (key, e, a) =>
    e.workload_kind !== a.workload_kind || e.workload !== a.workload ? `${key} workload: ${e.workload_kind}/${e.workload} vs ${a.workload_kind}/${a.workload}` : undefined,
  );
}

/** Sum of total_cost per (tenant, cluster): a compact summary for failure messages. */
export function totalsByCluster(rows: Map<string, PodHour>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows.values()) out[`${r.tenant_id}/${r.cluster}`] = (out[`${r.tenant_id}/${r.cluster}`] ?? 0) + r.total_cost;
  return out;
}

/**
 * Waits until a processor has caught up and written everything as final: no consumer lag, no
 * provisional row, and the same rows on two polls in a row. With `requireFinal` false, provisional
 * rows are accepted (the latest rows, caught up and stable).
 */
export async function waitAllFinal(baseUrl: string, sqlUrl: string, timeoutMs: number, what: string, requireFinal = true): Promise<Map<string, PodHour>> {
  let previous = '';
  let rows = new Map<string, PodHour>();
  let status = 'nothing polled yet';
  try {
    await waitFor(
      async () => {
        const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
        const lag = metricValue(metrics, 'k8s_expenses_processor_consumer_lag_records');
        if (!/k8s_expenses_processor_consumer_lag_records\{/.test(metrics) || lag !== 0) {
          status = `consumer lag ${lag}`;
          return false;
        }
        rows = await podHours(sqlUrl);
        const provisional = requireFinal ? [...rows.values()].filter((r) => r.is_final !== 1) : [];
        if (rows.size === 0 || provisional.length > 0) {
          status = `${rows.size} rows, ${provisional.length} provisional, e.g. ${provisional.slice(0, 3).map(podHourKey).join(', ')}`;
          return false;
        }
        const fingerprint = JSON.stringify([...rows.entries()]);
        const stable = fingerprint === previous;
        previous = fingerprint;
        status = `${rows.size} rows${requireFinal ? ', all final' : ''}, ${stable ? 'stable' : 'still changing'}`;
        if (!stable) await new Promise((r) => setTimeout(r, 1000));
        return stable;
      },
      timeoutMs,
      what,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message} (last seen: ${status})`, { cause: err });
  }
  return rows;
}
