import { describe, expect, it } from 'vitest';
import { deletionRow, encodeExpenseRow, EXPENSE_COLUMNS, expenseRowKey, formatDateTime64, toExpenseRow, type ExpenseRow } from '../../../../processor/clickhouse/expense-row.ts';

const HOUR = Date.UTC(2024, 4, 1, 13);

const row: ExpenseRow = {
  tenant_id: 't',
  cluster: 'c',
  namespace: 'ns',
  pod: 'p',
  hour: HOUR,
  workload_kind: 'Deployment',
  workload: 'w',
  node: 'n',
  minutes: 60,
  cpu_core_hours: 1,
  cpu_cost: 0.03,
  ram_byte_hours: 2 ** 30,
  ram_cost: 0.004,
  gpu_hours: 0,
  gpu_cost: 0,
  pv_byte_hours: 0,
  pv_cost: 0,
  network_cost: 0,
  load_balancer_cost: 0,
  total_cost: 0.034,
  cpu_request_avg: 1,
  cpu_usage_avg: 0.5,
  ram_request_avg: 2 ** 30,
  ram_usage_avg: 2 ** 29,
  cpu_efficiency: 0.5,
  ram_efficiency: null,
  total_efficiency: null,
  labels: { team: 'a' },
  price_defaulted: true,
  workload_inferred: false,
  is_final: true,
  version: 1_714_568_400_000_000,
  updated_at: Date.UTC(2024, 4, 1, 14, 0, 5, 7),
};

describe('encodeExpenseRow', () => {
  it('writes hour in seconds, flags as 0/1 and updated_at as DateTime64 text', () => {
    const encoded = encodeExpenseRow(row);
    expect(encoded).toMatchObject({ hour: HOUR / 1000, price_defaulted: 1, workload_inferred: 0, is_final: 1, updated_at: '2024-05-01 14:00:05.007' });
    expect(Object.keys(encoded)).toEqual(EXPENSE_COLUMNS.map(([name]) => name));
  });

  it("keeps the row's updated_at", () => {
    expect(encodeExpenseRow({ ...row, updated_at: HOUR }).updated_at).toBe('2024-05-01 13:00:00.000');
  });

  it.each([
    ['an hour that is not whole', { hour: HOUR + 1 }, /whole hour/],
    ['an hour in seconds', { hour: 1_714_568_400.5 }, /whole hour/],
    ['a fractional version', { version: 1.5 }, /version/],
    ['a negative version', { version: -1 }, /version/],
    ['a version beyond 2^53', { version: 2 ** 60 }, /version/],
  ])('refuses %s', (_what, change, message) => {
    expect(() => encodeExpenseRow({ ...row, ...change })).toThrow(message);
  });
});

describe('toExpenseRow', () => {
  const { is_final: _f, version: _v, updated_at: _u, ...modelRow } = row;

  it('finishes a model row with its finality, version and write time', () => {
    expect(toExpenseRow(modelRow, true, 7, HOUR + 5)).toEqual({ ...modelRow, is_final: true, version: 7, updated_at: HOUR + 5 });
  });

  // Regression: a cost that overflowed to Infinity went into the row's JSON as null, which
  // ClickHouse stored as 0: a row with a number that is not finite is not a row to store.
  it.each([
    ['an infinite cost', { cpu_cost: Infinity }],
    ['a NaN quantity', { ram_byte_hours: NaN }],
    ['an infinite average', { cpu_usage_avg: -Infinity }],
  ])('refuses a row with %s', (_what, change) => {
    expect(toExpenseRow({ ...modelRow, ...change }, true, 7, HOUR)).toBeUndefined();
  });
});

describe('deletion rows', () => {
  it.each([
    ['shop', 'web-1'],
    ['a:b', '1:x'],
    ['', '__cluster__'],
    ['12', '3'],
  ])('keep the key %s/%s of the row they delete', (namespace, pod) => {
    const key = expenseRowKey({ namespace, pod });
    const deletion = deletionRow('t', 'c', HOUR, key, false, 9, HOUR + 1);
    expect(deletion).toMatchObject({ tenant_id: 't', cluster: 'c', namespace, pod, hour: HOUR, is_deleted: true, is_final: false, version: 9, total_cost: 0, labels: {} });
    expect(expenseRowKey(deletion)).toBe(key);
    expect(Object.keys(deletion).sort()).toEqual(EXPENSE_COLUMNS.map(([name]) => name).sort());
    expect(Object.values(deletion)).not.toContain(undefined);
    expect(encodeExpenseRow(deletion)).toMatchObject({ is_deleted: 1, version: 9 });
  });

  it('tell keys apart whatever their characters', () => {
    expect(expenseRowKey({ namespace: 'a', pod: 'bc' })).not.toBe(expenseRowKey({ namespace: 'ab', pod: 'c' }));
  });
});

describe('formatDateTime64', () => {
  it('formats UTC with milliseconds', () => {
    expect(formatDateTime64(0)).toBe('1970-01-01 00:00:00.000');
  });
});
