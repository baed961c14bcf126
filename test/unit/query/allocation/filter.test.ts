import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../../query/allocation/filter-parse.ts';
import { filterSql } from '../../../../query/allocation/filter-sql.ts';
import { ParameterError } from '../../../../query/allocation/parameter-error.ts';
import { BoundValues } from '../../../../query/sql-values.ts';

const compare = (field: string, value: string, match = 'equals', key?: string) => ({ type: 'compare', field, match, value, ...(key === undefined ? {} : { key }) });

describe('parseFilter', () => {
  it('an empty filter matches everything', () => {
    expect(parseFilter(undefined)).toEqual({ type: 'all' });
    expect(parseFilter('  ')).toEqual({ type: 'all' });
  });

  it('reads one comparison', () => {
    expect(parseFilter('namespace:"kube-system"')).toEqual(compare('namespace', 'kube-system'));
  });

  it("ORs a comparison's values, ANDs them when negated", () => {
    expect(parseFilter('cluster:"a","b"')).toEqual({ type: 'or', operands: [compare('cluster', 'a'), compare('cluster', 'b')] });
    expect(parseFilter('namespace!:"a","b"')).toEqual({
      type: 'and',
      operands: [
        { type: 'not', operand: compare('namespace', 'a') },
        { type: 'not', operand: compare('namespace', 'b') },
      ],
    });
  });

  it('reads + as AND, | as OR, parentheses, every operator and label keys', () => {
    expect(parseFilter('namespace:"a" + (label[app.kubernetes.io/name]~:"web" | pod<~:"x") + node!~>:"-2"')).toEqual({
      type: 'and',
      operands: [
        compare('namespace', 'a'),
        { type: 'or', operands: [compare('label', 'web', 'contains', 'app_kubernetes_io_name'), compare('pod', 'x', 'prefix')] },
        { type: 'not', operand: compare('node', '-2', 'suffix') },
      ],
    });
  });

  it('takes "__unallocated__" for empty, and controller as controllerName', () => {
    expect(parseFilter('controllerKind:"__unallocated__"')).toEqual(compare('controllerKind', ''));
    expect(parseFilter('controller:"web"')).toEqual(compare('controllerName', 'web'));
  });

  it('reads a label without key as "the label exists"', () => {
    expect(parseFilter('label:"team"')).toEqual(compare('label', 'team'));
  });

  it.each([
    ['namespace:"a" + cluster:"b" | pod:"c"', /position 29: '\+' and '\|' cannot be mixed/],
    ['namespace:kube-system', /position 11: expected a quoted value/],
    ['namespace:"kube-system', /position 11: unterminated string/],
    ['(namespace:"a"', /expected '\)' to close '\('/],
    ['namespace:"a")', /'\)' without a matching '\('/],
    ['container:"app"', /container is not supported/],
    ['owner:"x"', /owner is not supported/],
    ['bogus:"x"', /unknown field "bogus"/],
    ['namespace[x]:"a"', /namespace takes no \[key\]/],
    ['namespace="a"', /unexpected character "="/],
    ['namespace:"a" namespace:"b"', /unexpected "namespace"/],
    ['"); DROP TABLE k8s_expenses; --', /position 1: unterminated string/],
    ['namespace:"x") OR 1=1 --', /position 20: unexpected character "="/],
  ])('refuses %j, saying where', (text, message) => {
    expect(() => parseFilter(text)).toThrow(ParameterError);
    expect(() => parseFilter(text)).toThrow(message);
  });

  it('refuses nesting that is too deep and overlong filters', () => {
    expect(() => parseFilter(`${'('.repeat(40)}namespace:"a"${')'.repeat(40)}`)).toThrow(/nested deeper than 32/);
    expect(() => parseFilter(`namespace:"${'a'.repeat(9000)}"`)).toThrow(/longer than 8192/);
  });
});

describe('filterSql', () => {
  it('maps fields to columns and binds every value and key', () => {
    const values = new BoundValues();
    const sql = filterSql(parseFilter('namespace:"a" + label[team]!:"x" + (pod~:"b" | cluster<~:"c") + label:"env" + label<~:"k"'), values);
    expect(sql).toBe(
      '((p_namespace = {v0:String}) AND NOT (labels[{v2:String}] = {v1:String}) AND ((position(p_pod, {v3:String}) > 0) OR (startsWith(cluster, {v4:String}))) AND (mapContains(labels, {v5:String})) AND (arrayExists(name -> startsWith(name, {v6:String}), mapKeys(labels))))',
    );
    expect(values.params).toEqual({ v0: 'a', v1: 'x', v2: 'team', v3: 'b', v4: 'c', v5: 'env', v6: 'k' });
  });

  it('an empty filter is 1', () => {
    expect(filterSql({ type: 'all' }, new BoundValues())).toBe('1');
  });

  it('the SQL text never depends on the values: they are all bound', () => {
    // Values and keys may hold anything but their own terminator.
    const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('"') && !s.includes(']') && s.trim() !== '');
    const sqlOf = (value: string, key: string) => filterSql(parseFilter(`label[${key}]:"${value}" | namespace~:"${value}"`), new BoundValues());
    fc.assert(
      fc.property(text, text, (value, key) => {
        expect(sqlOf(value, key)).toBe(sqlOf('x', 'k'));
      }),
    );
  });
});
