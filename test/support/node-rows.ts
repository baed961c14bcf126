// Node-hour fixtures: a model row of k8s_node_expenses (NodeRow) and its stored form.
import type { NodeExpenseRow } from '../../processor/clickhouse/node-expense-row.ts';
import type { NodeRow } from '../../processor/cost-model/index.ts';

const HOUR_MS = 3_600_000;

/**
 * A node of 4 cores and 16 GiB for the whole hour two hours ago, at 0.04 $/core-h and 0.005 $/GiB-h,
 * its pods charged 0.02 of CPU and 0.02 of RAM (RULES.md's worked example).
 */
export function nodeRow(overrides: Partial<NodeRow> = {}): NodeRow {
  return {
    tenant_id: 'acme',
    cluster: 'prod',
    hour: (Math.floor(Date.now() / HOUR_MS) - 2) * HOUR_MS,
    node: 'node-1',
    instance_type: 'm5.xlarge',
    region: 'eu-west-1',
    zone: 'eu-west-1a',
    spot: 0,
    minutes: 60,
    cpu_cores: 4,
    ram_bytes: 16 * 2 ** 30,
    gpu_count: null,
    capacity_missing: 0,
    cpu_cost: 0.16,
    ram_cost: 0.08,
    gpu_cost: 0,
    total_cost: 0.24,
    cpu_allocated_cost: 0.02,
    ram_allocated_cost: 0.02,
    gpu_allocated_cost: 0,
    cpu_idle_cost: 0.14,
    ram_idle_cost: 0.06,
    gpu_idle_cost: 0,
    idle_cost: 0.2,
    price_defaulted: 0,
    ...overrides,
  };
}

/** nodeRow() as stored: final, version 1, written now. */
export function nodeExpenseRow(overrides: Partial<NodeExpenseRow> = {}): NodeExpenseRow {
  return { ...nodeRow(), is_final: true, version: 1, updated_at: Date.now(), ...overrides };
}
