// A row of the allocation query for tests: namespace shop in cluster prod, two hours from 10:00 on
// 2024-05-15, with every measure set to a number that is easy to check by hand.
import type { AllocationRow } from '../../../../query/allocation/response.ts';

export const GIB = 2 ** 30;
/** 2024-05-15 10:00 UTC, epoch seconds (rows carry seconds). */
export const H0 = Date.UTC(2024, 4, 15, 10) / 1000;
/** The day of H0, epoch milliseconds. */
export const DAY = { start: Date.UTC(2024, 4, 15), end: Date.UTC(2024, 4, 16) };

export function allocationRow(overrides: Partial<AllocationRow> = {}): AllocationRow {
  return {
    set_index: 0,
    name: 'shop',
    cpu_core_hours: 1,
    ram_byte_hours: 2 * GIB,
    gpu_hours: 0,
    pv_byte_hours: 20 * GIB,
    cpu_request_minutes: 60,
    cpu_usage_minutes: 30,
    ram_request_minutes: 2 * GIB * 120,
    ram_usage_minutes: GIB * 120,
    cpu_cost: 0.02,
    ram_cost: 0.01,
    gpu_cost: 0,
    pv_cost: 0.005,
    network_cost: 0.001,
    load_balancer_cost: 0.002,
    idle_cost: 0,
    shared_cost: 0.003,
    run_start: H0,
    run_end: H0 + 7200,
    first_hour: H0,
    prop_cluster: 'prod',
    prop_node: '',
    prop_namespace: 'shop',
    prop_controllerKind: '',
    prop_controller: '',
    prop_pod: '',
    ...overrides,
  };
}
