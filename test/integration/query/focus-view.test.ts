// The FOCUS view k8s_expenses_focus (migration 0007) on rows that reconcile (reconcilingRows()):
// its columns, one charge per kind of cost, the split of each node-hour into its pods' compute and
// its idle (allocated charges that add back up to the node's cost), totals equal to k8s_expenses',
// and BillingCurrency following BILLING_CURRENCY at every migration run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostRowSink } from '../../../processor/clickhouse/cost-rows.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { checkReadOnlyQuery } from '../../../query/sql-guard.ts';
import { hourAgo, openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import { reconcilingRows } from '../../support/reconciling-rows.ts';

const DATABASE = 'focus';
let engine: TestEngine;

type Charge = Record<string, string | number | null>;
const charges = (where = '1') => queryRows<Charge>(engine.client, `SELECT * FROM ${DATABASE}.k8s_expenses_focus WHERE ${where} ORDER BY ChargePeriodStart, SubAccountId, ResourceId, ChargeDescription`);

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE, billingCurrency: 'EUR' });
  await createCostRowSink(engine.client, { database: DATABASE }).write(reconcilingRows());
});

afterAll(async () => {
  await engine?.close();
});

describe('k8s_expenses_focus', () => {
  it('has the FOCUS 1.3 columns, its split cost allocation columns and x_ columns for the Kubernetes dimensions', async () => {
    const columns = (await queryRows<{ name: string }>(engine.client, `DESCRIBE TABLE ${DATABASE}.k8s_expenses_focus`)).map((c) => c.name);
    for (const name of [
      'ChargePeriodStart', 'ChargePeriodEnd', 'BillingPeriodStart', 'BillingPeriodEnd', 'BilledCost', 'EffectiveCost', 'ListCost', 'ContractedCost',
      'BillingCurrency', 'BillingAccountId', 'SubAccountId', 'SubAccountName', 'ChargeCategory', 'ChargeFrequency', 'ChargeDescription',
      'ServiceName', 'ServiceCategory', 'ResourceId', 'ResourceName', 'ResourceType', 'Tags',
      'AllocatedMethodId', 'AllocatedResourceId', 'AllocatedResourceName', 'AllocatedTags',
    ]) expect(columns).toContain(name);
    const custom = columns.filter((c) => c.startsWith('x_'));
    expect(custom).toEqual(['x_TenantId', 'x_Cluster', 'x_Namespace', 'x_Pod', 'x_Node', 'x_WorkloadKind', 'x_Workload', 'x_CostComponent', 'x_IsFinal', 'x_PriceDefaulted']);
    // Every other column is FOCUS's PascalCase name.
    for (const c of columns.filter((c) => !c.startsWith('x_'))) expect(c).toMatch(/^[A-Z][A-Za-z]+$/);
  });

  it("gives one charge per kind of cost of a row: a pod's compute allocated from its node, its volumes its own", async () => {
    const H = hourAgo(2);
    const web = await charges(`ChargePeriodStart = toDateTime(${H / 1000}, 'UTC') AND x_Pod = 'web-1' AND SubAccountId = 'prod'`);
    expect(web).toHaveLength(2);
    expect(web.find((c) => c.x_CostComponent === 'compute')).toMatchObject({
      ChargePeriodEnd: new Date(H + 3_600_000).toISOString().slice(0, 19).replace('T', ' '),
      BilledCost: 0.04,
      EffectiveCost: 0.04,
      ListCost: 0.04,
      BillingCurrency: 'EUR',
      BillingAccountId: 'acme',
      ResourceId: 'node-1',
      ResourceType: 'Node',
      ServiceCategory: 'Compute',
      Tags: null,
      AllocatedMethodId: 'k8s-node-allocation',
      AllocatedResourceId: 'shop/web-1',
      AllocatedResourceName: 'web-1',
      x_Namespace: 'shop',
      x_IsFinal: 1,
    });
    expect(JSON.parse(String(web.find((c) => c.x_CostComponent === 'compute')!.AllocatedTags))).toEqual({ team: 'storefront', app: 'web' });
    expect(web.find((c) => c.x_CostComponent === 'storage')).toMatchObject({
      BilledCost: 0.01,
      ResourceId: 'shop/web-1',
      ResourceType: 'Pod',
      ServiceCategory: 'Storage',
      AllocatedMethodId: null,
      AllocatedResourceId: null,
      AllocatedTags: null,
    });
    // The idle is the unallocated portion of its node: the method, and no allocated resource.
    const [idle] = await charges(`ChargePeriodStart = toDateTime(${H / 1000}, 'UTC') AND x_Namespace = '__idle__'`);
    expect(idle).toMatchObject({ ResourceId: 'node-1', BilledCost: 0.2, AllocatedMethodId: 'k8s-node-allocation', AllocatedResourceId: null, AllocatedTags: null, ChargeDescription: 'Idle capacity of node node-1' });
    const [management] = await charges(`ChargePeriodStart = toDateTime(${H / 1000}, 'UTC') AND x_CostComponent = 'management'`);
    expect(management).toMatchObject({ ResourceId: 'prod/eks', ResourceType: 'Cluster', BilledCost: 0.1, AllocatedMethodId: null });
  });

  it("splits every node-hour into allocated charges that add back up to the node's cost", async () => {
    const sums = await queryRows<{ hour: string; node: string; allocated: number; node_cost: number }>(
      engine.client,
      `SELECT toUnixTimestamp(f.ChargePeriodStart) AS hour, f.ResourceId AS node, f.allocated, n.total_cost AS node_cost
       FROM (
         SELECT ChargePeriodStart, SubAccountId, ResourceId, sum(EffectiveCost) AS allocated
         FROM ${DATABASE}.k8s_expenses_focus WHERE AllocatedMethodId IS NOT NULL AND SubAccountId = 'prod'
         GROUP BY ChargePeriodStart, SubAccountId, ResourceId
       ) AS f
       JOIN ${DATABASE}.k8s_node_expenses_final AS n ON n.cluster = f.SubAccountId AND n.hour = f.ChargePeriodStart AND n.node = f.ResourceId
       ORDER BY hour, node`,
    );
    expect(sums.map((s) => s.node)).toEqual(['node-1', 'node-2', 'node-1', 'node-2']);
    for (const s of sums) expect(s.allocated).toBeCloseTo(s.node_cost, 12);
  });

  it('adds up to what k8s_expenses adds up to, per cluster', async () => {
    const [focus, rows] = await Promise.all([
      queryRows<{ cluster: string; cost: number }>(engine.client, `SELECT SubAccountId AS cluster, sum(BilledCost) AS cost FROM ${DATABASE}.k8s_expenses_focus GROUP BY cluster ORDER BY cluster`),
      queryRows<{ cluster: string; cost: number }>(engine.client, `SELECT cluster, sum(total_cost) AS cost FROM ${DATABASE}.k8s_expenses_final GROUP BY cluster ORDER BY cluster`),
    ]);
    expect(focus.map((f) => f.cluster)).toEqual(['prod', 'staging']);
    for (const [i, f] of focus.entries()) expect(f.cost).toBeCloseTo(rows[i].cost, 12);
  });

  it('names the currency BILLING_CURRENCY says at the latest migration run, and refuses one that is not a code', async () => {
    await migrate(engine.client, { database: DATABASE, billingCurrency: 'CHF' });
    expect(await queryRows(engine.client, `SELECT DISTINCT BillingCurrency FROM ${DATABASE}.k8s_expenses_focus`)).toEqual([{ BillingCurrency: 'CHF' }]);
    await expect(migrate(engine.client, { database: DATABASE, billingCurrency: "USD' OR 1" })).rejects.toThrow(/BILLING_CURRENCY must be an ISO 4217 code/);
    expect(await queryRows(engine.client, `SELECT DISTINCT BillingCurrency FROM ${DATABASE}.k8s_expenses_focus`)).toEqual([{ BillingCurrency: 'CHF' }]);
  });

  it('may be read through the SQL guard', () => {
    expect(checkReadOnlyQuery('SELECT ChargePeriodStart, sum(EffectiveCost) FROM k8s_expenses_focus GROUP BY ChargePeriodStart', { database: DATABASE })).toMatchObject({ ok: true });
  });
});
