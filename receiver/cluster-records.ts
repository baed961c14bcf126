// From a decoded request to the records to publish: validate each series, drop what the limits
// or the allowlist exclude, group the rest by cluster, encode one or more records per cluster.
// No I/O, no clock (the caller passes `now`); what it learns of each series is remembered for the
// next requests (receiver/series-cache.ts), which changes how fast, never what, it answers.
import type { DecodedWrite } from './decode/decoded-write.ts';
import { findLabel, labelValue, validateSeries, type LabelLimits } from './decode/labels.ts';
import { RecordEncoder } from '../ingest/record-encode.ts';
import type { OutboundRecord } from '../ingest/record-log.ts';
import { SymbolMap } from '../ingest/record-symbols.ts';
import { SeriesCache, SpanBytes } from './series-cache.ts';

const DEFAULT_CLUSTER = 'default';

export interface RecordOptions extends LabelLimits {
  clusterLabel: string;
  maxSampleFutureMs: number;
  maxRecordBytes: number;
  metricAllowlist?: RegExp;
  /** Memory for the series remembered between requests (SERIES_CACHE_BYTES; 0 = none). */
  seriesCacheBytes?: number;
}

interface SeriesProblem {
  reason: string;
  detail: string;
}

interface PreparedRecords {
  records: OutboundRecord[];
  samplesAccepted: number;
  /** Samples of series dropped as invalid, by reason. */
  samplesRejected: Map<string, number>;
  /** Samples of series outside the metric allowlist (dropped on purpose, not an error). */
  samplesFiltered: number;
  /** The first few problems, for the 400 answer and the log. */
  problems: SeriesProblem[];
  invalidSeries: number;
  /** Series found in, and not found in, the series cache (receiver/series-cache.ts). */
  seriesRemembered: number;
  seriesLearned: number;
  /** The series cache was emptied before this request (it had reached its memory budget). */
  seriesCacheReset: boolean;
}

const MAX_REPORTED_PROBLEMS = 5;
/** SERIES_CACHE_BYTES' default, for callers that do not say. */
export const DEFAULT_SERIES_CACHE_BYTES = 128 * 1024 * 1024;
/**
 * The record format stores each timestamp as a zigzag varint of its distance to the previous one
 * (ingest/record-format.ts), computed in doubles: exact only while timestamps stay within 2^51 ms
 * of each other. A sample at, say, -2^52 ms (which 1.0 and 2.0 both allow) made a record the
 * processor cannot decode. Samples before 1970 are therefore refused (no cost data is that old),
 * and the future bound never goes past 2^51 ms (the year 73,000), so every distance is exact.
 */
const MAX_TIMESTAMP = 2 ** 51 - 1;
const encoder = new TextEncoder();
const METRIC_NAME = encoder.encode('__name__');
const NO_SYMBOLS = new Int32Array(0);

/**
 * The working space of prepareRecords, kept from request to request (it is synchronous): the
 * record encoder with its symbol table, the series seen before (valid only for the options they
 * were checked under), which group each cluster-label value belongs to, and whether each metric
 * name passed the allowlist.
 */
const records = new RecordEncoder();
const seen = new SeriesCache();
let seenUnder: RecordOptions | undefined;
const groupOfValue = new SymbolMap();
const allowedName = new SymbolMap();
let clusterLabelText = '';
let clusterLabelBytes = new Uint8Array(0);

export function prepareRecords(write: DecodedWrite, tenant: string, now: number, options: RecordOptions): PreparedRecords {
  if (options.clusterLabel !== clusterLabelText) {
    clusterLabelText = options.clusterLabel;
    clusterLabelBytes = encoder.encode(options.clusterLabel);
  }
  const latest = Math.min(now + options.maxSampleFutureMs, MAX_TIMESTAMP);
  const result: PreparedRecords = {
    records: [],
    samplesAccepted: 0,
    samplesRejected: new Map(),
    samplesFiltered: 0,
    problems: [],
    invalidSeries: 0,
    seriesRemembered: 0,
    seriesLearned: 0,
    seriesCacheReset: false,
  };

  const reject = (series: number, reason: string, detail: string): void => {
    const samples = write.sampleStart[series + 1] - write.sampleStart[series];
    result.samplesRejected.set(reason, (result.samplesRejected.get(reason) ?? 0) + samples);
    result.invalidSeries++;
    if (result.problems.length < MAX_REPORTED_PROBLEMS) result.problems.push({ reason, detail });
  };

  // The cache and the symbols its entries refer to are emptied together, between requests: when
  // they pass their budget, or when the options change (what was checked was checked under them).
  const budget = options.seriesCacheBytes ?? DEFAULT_SERIES_CACHE_BYTES;
  if (options !== seenUnder || seen.memoryBytes + records.symbols.memoryBytes > budget) {
    result.seriesCacheReset = seenUnder === options && seen.count > 0;
    seen.reset();
    records.symbols.reset();
    seenUnder = options;
  }
  const spans = budget > 0 ? write.labelSpans : undefined;
  const body = new SpanBytes(write.bytes);
  // The entry of the last series remembered, and the one expected next (see SeriesCache.follower).
  let previous = -1;
  let predicted = -1;
  const follow = (e: number): void => {
    if (previous >= 0 && e >= 0) seen.setFollower(previous, e);
    previous = e;
  };

  records.begin(write);
  groupOfValue.clear();
  allowedName.clear();
  // Groups in the order their cluster first appears; two label values naming the same cluster
  // (an empty value and a missing label both mean "default") share one.
  const clusters: string[] = [];
  const groups: number[][] = [];
  const groupSamples: number[] = [];
  const groupOfCluster = new Map<string, number>();
  let noLabelGroup = -1;
  let clusterName = records.symbols.find(clusterLabelBytes);
  const { labelStart, sampleStart } = write;

  for (let s = 0; s < write.seriesCount; s++) {
    const samples = sampleStart[s + 1] - sampleStart[s];
    if (samples === 0) continue; // histogram- or exemplar-only series carry nothing we forward
    const spanFrom = spans === undefined ? 0 : spans[2 * s];
    const spanLength = spans === undefined ? 0 : spans[2 * s + 1] - spanFrom;
    // The entry of this series: the one that followed the previous series last time, or found by hash.
    let known = -1;
    let hash = 0;
    if (spanLength > 0) {
      if (predicted >= 0 && seen.matches(predicted, body, spanFrom, spanLength)) known = predicted;
      else {
        hash = body.hash(spanFrom, spanLength);
        known = seen.find(hash, body, spanFrom, spanLength);
        if (known >= 0) follow(known);
      }
      predicted = known < 0 ? -1 : seen.follower(known);
      if (known >= 0) previous = known;
    }
    // The index of the cluster label among the series' labels, -1 without one.
    let clusterLabel: number;
    if (known >= 0) {
      result.seriesRemembered++;
      if (!seen.allowed(known)) {
        result.samplesFiltered += samples;
        continue;
      }
      records.adoptSymbols(s, seen.symbols, seen.symbolsFrom(known));
      clusterLabel = seen.clusterLabel(known);
    } else {
      result.seriesLearned++;
      const problem = validateSeries(write, s, options);
      if (problem) {
        reject(s, problem.reason, problem.detail);
        continue;
      }
      if (options.metricAllowlist && !allowlisted(write, s, options.metricAllowlist)) {
        if (spanLength > 0) follow(seen.add(hash, body, spanFrom, spanLength, NO_SYMBOLS, -1, false));
        result.samplesFiltered += samples;
        continue;
      }
      records.internSeries(s);
      // The cluster label found by its name's symbol: an integer per label. (Names are compared
      // as symbols only while every equal string has one symbol; input crafted to defeat the
      // symbol table is looked up by comparing bytes.)
      if (clusterName < 0) clusterName = records.symbols.find(clusterLabelBytes);
      let entry = -1;
      if (records.symbols.overflowed) entry = findLabel(write, s, clusterLabelBytes);
      else if (clusterName >= 0) {
        for (let j = labelStart[s], end = labelStart[s + 1]; j < end; j++) {
          if (records.nameSymbol(j) === clusterName) {
            entry = j;
            break;
          }
        }
      }
      clusterLabel = entry < 0 ? -1 : entry - labelStart[s];
      if (spanLength > 0) follow(seen.add(hash, body, spanFrom, spanLength, records.seriesSymbols(s), clusterLabel, true));
    }
    const future = futureSample(write, s, latest);
    if (future >= 0) {
      const name = labelValue(write, findLabel(write, s, METRIC_NAME));
      reject(s, 'sample_too_far_in_future', `${name} has a sample at ${new Date(write.timestamps[future]).toISOString()}, more than ${options.maxSampleFutureMs / 1000}s ahead`);
      continue;
    }
    const early = sampleBefore1970(write, s);
    if (early >= 0) {
      const name = labelValue(write, findLabel(write, s, METRIC_NAME));
      reject(s, 'sample_before_1970', `${name} has a sample at ${write.timestamps[early]} ms, before 1970-01-01`);
      continue;
    }
    // Series of one cluster share the symbol of its value, so grouping compares integers and builds
    // a string only once per cluster and request. (Two symbols of one string, which crafted input
    // can cause, still meet in groupOfCluster, by the string.)
    const entry = clusterLabel < 0 ? -1 : labelStart[s] + clusterLabel;
    let group = entry < 0 ? noLabelGroup : groupOfValue.get(records.valueSymbol(entry));
    if (group < 0) {
      const cluster = entry < 0 ? DEFAULT_CLUSTER : labelValue(write, entry) || DEFAULT_CLUSTER;
      group = groupOfCluster.get(cluster) ?? -1;
      if (group < 0) {
        group = groups.length;
        groupOfCluster.set(cluster, group);
        clusters.push(cluster);
        groups.push([]);
        groupSamples.push(0);
      }
      if (entry < 0) noLabelGroup = group;
      else groupOfValue.set(records.valueSymbol(entry), group);
    }
    groups[group].push(s);
    groupSamples[group] += samples;
    result.samplesAccepted += samples;
  }

  if (groups.length === 0) return result;
  const values = records.encode(groups, options.maxRecordBytes);
  for (let g = 0; g < groups.length; g++) {
    // Sample counts per record are only for metrics; attribute them to the first record.
    for (let k = 0; k < values[g].length; k++) result.records.push({ tenant, cluster: clusters[g], value: values[g][k], samples: k === 0 ? groupSamples[g] : 0 });
  }
  return result;
}

/** Whether the series' metric name matches the allowlist, tested once per name and request. */
function allowlisted(write: DecodedWrite, series: number, allowlist: RegExp): boolean {
  const entry = findLabel(write, series, METRIC_NAME);
  const symbol = entry < 0 ? -1 : records.symbols.intern(write.labelRefs[4 * entry + 2], write.labelRefs[4 * entry + 3]);
  const known = symbol < 0 ? -1 : allowedName.get(symbol);
  if (known >= 0) return known === 1;
  const allowed = allowlist.test(labelValue(write, entry));
  if (symbol >= 0) allowedName.set(symbol, allowed ? 1 : 0);
  return allowed;
}

function futureSample(write: DecodedWrite, series: number, latest: number): number {
  for (let i = write.sampleStart[series], end = write.sampleStart[series + 1]; i < end; i++) {
    if (write.timestamps[i] > latest) return i;
  }
  return -1;
}

function sampleBefore1970(write: DecodedWrite, series: number): number {
  for (let i = write.sampleStart[series], end = write.sampleStart[series + 1]; i < end; i++) {
    if (write.timestamps[i] < 0) return i;
  }
  return -1;
}
