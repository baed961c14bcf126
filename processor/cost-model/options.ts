// Options of the cost model: defaults (OpenCost's where it has them) and validation, done once
// when the model is created so that nothing later has to re-check them.
import type { CostModelOptions, DefaultPrices } from './types.ts';

import { HOUR_MS } from '../../core/hours.ts';
export const GIB = 2 ** 30;

/** OpenCost's configs/default.json: CPU, RAM, GPU, storage and the three egress prices. */
export const OPENCOST_DEFAULT_PRICES: Readonly<DefaultPrices> = Object.freeze({
  cpuCoreHour: 0.031611,
  ramGiBHour: 0.004237,
  gpuHour: 0.95,
  pvGiBHour: 0.00005479452,
  zoneEgressGiB: 0.01,
  regionEgressGiB: 0.01,
  internetEgressGiB: 0.12,
});

export interface ResolvedOptions {
  readonly maxSampleGapMs: number;
  readonly defaultScrapeIntervalMs: number;
  readonly prices: Readonly<DefaultPrices>;
  readonly silentSeriesRetentionMs: number;
  readonly admitSeries?: (tenant: string) => boolean;
}

export class CostModelOptionsError extends Error {
  override readonly name = 'CostModelOptionsError';
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) throw new CostModelOptionsError(`${name} must be a positive integer of milliseconds, got ${v}`);
  return v;
}

export function resolveOptions(options: CostModelOptions = {}): ResolvedOptions {
  const maxSampleGapMs = positiveInteger('maxSampleGapMs', options.maxSampleGapMs, 300_000);
  const defaultScrapeIntervalMs = positiveInteger('defaultScrapeIntervalMs', options.defaultScrapeIntervalMs, 60_000);
  const silentSeriesRetentionMs = positiveInteger('silentSeriesRetentionMs', options.silentSeriesRetentionMs, 24 * HOUR_MS);
  const prices = { ...OPENCOST_DEFAULT_PRICES };
  for (const [name, value] of Object.entries(options.defaultPrices ?? {})) {
    if (!(name in prices)) throw new CostModelOptionsError(`defaultPrices.${name} is not a known price`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new CostModelOptionsError(`defaultPrices.${name} must be a price >= 0, got ${String(value)}`);
    }
    prices[name as keyof DefaultPrices] = value;
  }
  return Object.freeze({ maxSampleGapMs, defaultScrapeIntervalMs, silentSeriesRetentionMs, prices: Object.freeze(prices), admitSeries: options.admitSeries });
}
