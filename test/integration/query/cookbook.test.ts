// Every SQL block of processor/clickhouse/COOKBOOK.md passes the guard and runs on the embedded
// engine against rows that still hold superseded versions (merges stopped), so FINAL matters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { deletionRow, expenseRowKey, type ExpenseRow } from '../../../processor/clickhouse/expense-row.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { DEFAULT_FORMAT, runReadQuery } from '../../../query/read-query.ts';
import { checkReadOnlyQuery } from '../../../query/sql-guard.ts';
import { expenseRow, hourAgo, openTestEngine, queryRows, type TestEngine } from '../../support/clickhouse-engine.ts';

const DATABASE = 'k8s';
const cookbook = readFileSync(join(import.meta.dirname, '../../../query/COOKBOOK.md'), 'utf8');
const blocks = [...cookbook.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]);
const titled = (title: string): string => {
  const block = blocks.find((b) => b.startsWith(`-- ${title}\n`));
  if (!block) throw new Error(`no COOKBOOK.md query titled "${title}"`);
  return block;
};

let engine: TestEngine;

/** Final rows for two days of three namespaces in two clusters, plus superseded provisional rows. */
function seed(): { rows: ExpenseRow[]; finalCostByNamespace: Map<string, number> } {
  const rows: ExpenseRow[] = [];
  const finalCostByNamespace = new Map<string, number>();
  const pods = [
    { namespace: 'shop', pod: 'web-1', workload: 'web', team: 'storefront', cost: 0.5 },
    { namespace: 'shop', pod: 'web-2', workload: 'web', team: 'storefront', cost: 0.25 },
    { namespace: 'batch', pod: 'etl-1', workload: 'etl', team: 'data', cost: 1 },
    { namespace: 'kube-system', pod: 'dns-1', workload: 'coredns', team: '', cost: 0.125 },
    // A pod's first minutes: a fraction of a cent, which must not print as 0.
    { namespace: 'sidecars', pod: 'proxy-1', workload: 'proxy', team: 'mesh', cost: 0.000_003_814_697_265_625 },
  ];
  for (const cluster of ['prod', 'staging']) {
    for (let h = 1; h <= 48; h++) {
      for (const p of pods) {
        const base = { cluster, namespace: p.namespace, pod: p.pod, workload: p.workload, hour: hourAgo(h), labels: (p.team ? { team: p.team } : {}) as Record<string, string> };
        const open = h === 1;
        rows.push(expenseRow({ ...base, total_cost: p.cost * 3, cpu_cost: p.cost * 2, is_final: false, version: 1 }));
        if (!open) rows.push(expenseRow({ ...base, total_cost: p.cost, cpu_cost: p.cost / 2, is_final: true, version: 2, price_defaulted: cluster === 'staging' }));
        finalCostByNamespace.set(p.namespace, (finalCostByNamespace.get(p.namespace) ?? 0) + (open ? p.cost * 3 : p.cost));
      }
    }
  }
  // A pod alone in its namespace, written and then deleted (its hour's rewrite no longer had it):
  // no query may show it or its namespace.
  for (const cluster of ['prod', 'staging']) {
    for (let h = 1; h <= 48; h++) {
      const base = { cluster, namespace: 'gone', pod: 'moved-1', workload: 'moved', hour: hourAgo(h) };
      rows.push(expenseRow({ ...base, total_cost: 5, is_final: false, version: 1 }));
      rows.push(deletionRow('acme', cluster, base.hour, expenseRowKey(base), h !== 1, 2, Date.now()));
    }
  }
  return { rows, finalCostByNamespace };
}

let expectedCost: Map<string, number>;

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  await engine.client.command({ query: `SYSTEM STOP MERGES ${DATABASE}.k8s_expenses` });
  const { rows, finalCostByNamespace } = seed();
  expectedCost = finalCostByNamespace;
  // Two inserts: within one insert block equal keys are already collapsed (optimize_on_insert).
  const sink = createExpenseSink(engine.client, { database: DATABASE });
  await sink.write(rows.filter((r) => r.version === 1));
  await sink.write(rows.filter((r) => r.version === 2));
});

afterAll(async () => {
  await engine?.close();
});

describe('COOKBOOK.md', () => {
  it('has queries', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it.each(blocks.map((sql) => [sql.split('\n')[0], sql]))('%s: passes the guard and runs', async (_title, sql) => {
    const checked = checkReadOnlyQuery(sql, { database: DATABASE });
    expect(checked).toMatchObject({ ok: true });
    if (!checked.ok) return;
    const rows = await queryRows(engine.client, checked.sql);
    expect(rows.length).toBeGreaterThan(0);
    // And as ClickHouse's table, the way `npm run sql` prints it by default: one line per row
    // between the header and the bottom border.
    const table = (await runReadQuery(engine.client, checked.sql, DEFAULT_FORMAT)).split('\n');
    expect(table.at(-2)).toMatch(/^ *└─.*┘$/);
    expect(table.filter((l) => /^ *\d+\. │/.test(l))).toHaveLength(rows.length);
  });

  it('gets the latest versions with FINAL and with argMax alike, and not without them', async () => {
    const byFinal = await queryRows<{ namespace: string; cost: number }>(engine.client, titled('Cost by namespace, last 7 days'));
    const byArgMax = await queryRows<{ namespace: string; cost: number }>(engine.client, titled('Cost by namespace, last 7 days, with argMax'));
    const expected = [...expectedCost].map(([namespace, cost]) => ({ namespace, cost: Math.round(cost * 1e6) / 1e6 }));
    expected.sort((a, b) => b.cost - a.cost || a.namespace.localeCompare(b.namespace));
    expect(byFinal.map(({ namespace, cost }) => ({ namespace, cost }))).toEqual(expected);
    expect(byArgMax).toEqual(expected);
    // Every namespace shows a cost, the one of a few micro-dollars an hour included.
    for (const row of byFinal) expect(row.cost, row.namespace).toBeGreaterThan(0);
    expect(byFinal.find((r) => r.namespace === 'sidecars')?.cost).toBe(0.000381);
    const naive = titled('Cost by namespace, last 7 days').replace(' FINAL', '');
    expect(await queryRows(engine.client, naive)).not.toEqual(byFinal);
    // The deleted key counts with argMax unless its latest row is dropped as a deletion.
    const withoutHaving = titled('Cost by namespace, last 7 days, with argMax').replace(/\n\s*HAVING [^\n]*/, '');
    expect(withoutHaving).not.toBe(titled('Cost by namespace, last 7 days, with argMax'));
    expect((await queryRows<{ namespace: string }>(engine.client, withoutHaving)).map((r) => r.namespace)).toContain('gone');
  });

  it('shows no deleted key, in any query', async () => {
    for (const sql of blocks) {
      if (sql.startsWith('-- Applied migrations')) continue;
      const text = JSON.stringify(await queryRows(engine.client, sql));
      expect(text, sql.split('\n')[0]).not.toMatch(/gone|moved/);
    }
    expect(await queryRows(engine.client, `SELECT count() AS n FROM ${DATABASE}.k8s_expenses_final WHERE namespace = 'gone'`)).toEqual([{ n: '0' }]);
  });

  it('shares kube-system over the other namespaces without changing the total', async () => {
    const shared = await queryRows<{ namespace: string; cost: number; shared_namespaces: number }>(engine.client, titled('Cost by namespace, idle and kube-system shared, last 7 days'));
    expect(shared.map((r) => r.namespace).sort()).toEqual(['batch', 'shop', 'sidecars']);
    const total = [...expectedCost.values()].reduce((a, b) => a + b, 0);
    expect(shared.reduce((sum, r) => sum + r.cost, 0)).toBeCloseTo(total, 3);
    // kube-system's cost, split in proportion to cost: batch 1 for every 0.75 of shop (and the few
    // micro-dollars of sidecars).
    const kubeSystem = expectedCost.get('kube-system')!;
    const weights = 1 + 0.75 + 2 ** -18;
    expect(shared.find((r) => r.namespace === 'batch')!.shared_namespaces).toBeCloseTo((kubeSystem * 1) / weights, 3);
    expect(shared.find((r) => r.namespace === 'sidecars')!.cost).toBeGreaterThan(0);
  });

  it('reports the open hour as provisional', async () => {
    const rows = await queryRows<{ cluster: string; provisional_rows: string; share_default_priced: number }>(
      engine.client,
      titled('Latest hour, provisional rows and default-priced cost per cluster'),
    );
    expect(rows.map((r) => [r.cluster, r.provisional_rows])).toEqual([
      ['prod', '5'],
      ['staging', '5'],
    ]);
  });
});
