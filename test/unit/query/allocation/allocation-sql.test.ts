import { describe, expect, it } from 'vitest';
import { buildAllocationQuery } from '../../../../query/allocation/allocation-sql.ts';
import { parseAllocationRequest, type QueryParameters } from '../../../../query/allocation/request.ts';

const NOW = Date.UTC(2024, 4, 15, 13, 37);
const LIMITS = { maxResultRows: 5000 };
const build = (query: QueryParameters, tenant = 'acme', database = 'k8s') => buildAllocationQuery(parseAllocationRequest(query, NOW, 1000), tenant, database, LIMITS);

const HOSTILE = ["'); DROP TABLE k8s_expenses; --", "\\' OR 1=1 --", "te'am\"x", 'x} OR {tenant:String}'];

describe('buildAllocationQuery', () => {
  it('restricts the rows to the tenant through a bound parameter', () => {
    const { sql, params } = build({ window: '1d' });
    expect(sql).toContain("WHERE (tenant_id = {tenant:String} AND hour >= toDateTime({window_start:UInt32}) AND hour < toDateTime({window_end:UInt32})) AND namespace != '__idle__'");
    expect(build({ window: '1d', includeIdle: 'true' }).sql).toContain('WHERE tenant_id = {tenant:String} AND hour >= toDateTime({window_start:UInt32}) AND hour < toDateTime({window_end:UInt32})\n');
    expect(params).toMatchObject({ tenant: 'acme', window_start: NOW / 1000 - (NOW / 1000) % 86400, step_seconds: 86400 });
    expect(sql).toContain('FROM k8s.k8s_expenses FINAL');
  });

  // Time and memory limits are the reader's, for every read (test/unit/query/reader.test.ts).
  it('limits the answer by rows, and leaves its SETTINGS to the reader', () => {
    const { sql } = build({ window: '1d' });
    expect(sql).toMatch(/\nLIMIT 5001$/);
    expect(sql).not.toContain('SETTINGS');
  });

  it.each(HOSTILE)('never writes a value into the SQL text: %s', (hostile) => {
    const query = {
      window: '1d',
      aggregate: `namespace,label:${hostile}`,
      filter: `namespace:"${hostile.replace(/"/g, '')}" | label[${hostile.replace(/]/g, '')}]!:"${hostile.replace(/"/g, '')}"`,
      shareNamespaces: `kube-system,${hostile.replace(/,/g, '')}`,
      shareIdle: 'true',
      includeIdle: 'true',
    };
    const { sql, params } = build(query, hostile);
    const benign = build({ ...query, aggregate: 'namespace,label:x', filter: 'namespace:"x" | label[x]!:"x"', shareNamespaces: 'kube-system,x' }, 'x');
    // The text is the same whatever the values: they all travel as parameters.
    expect(sql).toBe(benign.sql);
    expect(params.tenant).toBe(hostile);
    expect(Object.values(params)).toContainEqual(['kube-system', hostile.replace(/,/g, '')]);
  });

  it('refuses a database name that is not an identifier', () => {
    expect(() => build({ window: '1d' }, 'acme', 'k8s; DROP TABLE x')).toThrow(/plain identifier/);
  });

  it('refuses limits that are not positive integers', () => {
    const request = parseAllocationRequest({ window: '1d' }, NOW, 10);
    expect(() => buildAllocationQuery(request, 'acme', 'k8s', { maxResultRows: 0 })).toThrow(/maxResultRows/);
    expect(() => buildAllocationQuery(request, 'acme', 'k8s', { maxResultRows: 1.5 })).toThrow(/maxResultRows/);
  });

  it('reads idle rows only when idle is wanted', () => {
    expect(build({ window: '1d' }).sql).toContain("AND namespace != '__idle__'");
    expect(build({ window: '1d', includeIdle: 'true' }).sql).not.toContain("AND namespace != '__idle__'");
  });

  it('splits idle per node with idleByNode', () => {
    expect(build({ window: '1d', shareIdle: 'true', idleByNode: 'true' }).sql).toContain('node AS idle_scope');
    expect(build({ window: '1d', shareIdle: 'true' }).sql).toContain("'' AS idle_scope");
  });

  it('sums sets into one when accumulating', () => {
    expect(build({ window: '1d', step: '1h', accumulate: 'true' }).sql).toContain('0 AS set_index');
    expect(build({ window: '1d', step: '1h' }).sql).toContain('bucket AS set_index');
  });
});
