import { describe, expect, it } from 'vitest';
import { DEFAULT_AGGREGATE, allocationNameSql, namesPods, parseAggregate, sanitizeLabelName } from '../../../../query/allocation/aggregate.ts';
import { ParameterError } from '../../../../query/allocation/parameter-error.ts';
import { BoundValues } from '../../../../query/sql-values.ts';

describe('parseAggregate', () => {
  it('defaults to the finest rows: cluster, node, namespace, pod', () => {
    expect(parseAggregate(undefined)).toEqual(DEFAULT_AGGREGATE);
    expect(parseAggregate(' ')).toEqual(DEFAULT_AGGREGATE);
  });

  it('reads names case-insensitively, in order, without duplicates', () => {
    expect(parseAggregate('namespace, ControllerKind,namespace,controller,pod,node,cluster')).toEqual([
      { kind: 'namespace' },
      { kind: 'controllerKind' },
      { kind: 'controller' },
      { kind: 'pod' },
      { kind: 'node' },
      { kind: 'cluster' },
    ]);
  });

  it('reads labels with their names sanitised as Prometheus does', () => {
    expect(parseAggregate('label:app.kubernetes.io/name,namespace')).toEqual([{ kind: 'label', label: 'app_kubernetes_io_name' }, { kind: 'namespace' }]);
    expect(sanitizeLabelName(` te"am' `)).toBe('te_am_');
  });

  it('reads controller kinds as aggregations', () => {
    expect(parseAggregate('deployment')).toEqual([{ kind: 'controllerOf', controllerKind: 'deployment' }]);
  });

  it.each([
    ['container', /"container" is not supported: rows are per pod/],
    ['annotation:owner', /not supported: rows carry no annotations/],
    ['team', /label aliases are not configured: use label:<name>/],
    ['label:', /needs a label name/],
    ['namespace,bogus', /"bogus" is not a property: use cluster, node/],
    ["namespace') OR 1=1 --", /is not a property/],
  ])('refuses %j', (text, message) => {
    expect(() => parseAggregate(text)).toThrow(ParameterError);
    expect(() => parseAggregate(text)).toThrow(message);
  });
});

describe('allocationNameSql', () => {
  it('joins the parts with "/" and binds label names', () => {
    const values = new BoundValues();
    const sql = allocationNameSql(parseAggregate(`namespace,label:te"am`), values);
    expect(sql).toBe(
      "concat(namespace, '/', multiIf(row_class = 'cluster', '__cluster__', row_class = 'unmounted', '__unmounted__', if(mapContains(labels, {v0:String}), labels[{v0:String}], '__unallocated__')))",
    );
    expect(values.params).toEqual({ v0: 'te_am' });
  });

  it('names controllers "kind:name", as OpenCost does', () => {
    expect(allocationNameSql(parseAggregate('controller'), new BoundValues())).toContain("concat(workload_kind, ':', workload)");
  });

  it('one property is its expression alone', () => {
    expect(allocationNameSql(parseAggregate('cluster'), new BoundValues())).toBe('cluster');
  });

  it('knows when names tell pods apart', () => {
    expect(namesPods(parseAggregate('namespace,pod'))).toBe(true);
    expect(namesPods(parseAggregate('namespace'))).toBe(false);
  });
});
