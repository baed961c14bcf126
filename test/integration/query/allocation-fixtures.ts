// Rows and an app for the allocation API's integration tests. The numbers are chosen so every
// shared amount can be checked by hand (see allocation.test.ts): in cluster prod of tenant acme,
// pods use 1.0 of CPU cost and 1.0 of RAM cost in total, and the idle is 0.5 CPU, 0.5 RAM and 0.5 GPU.
import Fastify, { type FastifyInstance } from 'fastify';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { allocationRoutes } from '../../../query/allocation/route.ts';
import type { ReadLimits } from '../../../query/limits.ts';
import { createReader } from '../../../query/reader.ts';
import { expenseRow, silentLog } from '../../support/clickhouse-engine.ts';

export const HOUR = 3_600_000;
const GIB = 2 ** 30;

/** A pod-hour with only the given costs; total_cost is their sum. */
export function pod(hour: number, namespace: string, name: string, costs: Partial<ExpenseRow>, more: Partial<ExpenseRow> = {}): ExpenseRow {
  const base = { cpu_cost: 0, ram_cost: 0, gpu_cost: 0, pv_cost: 0, network_cost: 0, load_balancer_cost: 0, ...costs };
  return expenseRow({
    hour,
    namespace,
    pod: name,
    node: 'n1',
    labels: {},
    cpu_core_hours: 1,
    ram_byte_hours: GIB,
    cpu_request_avg: 1,
    cpu_usage_avg: 0.5,
    ram_request_avg: GIB,
    ram_usage_avg: GIB / 2,
    ...base,
    total_cost: base.cpu_cost + base.ram_cost + base.gpu_cost + base.pv_cost + base.network_cost + base.load_balancer_cost,
    ...more,
  });
}

/** An idle row as the processor writes them: per node and hour, usage columns null. */
export function idle(hour: number, node: string, cpu: number, ram: number, gpu: number, more: Partial<ExpenseRow> = {}): ExpenseRow {
  return expenseRow({
    hour,
    namespace: '__idle__',
    pod: node,
    node,
    workload_kind: 'idle',
    workload: node,
    labels: {},
    cpu_core_hours: 0,
    ram_byte_hours: 0,
    cpu_cost: cpu,
    ram_cost: ram,
    gpu_cost: gpu,
    pv_cost: 0,
    network_cost: 0,
    load_balancer_cost: 0,
    total_cost: cpu + ram + gpu,
    cpu_request_avg: null,
    cpu_usage_avg: null,
    ram_request_avg: null,
    ram_usage_avg: null,
    cpu_efficiency: null,
    ram_efficiency: null,
    total_efficiency: null,
    ...more,
  });
}

/** Tenant acme, cluster prod, one hour: 3 pods in 2 namespaces, kube-system, unmounted, management, idle of 2 nodes. */
export function acmeProd(hour: number): ExpenseRow[] {
  const deployment = { workload_kind: 'deployment', workload: 'web' };
  return [
    pod(hour, 'shop', 'web-1', { cpu_cost: 0.5, ram_cost: 0.2, pv_cost: 0.1 }, { ...deployment, labels: { team: 'storefront', app: 'web' }, cpu_request_avg: 2, cpu_usage_avg: 1 }),
    pod(hour, 'shop', 'web-2', { cpu_cost: 0.1, ram_cost: 0.2 }, { ...deployment, labels: { team: 'storefront' } }),
    pod(hour, 'batch', 'etl-1', { cpu_cost: 0.2, ram_cost: 0.5 }, { node: 'n2', workload_kind: 'job', workload: 'etl' }),
    pod(hour, 'kube-system', 'dns-1', { cpu_cost: 0.2, ram_cost: 0.1 }, { workload_kind: 'daemonset', workload: 'coredns' }),
    pod(hour, 'shop', '__unmounted__', { pv_cost: 0.05 }, { node: '', workload_kind: '', workload: '', minutes: 0, cpu_core_hours: 0, ram_byte_hours: 0 }),
    expenseRow({
      ...pod(hour, '__cluster__', 'aks', {}, { node: '', workload_kind: 'cluster', workload: 'management', cpu_core_hours: 0, ram_byte_hours: 0 }),
      total_cost: 0.1,
    }),
    idle(hour, 'n1', 0.4, 0.2, 0),
    idle(hour, 'n2', 0.1, 0.3, 0.5),
  ];
}

/** Tenant acme, cluster staging: its own kube-system, no idle. */
export function acmeStaging(hour: number): ExpenseRow[] {
  return [
    pod(hour, 'shop', 'web-s', { cpu_cost: 1 }, { cluster: 'staging', node: 's1', workload_kind: 'deployment', workload: 'web' }),
    pod(hour, 'kube-system', 'dns-s', { cpu_cost: 0.5 }, { cluster: 'staging', node: 's1', workload_kind: 'daemonset', workload: 'coredns' }),
  ];
}

/** Tenant globex, in a cluster and namespace of the same names, with costs no acme answer may hold. */
export function globex(hour: number): ExpenseRow[] {
  return [
    pod(hour, 'shop', 'web-1', { cpu_cost: 100, ram_cost: 100 }, { tenant_id: 'globex', labels: { team: 'storefront' } }),
    pod(hour, 'kube-system', 'dns-1', { cpu_cost: 60 }, { tenant_id: 'globex' }),
    idle(hour, 'n1', 50, 50, 50, { tenant_id: 'globex' }),
  ];
}

export const LIMITS: ReadLimits = { timeoutMs: 30_000, maxMemoryBytes: 4_000_000_000, maxResultRows: 10_000, concurrency: 2 };

/** The allocation routes over a real engine; the reading tenant comes from the x-tenant header. */
export async function allocationApp(client: ClickHouseClient, database: string, limits = LIMITS): Promise<FastifyInstance> {
  const app = Fastify();
  // One connection for the test: reads take turns on it.
  const reader = createReader({ clients: Array.from({ length: limits.concurrency }, () => client), control: client, limits, log: silentLog });
  await app.register(allocationRoutes, { reader, database, tenantFromRequest: (request) => String(request.headers['x-tenant']) });
  return app;
}

export function windowOf(start: number, end: number): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  return `${iso(start)},${iso(end)}`;
}

export type Answer = { code: number; status: string; data: Record<string, Record<string, number | string | object | null>>[] };

/** GET an allocation URL as a tenant; the parsed answer. */
export async function allocations(app: FastifyInstance, tenant: string, query: Record<string, string>): Promise<Answer> {
  const res = await app.inject({ url: '/allocation/compute', query, headers: { 'x-tenant': tenant } });
  if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}: ${res.body}`);
  return res.json() as Answer;
}

/** name -> totalCost of the one set of an answer. */
export function totals(answer: Answer, set = 0): Record<string, number> {
  return Object.fromEntries(Object.entries(answer.data[set]).map(([name, a]) => [name, a.totalCost as number]));
}
