// From a decoded request to the records to publish: validate each series, drop what the limits
// or the allowlist exclude, group the rest by cluster, encode one or more records per cluster.
// Pure: no I/O, no clock (the caller passes `now`).
import type { DecodedWrite } from './decode/decoded-write.ts';
import { bytesEqual, findLabel, labelValue, validateSeries, type LabelLimits } from './decode/labels.ts';
import { encodeRecords } from '../ingest/record-format.ts';
import type { OutboundRecord } from '../ingest/record-log.ts';

const DEFAULT_CLUSTER = 'default';

export interface RecordOptions extends LabelLimits {
  clusterLabel: string;
  maxSampleFutureMs: number;
  maxRecordBytes: number;
  metricAllowlist?: RegExp;
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
}

const MAX_REPORTED_PROBLEMS = 5;
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

export function prepareRecords(write: DecodedWrite, tenant: string, now: number, options: RecordOptions): PreparedRecords {
  const clusterName = encoder.encode(options.clusterLabel);
  const latest = Math.min(now + options.maxSampleFutureMs, MAX_TIMESTAMP);
  const byCluster = new Map<string, number[]>();
  const result: PreparedRecords = { records: [], samplesAccepted: 0, samplesRejected: new Map(), samplesFiltered: 0, problems: [], invalidSeries: 0 };

  const reject = (series: number, reason: string, detail: string): void => {
    const samples = write.sampleStart[series + 1] - write.sampleStart[series];
    result.samplesRejected.set(reason, (result.samplesRejected.get(reason) ?? 0) + samples);
    result.invalidSeries++;
    if (result.problems.length < MAX_REPORTED_PROBLEMS) result.problems.push({ reason, detail });
  };

  let lastList: number[] | undefined;
  let lastHadLabel = false;
  let lastOff = 0;
  let lastLen = 0;
  for (let s = 0; s < write.seriesCount; s++) {
    const samples = write.sampleStart[s + 1] - write.sampleStart[s];
    if (samples === 0) continue; // histogram- or exemplar-only series carry nothing we forward
    const problem = validateSeries(write, s, options);
    if (problem) {
      reject(s, problem.reason, problem.detail);
      continue;
    }
    if (options.metricAllowlist) {
      const name = labelValue(write, findLabel(write, s, METRIC_NAME));
      if (!options.metricAllowlist.test(name)) {
        result.samplesFiltered += samples;
        continue;
      }
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
    const entry = findLabel(write, s, clusterName);
    // Consecutive series nearly always name the same cluster: when the cluster label's bytes are
    // those of the previous series, its list is reused without building and hashing a string.
    let list: number[] | undefined;
    let valueOff = 0;
    let valueLen = 0;
    if (entry >= 0) {
      valueOff = write.labelRefs[4 * entry + 2];
      valueLen = write.labelRefs[4 * entry + 3];
      if (lastList !== undefined && lastHadLabel && bytesEqual(write.bytes, valueOff, valueLen, write.bytes, lastOff, lastLen)) list = lastList;
    } else if (lastList !== undefined && !lastHadLabel) {
      list = lastList;
    }
    if (list === undefined) {
      const cluster = entry < 0 ? DEFAULT_CLUSTER : labelValue(write, entry) || DEFAULT_CLUSTER;
      list = byCluster.get(cluster);
      if (!list) byCluster.set(cluster, (list = []));
      lastList = list;
      lastHadLabel = entry >= 0;
      lastOff = valueOff;
      lastLen = valueLen;
    }
    list.push(s);
    result.samplesAccepted += samples;
  }

  for (const [cluster, seriesList] of byCluster) {
    let samples = 0;
    for (const s of seriesList) samples += write.sampleStart[s + 1] - write.sampleStart[s];
    const values = encodeRecords(write, seriesList, options.maxRecordBytes);
    for (const value of values) {
      // Sample counts per record are only for metrics; attribute them to the first record.
      result.records.push({ tenant, cluster, value, samples: value === values[0] ? samples : 0 });
    }
  }
  return result;
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
