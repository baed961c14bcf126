// The Grafana dashboard in deploy/grafana/dashboards: well-formed for file provisioning, every query
// written for the ClickHouse data source plugin, and every macro, variable and format one that
// test/support/grafana.ts expands as the plugin does (so a typo fails here, not in front of a user).
// The expansion itself is checked against the plugin's documented output. The queries run against
// the embedded engine in test/integration/deploy/grafana-dashboard.test.ts.
import { describe, expect, it } from 'vitest';
import {
  CLICKHOUSE_PLUGIN,
  SUPPORTED_MACROS,
  dataPanels,
  interpolate,
  loadDashboard,
  macrosUsed,
  variableOptions,
  type QueryContext,
} from '../../support/grafana.ts';

const dashboard = loadDashboard();
const panels = dataPanels(dashboard);
const variables = dashboard.templating.list;
const queryVariables = variables.filter((v) => v.type === 'query');
const DATASOURCE = { type: CLICKHOUSE_PLUGIN, uid: '${datasource}' };

/** Every SQL text of the dashboard, named. */
const queries: [string, string][] = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t): [string, string] => [`panel "${p.title}" ${t.refId}`, t.rawSql ?? ''])),
  ...queryVariables.map((v): [string, string] => [`variable ${v.name}`, typeof v.query === 'object' ? (v.query.rawSql ?? '') : '']),
];

// 2024-03-10T10:15:30Z .. 2024-03-11T10:15:30Z
const FROM = Date.UTC(2024, 2, 10, 10, 15, 30, 250);
const TO = Date.UTC(2024, 2, 11, 10, 15, 30, 999);
const ctx = (variables: QueryContext['variables'], intervalSeconds = 3600): QueryContext => ({ from: FROM, to: TO, intervalSeconds, variables });

describe('interpolate: the SQL Grafana sends for a rawSql', () => {
  it('expands the time macros as the plugin documents them', () => {
    const sql = interpolate('SELECT $__timeInterval(hour) AS time, $__interval_s AS s FROM t WHERE $__timeFilter(hour) AND x BETWEEN $__fromTime AND $__toTime', ctx({}, 7200.9));
    expect(sql).toBe(
      'SELECT toStartOfInterval(toDateTime(hour), INTERVAL 7200 second) AS time, 7200 AS s FROM t ' +
        'WHERE hour >= toDateTime(1710065730) AND hour <= toDateTime(1710152130) AND x BETWEEN toDateTime(1710065730) AND toDateTime(1710152130)',
    );
  });

  it('never gives an interval below one second', () => {
    expect(interpolate('$__interval_s', ctx({}, 0.2))).toBe('1');
  });

  it('replaces $__conditionalAll by 1=1 for All or an empty selection, else by the condition with the values quoted', () => {
    const sql = 'WHERE $__conditionalAll(ns IN (${ns:sqlstring}), $ns) AND $__conditionalAll(c IN (${c:sqlstring}), ${c})';
    expect(interpolate(sql, ctx({ ns: { all: ['a', 'b'] }, c: [] }))).toBe('WHERE 1=1 AND 1=1');
    expect(interpolate(sql, ctx({ ns: ['a', 'b'], c: ['x'] }))).toBe("WHERE ns IN ('a','b') AND c IN ('x')");
  });

  it("quotes values with :sqlstring and doubles their quotes, so a value cannot end the string", () => {
    expect(interpolate('t = ${t:sqlstring}', ctx({ t: "x' OR '1'='1" }))).toBe("t = 'x'' OR ''1''=''1'");
    expect(interpolate('t IN (${t:sqlstring})', ctx({ t: { all: ["o'b", 'c'] } }))).toBe("t IN ('o''b','c')");
  });

  it("formats a plain $var the plugin's way: one value as is, several quoted (unescaped)", () => {
    expect(interpolate('$v / ${v}', ctx({ v: 'a' }))).toBe('a / a');
    expect(interpolate('IN ($v)', ctx({ v: ['a', 'b'] }))).toBe("IN ('a','b')");
  });

  it('refuses what it does not implement, so a typo cannot pass', () => {
    expect(() => interpolate('WHERE $__timeFiltr(hour)', ctx({}))).toThrow(/\$__timeFiltr/);
    expect(() => interpolate('WHERE $__timeFilter', ctx({}))).toThrow(/takes 1 argument/);
    expect(() => interpolate('WHERE $__timeFilter(hour', ctx({}))).toThrow(/unbalanced/);
    expect(() => interpolate('WHERE t = ${tenant:csv}', ctx({ tenant: 'a' }))).toThrow(/format "csv"/);
    expect(() => interpolate('WHERE t = ${tenant}', ctx({}))).toThrow(/variable "tenant"/);
    expect(() => interpolate('$__conditionalAll(c IN (${c:sqlstring}), ${c:sqlstring})', ctx({ c: ['x'] }))).toThrow(/second argument/);
  });
});

describe('deploy/grafana/dashboards/k8s-expenses.json', () => {
  it('has what file provisioning needs: a stable uid, a title, a schema version and a time range', () => {
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.title.trim()).not.toBe('');
    expect(Number.isInteger(dashboard.schemaVersion)).toBe(true);
    expect(dashboard.time).toEqual({ from: expect.any(String), to: expect.any(String) });
    expect((dashboard as { id?: unknown }).id ?? null).toBeNull();
  });

  it('has the panels the platform teams asked for', () => {
    expect(panels.map((p) => p.title).sort()).toEqual(
      ['Cost by cluster', 'Cost by namespace', 'Cost by workload', 'Data freshness', 'Default-priced share', 'Efficiency (cost-weighted)', 'Idle share', 'Top pods', 'Total cost'].sort(),
    );
  });

  it('chooses its ClickHouse data source with a variable of the plugin type, defaulting to the provisioned uid', () => {
    const ds = variables.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: CLICKHOUSE_PLUGIN });
    expect(ds?.current?.value).toBe('k8s-expenses-clickhouse');
  });

  it('has unique panel ids and a layout inside the 24-column grid without overlaps', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, p.title).toBe(true);
      for (let cx = x; cx < x + w; cx++) {
        for (let cy = y; cy < y + h; cy++) {
          const cell = `${cx},${cy}`;
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it.each(panels.map((p) => [p.title, p]))('panel "%s" queries the ClickHouse data source by uid and type with one SQL query', (_title, p) => {
    expect(p.datasource).toEqual(DATASOURCE);
    expect(p.targets?.length).toBe(1);
    const [target] = p.targets!;
    expect(target).toMatchObject({ refId: 'A', datasource: DATASOURCE, editorType: 'sql' });
    expect(target.rawSql?.trim()).toMatch(/^SELECT\b/);
    // Time series panels need the time series format (long rows become one series per cluster).
    expect([target.format, target.queryType]).toEqual(p.type === 'timeseries' ? [0, 'timeseries'] : [1, 'table']);
    if (p.type === 'timeseries') expect(p.interval, 'rows are hourly: no bucket below an hour').toBe('1h');
    expect(p.description?.trim(), 'a description says what the panel counts').toBeTruthy();
  });

  it('builds tenant, cluster and namespace from queries; one tenant at a time, clusters and namespaces multi-valued with All', () => {
    expect(queryVariables.map((v) => v.name)).toEqual(['tenant', 'cluster', 'namespace']);
    for (const v of queryVariables) {
      expect(v.datasource, v.name).toEqual(DATASOURCE);
      expect(v.query, v.name).toMatchObject({ editorType: 'sql', rawSql: expect.stringMatching(/^SELECT DISTINCT/) });
    }
    const [tenant, cluster, namespace] = queryVariables;
    expect([tenant.multi ?? false, tenant.includeAll ?? false]).toEqual([false, false]);
    for (const v of [cluster, namespace]) {
      expect([v.multi, v.includeAll, v.allValue ?? null], v.name).toEqual([true, true, null]);
      // Options follow the time range.
      expect(v.refresh, v.name).toBe(2);
    }
  });

  it('offers no value that could end an SQL string, and accepts none outside the options', () => {
    // sqlstring doubles quotes, but ClickHouse also reads a backslash as an escape character.
    for (const v of queryVariables) {
      expect(variableOptions(v, ['prod', "o'brien", 'a\\', "x\\' OR 1=1 -- ", 'ü-1']), v.name).toEqual(['prod', "o'brien", 'ü-1']);
      expect(v.allowCustomValue, v.name).toBe(false);
    }
  });

  it.each(queries)('%s uses only macros the tests expand', (_name, sql) => {
    for (const macro of macrosUsed(sql)) expect(SUPPORTED_MACROS, `$__${macro}`).toContain(macro);
    const expanded = interpolate(sql, ctx({ tenant: 'acme', cluster: ['prod'], namespace: { all: ['shop'] } }));
    expect(expanded).not.toMatch(/\$|\[\[/);
  });

  it.each(queries)('%s reads only the chosen tenant: every read of k8s_expenses is filtered by ${tenant:sqlstring}', (_name, sql) => {
    const reads = sql.match(/\bFROM\s+k8s_expenses\b/g) ?? [];
    if (_name === 'variable tenant') return expect(reads.length).toBe(1);
    expect(reads.length).toBeGreaterThan(0);
    expect(sql.match(/\btenant_id = \$\{tenant:sqlstring\}/g)?.length).toBe(reads.length);
  });
});
