// The processor's rows: each write of an hour stores the cost model's pod rows in k8s_expenses and
// its node rows in k8s_node_expenses, with the same finality and version, in one batch that
// the sink splits by table. Both tables follow one hour's keys (a key of one table never reads like
// a key of the other), so a node a rewrite no longer has gets a deletion row like a pod does, and
// after a restart the keys of both tables are read before the hour is first written again.
import { isNegativeIdle, type CostModel, type HourlyRow, type NodeRow } from '../cost-model/index.ts';
import type { HourlyCostModel, SampleCounts } from '../cost-model-port.ts';
import { deletionRow, expenseRowKey, toExpenseRow, type ExpenseRow } from './expense-row.ts';
import { encodeNodeExpenseRow, nodeDeletionRow, toNodeExpenseRow, type NodeExpenseRow } from './node-expense-row.ts';
import { createExpenseSink } from './expense-sink.ts';
import { createTableSink, type SinkClient, type StoredHour } from './table-sink.ts';

/** A row the cost model computes for an hour: a pod row (k8s_expenses) or a node row (k8s_node_expenses). */
export type CostRow = HourlyRow | NodeRow;
/** A stored row of either table. */
export type StoredCostRow = ExpenseRow | NodeExpenseRow;

/** Node rows have no namespace; pod rows (`__idle__` rows among them) always have one. */
export function isNodeRow<R extends CostRow>(row: R): row is Extract<R, NodeRow> {
  return !('namespace' in row);
}

/** Pod keys start with a digit (expenseRowKey), node keys with this. */
const NODE_KEY = 'N';

/** A row's key within its (tenant, cluster, hour), over both tables. */
export function costRowKey(row: CostRow): string {
  return isNodeRow(row) ? NODE_KEY + row.node : expenseRowKey(row);
}

export function finishCostRow(row: CostRow, final: boolean, version: number, writtenAt: number): StoredCostRow | undefined {
  return isNodeRow(row) ? toNodeExpenseRow(row, final, version, writtenAt) : toExpenseRow(row, final, version, writtenAt);
}

/** How the processor deletes rows that vanish from an hour of either table. */
export const costRowDeletion = {
  keyOf: costRowKey,
  deletionRow(tenant: string, cluster: string, hour: number, key: string, final: boolean, version: number, writtenAt: number): StoredCostRow {
    return key.startsWith(NODE_KEY)
      ? nodeDeletionRow(tenant, cluster, hour, key.slice(NODE_KEY.length), final, version, writtenAt)
      : deletionRow(tenant, cluster, hour, key, final, version, writtenAt);
  },
} as const;

/** The cost model as the processor drives it: an hour's rows are its pod rows, then its node rows. */
export function costModelRows(model: CostModel): HourlyCostModel<CostRow> {
  return new CostModelRows(model);
}

/**
 * A class, not an object of closures: every partition's model is then fed through one method, so
 * the record loop's call to it stays monomorphic (a bound function per partition was a new call
 * target for each, which threw away the loop's optimised code once per partition and kept the
 * model's per-series work from being inlined).
 */
class CostModelRows implements HourlyCostModel<CostRow> {
  /** The model seen through the port's types (its sample counts are the port's, field for field). */
  private readonly port: HourlyCostModel<CostRow>;

  constructor(private readonly model: CostModel) {
    this.port = model;
  }

  addHashedSeries(...args: Parameters<HourlyCostModel<CostRow>['addHashedSeries']>): SampleCounts {
    return this.port.addHashedSeries(...args);
  }

  rows(tenant: string, cluster: string, hour: number): CostRow[] {
    const { pods, nodes } = this.model.hourRows(tenant, cluster, hour);
    const rows: CostRow[] = pods;
    for (const node of nodes) rows.push(node);
    return rows;
  }

  evictBefore(tenant: string, cluster: string, hour: number): void {
    this.model.evictBefore(tenant, cluster, hour);
  }

  stateBytes(): number {
    return this.model.stateBytes();
  }

  seriesByTenant(): ReadonlyMap<string, number> {
    return this.model.seriesByTenant();
  }
}

/**
 * Counts a closing hour's node rows whose idle is negative beyond rounding, per resource (the
 * processor's k8s_expenses_processor_negative_idle_node_hours_total).
 */
export function negativeIdleCounter(counter: { inc(labels: { resource: string }): void }): (row: CostRow) => void {
  return (row) => {
    if (!isNodeRow(row)) return;
    if (isNegativeIdle(row.cpu_idle_cost, row.cpu_allocated_cost)) counter.inc({ resource: 'cpu' });
    if (isNegativeIdle(row.ram_idle_cost, row.ram_allocated_cost)) counter.inc({ resource: 'ram' });
    if (isNegativeIdle(row.gpu_idle_cost, row.gpu_allocated_cost)) counter.inc({ resource: 'gpu' });
  };
}

export interface CostRowSink {
  /** Inserts the pod rows into k8s_expenses, then the node rows into k8s_node_expenses. */
  write(rows: readonly StoredCostRow[]): Promise<void>;
  /** The live keys (costRowKey) of both tables in the given hours of a cluster, and their highest version. */
  storedKeys(tenant: string, cluster: string, hours: readonly number[]): Promise<Map<number, StoredHour>>;
}

/**
 * Both tables' sink. The two inserts are not one transaction: when the second fails, the write is
 * retried whole, and the first table's rows, written again with the same keys and version, replace
 * themselves.
 */
export function createCostRowSink(client: SinkClient, options: { database: string; cluster?: boolean }): CostRowSink {
  const pods = createExpenseSink(client, options);
  const nodes = createTableSink<NodeExpenseRow>(client, {
    table: `${options.database}.k8s_node_expenses`,
    encode: encodeNodeExpenseRow,
    keyColumns: ['node'],
    keyOf: (r) => NODE_KEY + r.node,
    cluster: options.cluster,
  });
  return {
    async write(rows) {
      const podRows: ExpenseRow[] = [];
      const nodeRows: NodeExpenseRow[] = [];
      for (const row of rows) {
        if (isNodeRow(row)) nodeRows.push(row);
        else podRows.push(row);
      }
      await pods.write(podRows);
      await nodes.write(nodeRows);
    },
    async storedKeys(tenant, cluster, hours) {
      const stored = await pods.storedKeys(tenant, cluster, hours);
      for (const [hour, held] of await nodes.storedKeys(tenant, cluster, hours)) {
        const both = stored.get(hour);
        if (!both) stored.set(hour, held);
        else {
          for (const key of held.keys) both.keys.add(key);
          both.version = Math.max(both.version, held.version);
        }
      }
      return stored;
    },
  };
}
