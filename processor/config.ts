// The processor's configuration slice: the hour window and the cost model's defaults.
import { duration, price, type ConfigOf } from '../core/config-fields.ts';

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
};

export type ProcessorConfig = ConfigOf<typeof processorConfigShape>;
