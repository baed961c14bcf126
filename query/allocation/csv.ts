// format=csv: one line per allocation and set, columns named like the JSON fields (RFC 4180).
import type { Allocation, AllocationProperties, AllocationSet } from './response.ts';

const PROPERTIES: readonly (keyof Omit<AllocationProperties, 'labels'>)[] = ['cluster', 'node', 'namespace', 'controllerKind', 'controller', 'pod'];

const NUMBERS: readonly (keyof Allocation)[] = [
  'minutes',
  'cpuCores',
  'cpuCoreRequestAverage',
  'cpuCoreUsageAverage',
  'cpuCoreHours',
  'cpuCost',
  'cpuEfficiency',
  'gpuCount',
  'gpuHours',
  'gpuCost',
  'networkCost',
  'loadBalancerCost',
  'pvBytes',
  'pvByteHours',
  'pvCost',
  'ramBytes',
  'ramByteRequestAverage',
  'ramByteUsageAverage',
  'ramByteHours',
  'ramCost',
  'ramEfficiency',
  'sharedCost',
  'externalCost',
  'totalCost',
  'totalEfficiency',
];

export const CSV_HEADER = ['windowStart', 'windowEnd', 'name', ...PROPERTIES, 'start', 'end', ...NUMBERS];

/** A field quoted when it holds a comma, quote or line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function line(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export function toCsv(sets: readonly AllocationSet[]): string {
  let out = line(CSV_HEADER);
  for (const set of sets) {
    for (const allocation of Object.values(set)) {
      const numbers = NUMBERS.map((key) => {
        const value = allocation[key];
        return typeof value === 'number' ? String(value) : '';
      });
      const properties = PROPERTIES.map((key) => allocation.properties[key] ?? '');
      out += line([allocation.window.start, allocation.window.end, allocation.name, ...properties, allocation.start, allocation.end, ...numbers]);
    }
  }
  return out;
}
