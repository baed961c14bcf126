import { describe, expect, it } from 'vitest';
import { formatCell, renderTable } from '../../../query/pretty-table.ts';

describe('renderTable', () => {
  it('aligns columns, numbers to the right, and counts rows', () => {
    const text = renderTable({
      names: ['namespace', 'cost', 'efficiency'],
      types: ['LowCardinality(String)', 'Float64', 'Nullable(Float64)'],
      rows: [
        ['kube-system', 12.5, null],
        ['default', 3, 0.25],
      ],
    });
    expect(text).toBe(
      [
        '┌─namespace───┬─cost─┬─efficiency─┐',
        '│ kube-system │ 12.5 │       NULL │',
        '│ default     │    3 │       0.25 │',
        '└─────────────┴──────┴────────────┘',
        '2 rows',
        '',
      ].join('\n'),
    );
  });

  it('shows the header of an empty result', () => {
    expect(renderTable({ names: ['x'], types: ['UInt8'], rows: [] })).toBe('┌─x─┐\n└───┘\n0 rows\n');
  });

  it('says "1 row"', () => {
    expect(renderTable({ names: ['x'], types: ['String'], rows: [['a']] })).toMatch(/\n1 row\n$/);
  });
});

describe('formatCell', () => {
  it.each([
    [null, 'NULL'],
    ['a\nb\tc', 'a\\nb\\tc'],
    ['\u0001', '\\x01'],
    [{ team: 'a' }, '{"team":"a"}'],
    [[1, 2], '[1,2]'],
    [true, 'true'],
    ['18446744073709551615', '18446744073709551615'],
  ])('%j -> %s', (value, text) => {
    expect(formatCell(value)).toBe(text);
  });
});
