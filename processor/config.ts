// The processor's configuration slice: the hour window, the cost model's defaults and its bound per tenant.
import { duration, int, price, type ConfigOf } from '../core/config-fields.ts';

export const processorConfigShape = {
  HOUR_GRACE: duration('5m').describe("An hour closes when its cluster's newest sample passes the hour end plus this"),
  FLUSH_INTERVAL: duration('60s').describe('How often provisional rows of open hours are written'),
  LATE_WINDOW: duration('3h').describe('How long (event time) a closed hour still accepts late samples'),
  IDLE_FINALIZE: duration('30m').describe('Wall-clock time after which hours of a cluster that stopped sending are marked final'),
  MAX_SAMPLE_GAP: duration('5m').describe('Longest interval one sample stands for'),
  DEFAULT_SCRAPE_INTERVAL: duration('60s').describe('Interval a lone sample stands for'),
  DEFAULT_CPU_PRICE: price(0.031611).describe('$ per core-hour when a node has no price'),
  DEFAULT_RAM_PRICE: price(0.004237).describe('$ per GiB-hour when a node has no price'),
  DEFAULT_GPU_PRICE: price(0.95).describe('$ per GPU-hour when a node has no price'),
  TENANT_MAX_SERIES: int(0, 0, 1_000_000_000).describe(
    "Active series a tenant may have in a processor's state, 0 = off (new series over it are dropped and counted in k8s_expenses_processor_series_dropped_total)",
  ),
};

export type ProcessorConfig = ConfigOf<typeof processorConfigShape>;
