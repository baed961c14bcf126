// Every query of the Grafana dashboard (deploy/grafana/dashboards/k8s-expenses.json), with Grafana's
// macros and variables filled in as the ClickHouse data source plugin does (test/support/grafana.ts),
// runs on the embedded engine against demo-like rows and returns hand-checked numbers; and with
// one tenant chosen, no panel or variable shows anything of another tenant.
//
// The rows (merges stopped, so FINAL matters): tenant acme, cluster prod, hours H0-H2, every hour
// 2.3 in total:
//   shop/web-1   cpu 0.5 ram 0.3 = 0.8   efficiency cpu 0.4 ram 0.5   deployment web, node n1
//   shop/web-2   cpu 0.1 ram 0.1 = 0.2   efficiency cpu 0.9 ram 0.7   deployment web, node n1
//   batch/etl-1  cpu 0.4 ram 0.2 = 0.6   efficiency cpu NULL ram 0.2  job etl, node n2, default prices
//   shop/__unmounted__  pv 0.1           __cluster__/aks  management 0.1
//   __idle__/n1  cpu 0.3 ram 0.1 = 0.4   __idle__/n2  cpu 0.2 ram -0.1 = 0.1 (default prices)
// H0 and H1 are final, H2 provisional; H1 also has superseded rows at ten times the cost, and
// H0 - 1 h a row of 100 outside the range. Cluster staging: H1 only, shop/web-1 0.4 (cpu 0.2 ram 0.2,
// efficiency 0.5 / 0.5) and __idle__/s1 0.1. Tenant globex, cluster prod again, namespace shop again:
// H0-H2 final, shop/web-1 10 (default prices) and __idle__/g1 1 per hour. Tenant initech: one row of
// 1 at H1 whose cluster and namespace hold a backslash and a quote (label values come from the
// tenant's own series).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import type { ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { checkReadOnlyQuery } from '../../../query/sql-guard.ts';
import { openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';
import {
  dataPanels,
  interpolate,
  loadDashboard,
  panelSql,
  queryVariable,
  variableOptions,
  variableSql,
  type QueryContext,
  type VariableValue,
} from '../../support/grafana.ts';
import { HOUR, idle, pod } from '../query/allocation-fixtures.ts';

const DATABASE = 'grafana';
/** The same rows of one tenant only: what that tenant's panels must show either way. */
const ONLY = { acme: 'grafana_acme_only', globex: 'grafana_globex_only', initech: 'grafana_initech_only' } as const;
const EVIL_CLUSTER = "evil\\' OR 1=1 -- ";
const EVIL_NAMESPACE = "ns\\') OR (1=1";

const H0 = Date.UTC(2025, 2, 10);
const H1 = H0 + HOUR;
const H2 = H0 + 2 * HOUR;
const MINUTE = 60_000;
const RANGE = { from: H0 - 30 * MINUTE, to: H2 + 30 * MINUTE };

const dashboard = loadDashboard();
let engine: TestEngine;

const written = (hour: number, final: boolean) => ({ is_final: final, version: 2, updated_at: hour + (final ? 65 : 30) * MINUTE });
const deployment = { workload_kind: 'deployment', workload: 'web' };
const noUsage = { cpu_efficiency: null, ram_efficiency: null, total_efficiency: null };

function acmeProd(hour: number, final: boolean): ExpenseRow[] {
  const w = written(hour, final);
  return [
    pod(hour, 'shop', 'web-1', { cpu_cost: 0.5, ram_cost: 0.3 }, { ...deployment, ...w, cpu_efficiency: 0.4, ram_efficiency: 0.5 }),
    pod(hour, 'shop', 'web-2', { cpu_cost: 0.1, ram_cost: 0.1 }, { ...deployment, ...w, cpu_efficiency: 0.9, ram_efficiency: 0.7 }),
    pod(hour, 'batch', 'etl-1', { cpu_cost: 0.4, ram_cost: 0.2 }, { ...w, node: 'n2', workload_kind: 'job', workload: 'etl', cpu_usage_avg: null, cpu_efficiency: null, ram_efficiency: 0.2, price_defaulted: true }),
    pod(hour, 'shop', '__unmounted__', { pv_cost: 0.1 }, { ...w, ...noUsage, node: '', workload_kind: '', workload: '', minutes: 0 }),
    { ...pod(hour, '__cluster__', 'aks', {}, { ...w, ...noUsage, node: '', workload_kind: 'cluster', workload: 'management' }), total_cost: 0.1 },
    idle(hour, 'n1', 0.3, 0.1, 0, w),
    idle(hour, 'n2', 0.2, -0.1, 0, { ...w, price_defaulted: true }),
  ];
}

function acmeStaging(hour: number): ExpenseRow[] {
  const w = { ...written(hour, true), cluster: 'staging' };
  return [
    pod(hour, 'shop', 'web-1', { cpu_cost: 0.2, ram_cost: 0.2 }, { ...deployment, ...w, node: 's1', cpu_efficiency: 0.5, ram_efficiency: 0.5 }),
    idle(hour, 's1', 0.1, 0, 0, w),
  ];
}

function globexProd(hour: number): ExpenseRow[] {
  const w = { ...written(hour, true), tenant_id: 'globex' };
  return [
    pod(hour, 'shop', 'web-1', { cpu_cost: 5, ram_cost: 5 }, { ...deployment, ...w, node: 'g1', cpu_efficiency: 0.1, ram_efficiency: 0.1, price_defaulted: true }),
    idle(hour, 'g1', 1, 0, 0, w),
  ];
}

/** Rows of an earlier write of H1, while it was open: FINAL must not count them. */
const superseded = (): ExpenseRow[] =>
  acmeProd(H1, false).map((r) => ({ ...r, version: 1, cpu_cost: r.cpu_cost * 10, ram_cost: r.ram_cost * 10, pv_cost: r.pv_cost * 10, total_cost: r.total_cost * 10 }));

const latest = (): ExpenseRow[] => [
  ...acmeProd(H0, true),
  ...acmeProd(H1, true),
  ...acmeProd(H2, false),
  pod(H0 - HOUR, 'shop', 'web-1', { cpu_cost: 100 }, { ...deployment, ...written(H0 - HOUR, true) }),
  ...acmeStaging(H1),
  ...globexProd(H0),
  ...globexProd(H1),
  ...globexProd(H2),
  pod(H1, EVIL_NAMESPACE, 'p-1', { cpu_cost: 1 }, { ...written(H1, true), tenant_id: 'initech', cluster: EVIL_CLUSTER }),
];

async function load(database: string, keep: (r: ExpenseRow) => boolean): Promise<void> {
  await migrate(engine.client, { database });
  await engine.client.command({ query: `SYSTEM STOP MERGES ${database}.k8s_expenses` });
  const sink = createExpenseSink(engine.client, { database });
  // Two inserts: within one insert block equal keys are already collapsed (optimize_on_insert).
  await sink.write(superseded().filter(keep));
  await sink.write(latest().filter(keep));
}

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await load(DATABASE, () => true);
  for (const [tenant, database] of Object.entries(ONLY)) await load(database, (r) => r.tenant_id === tenant);
});

afterAll(async () => {
  await engine?.close();
});

type Row = Record<string, unknown>;

interface Selection {
  tenant?: string;
  cluster?: VariableValue;
  namespace?: VariableValue;
  from?: number;
  to?: number;
  intervalSeconds?: number;
}

function context(s: Selection): QueryContext {
  return {
    from: s.from ?? RANGE.from,
    to: s.to ?? RANGE.to,
    intervalSeconds: s.intervalSeconds ?? 3600,
    variables: { tenant: s.tenant ?? 'acme', cluster: s.cluster ?? { all: ['prod', 'staging'] }, namespace: s.namespace ?? { all: ['__cluster__', '__idle__', 'batch', 'shop'] } },
  };
}

/** Runs `rawSql` as Grafana would, in `database` (the data source's default database). */
async function runSql(rawSql: string, s: Selection = {}, database = DATABASE): Promise<Row[]> {
  const sql = interpolate(rawSql, context(s));
  // The embedded engine's session keeps USE: set it for every query.
  await engine.client.command({ query: `USE ${database}` });
  return queryRows<Row>(engine.client, sql);
}

const panel = (title: string, s?: Selection) => runSql(panelSql(dashboard, title), s);
/** The options Grafana offers: the variable's query, then its regex. */
const options = async (name: string, s?: Selection) =>
  variableOptions(
    queryVariable(dashboard, name),
    (await runSql(variableSql(dashboard, name), s)).map((r) => String(Object.values(r)[0])),
  );

/** Numbers rounded to 6 decimals (sums of binary fractions), 64-bit integers (JSON strings) as numbers. */
function rounded(rows: Row[]): Row[] {
  return rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : /^\d+$/.test(String(v)) ? Number(v) : v])),
  );
}

describe('dashboard variables', () => {
  it('tenant lists every tenant', async () => {
    expect(await options('tenant')).toEqual(['acme', 'globex', 'initech']);
  });

  it("cluster lists the tenant's clusters with rows in the time range", async () => {
    expect(await options('cluster')).toEqual(['prod', 'staging']);
    expect(await options('cluster', { tenant: 'globex' })).toEqual(['prod']);
    expect(await options('cluster', { to: H0 + 30 * MINUTE })).toEqual(['prod']);
  });

  it("namespace lists the namespaces of the chosen clusters, idle and cluster management included", async () => {
    expect(await options('namespace')).toEqual(['__cluster__', '__idle__', 'batch', 'shop']);
    expect(await options('namespace', { cluster: ['staging'] })).toEqual(['__idle__', 'shop']);
  });

  it('does not offer a cluster or namespace holding a backslash (it could end the SQL string), yet All counts it', async () => {
    const initech = { tenant: 'initech', cluster: { all: [] }, namespace: { all: [] } };
    expect(await runSql(variableSql(dashboard, 'cluster'), initech)).toEqual([{ cluster: EVIL_CLUSTER }]);
    expect(await options('cluster', initech)).toEqual([]);
    expect(await options('namespace', initech)).toEqual([]);
    expect(rounded(await panel('Total cost', initech))).toEqual([{ cost: 1 }]);
  });
});

describe('dashboard panels on demo-like rows (tenant acme)', () => {
  it('Total cost: everything of the tenant in the range, latest versions only', async () => {
    expect(rounded(await panel('Total cost'))).toEqual([{ cost: 7.4 }]);
    expect(rounded(await panel('Total cost', { namespace: ['shop'] }))).toEqual([{ cost: 3.7 }]);
    expect(rounded(await panel('Total cost', { cluster: ['staging'] }))).toEqual([{ cost: 0.5 }]);
  });

  it('Cost by cluster: one point per interval and cluster ($__timeInterval)', async () => {
    expect(rounded(await panel('Cost by cluster'))).toEqual([
      { time: '2025-03-10 00:00:00', cluster: 'prod', cost: 2.3 },
      { time: '2025-03-10 01:00:00', cluster: 'prod', cost: 2.3 },
      { time: '2025-03-10 01:00:00', cluster: 'staging', cost: 0.5 },
      { time: '2025-03-10 02:00:00', cluster: 'prod', cost: 2.3 },
    ]);
    expect(rounded(await panel('Cost by cluster', { intervalSeconds: 7200, namespace: ['shop'] }))).toEqual([
      { time: '2025-03-10 00:00:00', cluster: 'prod', cost: 2.2 },
      { time: '2025-03-10 00:00:00', cluster: 'staging', cost: 0.4 },
      { time: '2025-03-10 02:00:00', cluster: 'prod', cost: 1.1 },
    ]);
  });

  it('Cost by namespace: per cluster and namespace, adding up to the total', async () => {
    expect(rounded(await panel('Cost by namespace'))).toEqual([
      { cluster: 'prod', namespace: 'shop', cost: 3.3, cpu: 1.8, ram: 1.2, gpu: 0, storage: 0.3, network: 0 },
      { cluster: 'prod', namespace: 'batch', cost: 1.8, cpu: 1.2, ram: 0.6, gpu: 0, storage: 0, network: 0 },
      { cluster: 'prod', namespace: '__idle__', cost: 1.5, cpu: 1.5, ram: 0, gpu: 0, storage: 0, network: 0 },
      { cluster: 'staging', namespace: 'shop', cost: 0.4, cpu: 0.2, ram: 0.2, gpu: 0, storage: 0, network: 0 },
      { cluster: 'prod', namespace: '__cluster__', cost: 0.3, cpu: 0, ram: 0, gpu: 0, storage: 0, network: 0 },
      { cluster: 'staging', namespace: '__idle__', cost: 0.1, cpu: 0.1, ram: 0, gpu: 0, storage: 0, network: 0 },
    ]);
  });

  it('Cost by workload: pods only, without idle, cluster management and __unmounted__', async () => {
    expect(rounded(await panel('Cost by workload'))).toEqual([
      { cluster: 'prod', namespace: 'shop', workload_kind: 'deployment', workload: 'web', cost: 3, pods: 2, inferred: 0 },
      { cluster: 'prod', namespace: 'batch', workload_kind: 'job', workload: 'etl', cost: 1.8, pods: 1, inferred: 0 },
      { cluster: 'staging', namespace: 'shop', workload_kind: 'deployment', workload: 'web', cost: 0.4, pods: 1, inferred: 0 },
    ]);
  });

  it('Top pods: pods only, most expensive first', async () => {
    expect(rounded(await panel('Top pods'))).toEqual([
      { cluster: 'prod', namespace: 'shop', pod: 'web-1', workload: 'web', cost: 2.4, hours_running: 3 },
      { cluster: 'prod', namespace: 'batch', pod: 'etl-1', workload: 'etl', cost: 1.8, hours_running: 3 },
      { cluster: 'prod', namespace: 'shop', pod: 'web-2', workload: 'web', cost: 0.6, hours_running: 3 },
      { cluster: 'staging', namespace: 'shop', pod: 'web-1', workload: 'web', cost: 0.4, hours_running: 1 },
    ]);
  });

  it('Efficiency: usage over request weighted by cost, pod-hours without usage left out', async () => {
    // prod/shop CPU: (0.5 x 0.4 + 0.1 x 0.9) / (0.5 + 0.1) = 0.29 / 0.6; RAM: (0.3 x 0.5 + 0.1 x 0.7) / 0.4.
    expect(rounded(await panel('Efficiency (cost-weighted)'))).toEqual([
      { cluster: 'prod', namespace: 'shop', cost: 3, cpu_efficiency: 0.483333, ram_efficiency: 0.55 },
      { cluster: 'prod', namespace: 'batch', cost: 1.8, cpu_efficiency: null, ram_efficiency: 0.2 },
      { cluster: 'staging', namespace: 'shop', cost: 0.4, cpu_efficiency: 0.5, ram_efficiency: 0.5 },
    ]);
  });

  it('Idle share: idle over total per cluster, negative idle included, whatever the namespaces', async () => {
    const expected = [
      { cluster: 'prod', idle: 1.5, total: 6.9, idle_share: 0.217391 },
      { cluster: 'staging', idle: 0.1, total: 0.5, idle_share: 0.2 },
    ];
    expect(rounded(await panel('Idle share'))).toEqual(expected);
    expect(rounded(await panel('Idle share', { namespace: ['shop'] }))).toEqual(expected);
  });

  it('Default-priced share: cost computed with default prices over total, per cluster', async () => {
    expect(rounded(await panel('Default-priced share'))).toEqual([
      { cluster: 'prod', default_priced: 2.1, total: 6.9, default_priced_share: 0.304348 },
      { cluster: 'staging', default_priced: 0, total: 0.5, default_priced_share: 0 },
    ]);
    expect(rounded(await panel('Default-priced share', { namespace: ['batch'] }))).toEqual([{ cluster: 'prod', default_priced: 1.8, total: 1.8, default_priced_share: 1 }]);
  });

  it('Data freshness: newest hour per cluster and whether it is final, whatever the time range', async () => {
    const expected = [
      { cluster: 'prod', newest_hour: '2025-03-10 02:00:00', state: 'provisional', last_written: '2025-03-10 02:30:00.000' },
      { cluster: 'staging', newest_hour: '2025-03-10 01:00:00', state: 'final', last_written: '2025-03-10 02:05:00.000' },
    ];
    expect(await panel('Data freshness')).toEqual(expected);
    expect(await panel('Data freshness', { from: H0 - 30 * MINUTE, to: H0 + 30 * MINUTE })).toEqual(expected);
    expect(await panel('Data freshness', { cluster: ['staging'] })).toEqual([expected[1]]);
    expect(await panel('Data freshness', { tenant: 'globex' })).toEqual([
      { cluster: 'prod', newest_hour: '2025-03-10 02:00:00', state: 'final', last_written: '2025-03-10 03:05:00.000' },
    ]);
  });

  it('every panel query, variables filled in, is also a plain read the SQL endpoint accepts', () => {
    for (const p of dataPanels(dashboard)) {
      const checked = checkReadOnlyQuery(interpolate(panelSql(dashboard, p.title), context({})), { database: DATABASE });
      expect(checked, p.title).toMatchObject({ ok: true });
    }
  });
});

describe('tenant isolation', () => {
  const selections: Selection[] = [{}, { cluster: ['prod'] }, { namespace: ['shop'] }, { cluster: ['prod'], namespace: ['shop'] }];
  const queries = [
    ...dataPanels(dashboard).map((p) => [`panel "${p.title}"`, panelSql(dashboard, p.title)] as const),
    ...['cluster', 'namespace'].map((name) => [`variable ${name}`, variableSql(dashboard, name)] as const),
  ];

  it.each(Object.keys(ONLY))("with tenant %s chosen, every panel and variable shows exactly what that tenant's rows alone give", async (tenant) => {
    for (const [name, sql] of queries) {
      for (const s of selections) {
        const selection = { ...s, tenant };
        const alone = await runSql(sql, selection, ONLY[tenant as keyof typeof ONLY]);
        expect(await runSql(sql, selection), `${name} ${JSON.stringify(s)}`).toEqual(alone);
      }
    }
  });

  it('the numbers differ between the tenants (so the comparison above can fail)', async () => {
    expect(rounded(await panel('Total cost', { tenant: 'globex', cluster: { all: ['prod'] } }))).toEqual([{ cost: 33 }]);
  });

  it('a tenant value written to break out of its quotes matches no rows', async () => {
    for (const tenant of ["acme' OR tenant_id != '", "x' OR '1'='1", "acme'' OR 1=1 -- "]) {
      for (const [name, sql] of queries) {
        const rows = await runSql(sql, { tenant });
        const empty = name === 'panel "Total cost"' ? [{ cost: 0 }] : [];
        expect(rows, `${name} with tenant ${tenant}`).toEqual(empty);
      }
    }
  });
});
