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
