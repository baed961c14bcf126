// Builds real remote-write request bodies from the official .proto files with protobufjs, the
// reference encoder, then snappy-compresses them with snappyjs: what Prometheus would send.
import path from 'node:path';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { PROJECT_ROOT } from './kafka-broker.ts';

export interface FixtureSeries {
  labels: Record<string, string>;
  samples: { t: number; v: number }[];
}

let root: protobuf.Root | undefined;

export function protoRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROJECT_ROOT, 'proto', target);
    root.loadSync(['remote.proto', 'io/prometheus/write/v2/types.proto'], { keepCase: true });
  }
  return root;
}

/** The protobuf bytes of a prometheus.WriteRequest, labels sorted as Prometheus sends them. */
export function writeRequestV1(series: FixtureSeries[]): Uint8Array {
  const WriteRequest = protoRoot().lookupType('prometheus.WriteRequest');
  const message = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      labels: Object.entries(s.labels)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => ({ name, value })),
      samples: s.samples.map((x) => ({ value: x.v, timestamp: x.t })),
    })),
  });
  return WriteRequest.encode(message).finish();
}

/** A fresh ArrayBuffer-backed copy, which is what fetch() accepts as a body. */
export function snappyCompress(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(snappy.compress(bytes));
}

export const RW1_HEADERS = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
} as const;

/** A stale marker cannot pass through a JS number intact, so fixtures that need one patch the bytes. */
export const STALE_MARKER_BITS = 0x7ff0000000000002n;

export const RW2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

export const RW2_HEADERS = {
  'content-type': RW2_CONTENT_TYPE,
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '2.0.0',
} as const;

export interface FixtureSeriesV2 extends FixtureSeries {
  /** Native histograms (the receiver counts them as written but does not forward them). */
  histograms?: { t: number; count: number; sum: number }[];
  exemplars?: { labels: Record<string, string>; v: number; t: number }[];
  metadata?: { type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY'; help: string; unit: string };
  createdTimestamp?: number;
  /** Keep the labels in the given order instead of sorting them (to build invalid series). */
  unsorted?: boolean;
}

/**
 * The protobuf bytes of an io.prometheus.write.v2.Request: strings are interned into `symbols`
 * (symbols[0] is the empty string, as the 2.0 spec requires) and referenced by index.
 */
export function writeRequestV2(series: FixtureSeriesV2[]): Uint8Array {
  const Request = protoRoot().lookupType('io.prometheus.write.v2.Request');
  const symbols: string[] = [''];
  const index = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = symbols.length;
      symbols.push(s);
      index.set(s, i);
    }
    return i;
  };
  const refs = (labels: Record<string, string>, unsorted = false): number[] => {
    const entries = Object.entries(labels);
    if (!unsorted) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.flatMap(([name, value]) => [ref(name), ref(value)]);
  };
  const message = Request.fromObject({
    timeseries: series.map((s) => ({
      labels_refs: refs(s.labels, s.unsorted),
      samples: s.samples.map((x) => ({ value: x.v, timestamp: x.t })),
      histograms: (s.histograms ?? []).map((h) => ({
        count_int: h.count,
        sum: h.sum,
        schema: 0,
        zero_threshold: 1e-128,
        zero_count_int: 0,
        positive_spans: [{ offset: 0, length: 1 }],
        positive_deltas: [h.count],
        timestamp: h.t,
      })),
      exemplars: (s.exemplars ?? []).map((e) => ({ labels_refs: refs(e.labels), value: e.v, timestamp: e.t })),
      metadata: s.metadata
        ? { type: `METRIC_TYPE_${s.metadata.type}`, help_ref: ref(s.metadata.help), unit_ref: ref(s.metadata.unit) }
        : undefined,
      created_timestamp: s.createdTimestamp ?? 0,
    })),
    symbols,
  });
  return Request.encode(message).finish();
}

/**
 * A prometheus.WriteRequest whose labels are given as (name, value) pairs and sent exactly in that
 * order: for invalid series (duplicate or empty names, unsorted labels) a Record cannot express.
 */
export function writeRequestV1Pairs(series: { labels: [string, string][]; samples: { t: number; v: number }[] }[]): Uint8Array {
  const WriteRequest = protoRoot().lookupType('prometheus.WriteRequest');
  const message = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      labels: s.labels.map(([name, value]) => ({ name, value })),
      samples: s.samples.map((x) => ({ value: x.v, timestamp: x.t })),
    })),
  });
  return WriteRequest.encode(message).finish();
}

/** A snappy block header declaring `length` decoded bytes (little-endian base-128), then `tail`: hostile bodies. */
export function snappyHeader(length: number, tail: number[] = []): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  let n = length;
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return new Uint8Array([...out, ...tail]);
}
