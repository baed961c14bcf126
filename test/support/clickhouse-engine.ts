// Test support: a fresh embedded engine per test file (one data directory per process), silent
// logging and row fixtures.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse } from '../../processor/clickhouse/client.ts';
import type { ExpenseRow } from '../../processor/clickhouse/expense-row.ts';
import type { Log } from '../../core/log.ts';

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

export interface TestEngine {
  client: ClickHouseClient;
  dataDir: string;
  database: string;
  close(): Promise<void>;
}

export async function openTestEngine(database: string): Promise<TestEngine> {
  const dataDir = await mkdtemp(join(tmpdir(), 'k8s-expenses-ch-'));
  const client = await openClickHouse(
    { DATA_DIR: dataDir, CLICKHOUSE_URL: undefined, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: database },
    silentLog,
  );
  return {
    client,
    dataDir,
    database,
    async close() {
      await client.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function queryRows<T = Record<string, unknown>>(client: ClickHouseClient, query: string): Promise<T[]> {
  const result = await client.query({ query, format: 'JSONEachRow' });
  return result.json<T>();
}

import { HOUR_MS } from '../../core/hours.ts';
export { HOUR_MS };

/** The start of the hour `hoursAgo` hours before now. */
export function hourAgo(hoursAgo: number): number {
  return (Math.floor(Date.now() / HOUR_MS) - hoursAgo) * HOUR_MS;
}

export function expenseRow(overrides: Partial<ExpenseRow> = {}): ExpenseRow {
  return {
    tenant_id: 'acme',
    cluster: 'prod',
    namespace: 'shop',
    pod: 'web-7d9f-abcde',
    hour: hourAgo(2),
    workload_kind: 'Deployment',
    workload: 'web',
    node: 'node-1',
    minutes: 60,
    cpu_core_hours: 0.5,
    cpu_cost: 0.016,
    ram_byte_hours: 2 ** 30,
    ram_cost: 0.004,
    gpu_hours: 0,
    gpu_cost: 0,
    pv_byte_hours: 0,
    pv_cost: 0,
    network_cost: 0.001,
    load_balancer_cost: 0,
    total_cost: 0.021,
    cpu_request_avg: 1,
    cpu_usage_avg: 0.5,
    ram_request_avg: 2 ** 31,
    ram_usage_avg: 2 ** 30,
    cpu_efficiency: 0.5,
    ram_efficiency: 0.5,
    total_efficiency: 0.5,
    labels: { team: 'storefront', app: 'web' },
    price_defaulted: false,
    workload_inferred: false,
    is_final: true,
    version: 1,
    updated_at: Date.now(),
    ...overrides,
  };
}
