// Test helpers for the decode stage: the official .proto files loaded with protobufjs (the
// reference encoder/decoder), random valid requests, a wire-level "scrambler" that reorders fields,
// splits packed fields and inserts unknown fields (valid protobuf the reference still decodes), and
// comparisons between our DecodedWrite and protobufjs' decoding of the same bytes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { expect } from 'vitest';
import type { DecodedWrite } from '../../../../receiver/decode/decoded-write.ts';
import { labelName, labelValue } from '../../../../receiver/decode/labels.ts';

const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../proto');

let root: protobuf.Root | undefined;

/** The official schemas (proto/remote.proto and proto/io/prometheus/write/v2/types.proto). */
export function protoRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    root.loadSync(
      [path.join(PROTO_DIR, 'remote.proto'), path.join(PROTO_DIR, 'io/prometheus/write/v2/types.proto')],
      { keepCase: true },
    );
  }
  return root;
}

export const WriteRequest = (): protobuf.Type => protoRoot().lookupType('prometheus.WriteRequest');
export const RequestV2 = (): protobuf.Type => protoRoot().lookupType('io.prometheus.write.v2.Request');

/** Encodes a plain object (snake_case field names) with protobufjs. */
export function encodeV1(obj: object): Uint8Array {
  const T = WriteRequest();
  const err = T.verify(obj);
  if (err) throw new Error(`fixture does not verify: ${err}`);
  return T.encode(T.fromObject(obj)).finish();
}

export function encodeV2(obj: object): Uint8Array {
  const T = RequestV2();
  const err = T.verify(obj);
  if (err) throw new Error(`fixture does not verify: ${err}`);
  return T.encode(T.fromObject(obj)).finish();
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, defaults: true, arrays: true };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Plain = any;

export function referenceV1(bytes: Uint8Array): Plain {
  const T = WriteRequest();
  return T.toObject(T.decode(bytes), TO_OBJECT);
}

export function referenceV2(bytes: Uint8Array): Plain {
  const T = RequestV2();
  return T.toObject(T.decode(bytes), TO_OBJECT);
}

// ---------------------------------------------------------------------------------------------
// Views of a DecodedWrite
// ---------------------------------------------------------------------------------------------

export interface PlainSeries {
  labels: Array<[string, string]>;
  samples: Array<{ value: number; timestamp: number; stale: boolean }>;
}

export function seriesOf(d: DecodedWrite): PlainSeries[] {
  const out: PlainSeries[] = [];
  for (let s = 0; s < d.seriesCount; s++) {
    const labels: Array<[string, string]> = [];
    for (let j = d.labelStart[s]; j < d.labelStart[s + 1]; j++) labels.push([labelName(d, j), labelValue(d, j)]);
    const samples: PlainSeries['samples'] = [];
    for (let k = d.sampleStart[s]; k < d.sampleStart[s + 1]; k++) {
      samples.push({ value: d.values[k], timestamp: d.timestamps[k], stale: d.stale[k] === 1 });
    }
    out.push({ labels, samples });
  }
  return out;
}

/** Raw 64 bits of values[k] as a hex string (read through a DataView on the array's buffer). */
export function valueBits(d: DecodedWrite, k: number): string {
  const dv = new DataView(d.values.buffer, d.values.byteOffset, d.values.byteLength);
  const hi = dv.getUint32(k * 8 + 4, true);
  const lo = dv.getUint32(k * 8, true);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Structural invariants every DecodedWrite must satisfy (plain checks: called in hot fuzz loops). */
export function checkInvariants(d: DecodedWrite): void {
  const fail = (what: string): never => {
    throw new Error(`DecodedWrite invariant violated: ${what}`);
  };
  if (d.labelStart.length !== d.seriesCount + 1) fail('labelStart length');
  if (d.sampleStart.length !== d.seriesCount + 1) fail('sampleStart length');
  if (d.labelStart[0] !== 0 || d.sampleStart[0] !== 0) fail('starts at 0');
  for (let s = 0; s < d.seriesCount; s++) {
    if (d.labelStart[s + 1] < d.labelStart[s]) fail('labelStart not monotonic');
    if (d.sampleStart[s + 1] < d.sampleStart[s]) fail('sampleStart not monotonic');
  }
  if (d.labelRefs.length !== d.labelStart[d.seriesCount] * 4) fail('labelRefs length');
  const n = d.sampleStart[d.seriesCount];
  if (d.timestamps.length !== n || d.values.length !== n || d.stale.length !== n) fail('sample column lengths');
  for (let r = 0; r < d.labelRefs.length; r += 2) {
    if (d.labelRefs[r] + d.labelRefs[r + 1] > d.bytes.length) fail('label range outside the body');
  }
  for (let k = 0; k < n; k++) {
    if (!Number.isSafeInteger(d.timestamps[k])) fail('timestamp not a safe integer');
    const stale = valueBits(d, k) === '7ff0000000000002';
    if (d.stale[k] !== (stale ? 1 : 0)) fail('stale flag disagrees with the value bits');
  }
}

/** Our decoding of a 1.0 request equals protobufjs' decoding of the same bytes. */
export function expectEqualV1(d: DecodedWrite, ref: Plain): void {
  checkInvariants(d);
  const ts: Plain[] = ref.timeseries;
  expect(d.seriesCount).toBe(ts.length);
  const ours = seriesOf(d);
  for (let s = 0; s < ts.length; s++) {
    expect(ours[s].labels).toEqual(ts[s].labels.map((l: Plain) => [l.name, l.value]));
    expect(ours[s].samples.length).toBe(ts[s].samples.length);
    for (let k = 0; k < ts[s].samples.length; k++) {
      expect(Object.is(ours[s].samples[k].value, ts[s].samples[k].value)).toBe(true);
      expect(ours[s].samples[k].timestamp).toBe(ts[s].samples[k].timestamp);
    }
  }
  expect(d.exemplarCount).toBe(ts.reduce((n, t) => n + t.exemplars.length, 0));
  expect(d.histogramCount).toBe(ts.reduce((n, t) => n + t.histograms.length, 0));
  expect(d.metadataCount).toBe(ref.metadata.length);
}

/** Our decoding of a 2.0 request equals protobufjs' decoding (labels resolved via symbols). */
export function expectEqualV2(d: DecodedWrite, ref: Plain): void {
  checkInvariants(d);
  const ts: Plain[] = ref.timeseries;
  const sym = (i: number): string => (i === 0 && ref.symbols.length === 0 ? '' : ref.symbols[i]);
  expect(d.seriesCount).toBe(ts.length);
  const ours = seriesOf(d);
  for (let s = 0; s < ts.length; s++) {
    const refs: number[] = ts[s].labels_refs;
    const labels: Array<[string, string]> = [];
    for (let i = 0; i < refs.length; i += 2) labels.push([sym(refs[i]), sym(refs[i + 1])]);
    expect(ours[s].labels).toEqual(labels);
    expect(ours[s].samples.length).toBe(ts[s].samples.length);
    for (let k = 0; k < ts[s].samples.length; k++) {
      expect(Object.is(ours[s].samples[k].value, ts[s].samples[k].value)).toBe(true);
      expect(ours[s].samples[k].timestamp).toBe(ts[s].samples[k].timestamp);
    }
  }
  expect(d.exemplarCount).toBe(ts.reduce((n, t) => n + t.exemplars.length, 0));
  expect(d.histogramCount).toBe(ts.reduce((n, t) => n + t.histograms.length, 0));
  // toObject with defaults gives every series a metadata object; count only those on the wire.
}

// ---------------------------------------------------------------------------------------------
// Random valid requests (fast-check)
// ---------------------------------------------------------------------------------------------

const SAFE = Number.MAX_SAFE_INTEGER;

export const arbTimestamp = fc.oneof(
  fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
  fc.integer({ min: -SAFE, max: SAFE }),
  fc.constantFrom(0, -1, 1, SAFE, -SAFE, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32)),
);

export const arbValue = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, Number.MIN_VALUE, Number.MAX_VALUE),
  fc.integer().map((x) => x / 7),
);

const arbText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', '__name__', 'namespace', 'pod', 'ip-10-0-1-23.ec2.internal', 'ünïcödé', '🙂'),
);

const arbLabel = fc.record({ name: arbText, value: arbText });

const arbHistogram = fc.record(
  {
    count_int: fc.integer({ min: 0, max: 1e6 }),
    sum: arbValue,
    schema: fc.integer({ min: -53, max: 8 }),
    zero_threshold: fc.double({ noNaN: true }),
    zero_count_float: fc.double({ min: 0, max: 1e6, noNaN: true }),
    negative_spans: fc.array(fc.record({ offset: fc.integer({ min: -100, max: 100 }), length: fc.integer({ min: 0, max: 20 }) }), { maxLength: 3 }),
    negative_deltas: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 5 }),
    positive_spans: fc.array(fc.record({ offset: fc.integer({ min: -100, max: 100 }), length: fc.integer({ min: 0, max: 20 }) }), { maxLength: 3 }),
    positive_counts: fc.array(fc.double({ noNaN: true }), { maxLength: 5 }),
    reset_hint: fc.integer({ min: 0, max: 3 }),
    timestamp: arbTimestamp,
    custom_values: fc.array(fc.double({ noNaN: true }), { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

export const arbWriteRequestV1 = fc.record({
  timeseries: fc.array(
    fc.record({
      labels: fc.array(arbLabel, { maxLength: 6 }),
      samples: fc.array(fc.record({ value: arbValue, timestamp: arbTimestamp }), { maxLength: 4 }),
      exemplars: fc.array(
        fc.record({ labels: fc.array(arbLabel, { maxLength: 2 }), value: arbValue, timestamp: arbTimestamp }),
        { maxLength: 2 },
      ),
      histograms: fc.array(arbHistogram, { maxLength: 2 }),
    }),
    { maxLength: 8 },
  ),
  metadata: fc.array(
    fc.record({ type: fc.integer({ min: 0, max: 7 }), metric_family_name: arbText, help: arbText, unit: arbText }),
    { maxLength: 3 },
  ),
});

/** A random valid 2.0 request: symbols start with "" and every reference is in range. */
export const arbRequestV2 = fc
  .record({
    extraSymbols: fc.uniqueArray(arbText.filter((s) => s !== ''), { maxLength: 12 }),
    series: fc.array(
      fc.record({
        labelPairs: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
        samples: fc.array(fc.record({ value: arbValue, timestamp: arbTimestamp }), { maxLength: 4 }),
        histograms: fc.array(arbHistogram, { maxLength: 2 }),
        exemplars: fc.array(
          fc.record({ pairs: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 2 }), value: arbValue, timestamp: arbTimestamp }),
          { maxLength: 2 },
        ),
        metadata: fc.option(fc.record({ type: fc.integer({ min: 0, max: 7 }), help: fc.nat(), unit: fc.nat() }), { nil: undefined }),
        created_timestamp: arbTimestamp,
      }),
      { maxLength: 8 },
    ),
  })
  .map(({ extraSymbols, series }) => {
    const symbols = ['', ...extraSymbols];
    const ref = (i: number) => i % symbols.length;
    return {
      symbols,
      timeseries: series.map((s) => ({
        labels_refs: s.labelPairs.flatMap(([a, b]) => [ref(a), ref(b)]),
        samples: s.samples,
        histograms: s.histograms,
        exemplars: s.exemplars.map((e) => ({ labels_refs: e.pairs.flatMap(([a, b]) => [ref(a), ref(b)]), value: e.value, timestamp: e.timestamp })),
        ...(s.metadata ? { metadata: { type: s.metadata.type, help_ref: ref(s.metadata.help), unit_ref: ref(s.metadata.unit) } } : {}),
        created_timestamp: s.created_timestamp,
      })),
    };
  });

// ---------------------------------------------------------------------------------------------
// Wire-level scrambling
// ---------------------------------------------------------------------------------------------

interface RawField {
  field: number;
  wt: number;
  /** Value bytes without the tag (for LEN: the payload, without the length). */
  data: Uint8Array;
}

function readVarint(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let scale = 1;
  for (;;) {
    const x = b[pos++];
    v += (x & 0x7f) * scale;
    if (x < 0x80) return [v, pos];
    scale *= 128;
  }
}

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

export function parseFields(b: Uint8Array): RawField[] {
  const out: RawField[] = [];
  let pos = 0;
  while (pos < b.length) {
    let tag: number;
    [tag, pos] = readVarint(b, pos);
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    const start = pos;
    if (wt === 0) {
      [, pos] = readVarint(b, pos);
      out.push({ field, wt, data: b.subarray(start, pos) });
    } else if (wt === 1) {
      pos += 8;
      out.push({ field, wt, data: b.subarray(start, pos) });
    } else if (wt === 5) {
      pos += 4;
      out.push({ field, wt, data: b.subarray(start, pos) });
    } else if (wt === 2) {
      let len: number;
      [len, pos] = readVarint(b, pos);
      out.push({ field, wt, data: b.subarray(pos, pos + len) });
      pos += len;
    } else {
      throw new Error(`parseFields: wire type ${wt}`);
    }
  }
  return out;
}

export function encodeFields(fields: RawField[]): Uint8Array {
  const parts: number[] = [];
  for (const f of fields) {
    parts.push(...varint(f.field * 8 + f.wt));
    if (f.wt === 2) parts.push(...varint(f.data.length));
    for (const x of f.data) parts.push(x);
  }
  return Uint8Array.from(parts);
}

/** Which fields of a message are sub-messages (recursed into) or packed varints (split up). */
export interface Schema {
  [field: number]: Schema | 'packed-varint';
}

const LABEL: Schema = {};
const SPAN: Schema = {};
const HISTOGRAM: Schema = { 8: SPAN, 11: SPAN };
export const SCHEMA_V1: Schema = {
  1: { 1: LABEL, 2: {}, 3: { 1: LABEL }, 4: HISTOGRAM },
  3: {},
};
export const SCHEMA_V2: Schema = {
  5: { 1: 'packed-varint', 2: {}, 3: HISTOGRAM, 4: { 1: 'packed-varint' }, 5: {} },
};

function randomUnknown(rand: () => number, minField: number): RawField {
  const field = minField + Math.floor(rand() * 1000);
  const wt = [0, 1, 2, 5][Math.floor(rand() * 4)];
  const len = wt === 0 ? 0 : wt === 1 ? 8 : wt === 5 ? 4 : Math.floor(rand() * 6);
  const data = new Uint8Array(len);
  for (let i = 0; i < len; i++) data[i] = Math.floor(rand() * 256);
  if (wt === 0) return { field, wt, data: Uint8Array.from(varint(Math.floor(rand() * 2 ** 40))) };
  return { field, wt, data };
}

/**
 * Re-encodes a message with: fields of different numbers randomly interleaved (each field
 * number's own order kept, so the meaning is unchanged), packed varint fields split into packed
 * chunks and unpacked values, and unknown fields (numbers >= 20) inserted. Sub-messages listed in
 * the schema are scrambled recursively.
 */
export function scramble(bytes: Uint8Array, schema: Schema, rand: () => number): Uint8Array {
  const fields = parseFields(bytes);
  const expanded: RawField[] = [];
  for (const f of fields) {
    const sub = schema[f.field];
    if (sub === 'packed-varint' && f.wt === 2) {
      // Split into pieces: each either unpacked varints or a smaller packed chunk.
      const values: Uint8Array[] = [];
      let pos = 0;
      while (pos < f.data.length) {
        const start = pos;
        [, pos] = readVarint(f.data, pos);
        values.push(f.data.subarray(start, pos));
      }
      let i = 0;
      while (i < values.length) {
        const take = 1 + Math.floor(rand() * 3);
        const chunk = values.slice(i, i + take);
        i += take;
        if (rand() < 0.5) {
          for (const v of chunk) expanded.push({ field: f.field, wt: 0, data: v });
        } else {
          const data = new Uint8Array(chunk.reduce((n, v) => n + v.length, 0));
          let o = 0;
          for (const v of chunk) {
            data.set(v, o);
            o += v.length;
          }
          expanded.push({ field: f.field, wt: 2, data });
        }
      }
    } else if (sub && sub !== 'packed-varint' && f.wt === 2) {
      expanded.push({ ...f, data: scramble(f.data, sub, rand) });
    } else {
      expanded.push(f);
    }
  }
  // Random merge of the per-field queues.
  const queues = new Map<number, RawField[]>();
  for (const f of expanded) {
    if (!queues.has(f.field)) queues.set(f.field, []);
    queues.get(f.field)!.push(f);
  }
  const out: RawField[] = [];
  const keys = [...queues.keys()];
  while (keys.length > 0) {
    if (rand() < 0.15) out.push(randomUnknown(rand, 20));
    const k = Math.floor(rand() * keys.length);
    const q = queues.get(keys[k])!;
    out.push(q.shift()!);
    if (q.length === 0) keys.splice(k, 1);
  }
  if (rand() < 0.3) out.push(randomUnknown(rand, 20));
  return encodeFields(out);
}

/** The benchmarks' seeded generator (mulberry32), so fixtures and traffic share one. */
export { seededRandom as seeded } from '../../../../bench/kubecost-traffic.ts';

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Runs fn and returns the thrown error (fails the test if nothing is thrown). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}

/**
 * `bytes` behind a view that counts the bytes read by index, and fails once more than `limit`
 * have been read: a decoder that loops on hostile input fails at once instead of hanging, and
 * the count bounds the work a decoder does on it.
 */
export function countingReads(bytes: Uint8Array, limit: number): { view: Uint8Array; reads: () => number } {
  let reads = 0;
  const view = new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key) && ++reads > limit) throw new Error(`more than ${limit} byte reads`);
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { view, reads: () => reads };
}

// ---------------------------------------------------------------------------------------------
// A tiny hand encoder for crafting exact wire bytes
// ---------------------------------------------------------------------------------------------

type Bytes = Uint8Array | number[] | string;

function toBytes(b: Bytes): number[] {
  if (typeof b === 'string') return [...new TextEncoder().encode(b)];
  return [...b];
}

/** Varint of a non-negative integer (BigInt accepted for the full 64-bit range). */
export function varintBytes(v: number | bigint): number[] {
  let x = BigInt(v);
  if (x < 0n) x = BigInt.asUintN(64, x);
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export const pb = {
  tag: (field: number, wt: number): number[] => varintBytes(field * 8 + wt),
  varint: (field: number, v: number | bigint): number[] => [...pb.tag(field, 0), ...varintBytes(v)],
  len: (field: number, ...payload: Bytes[]): number[] => {
    const body = payload.flatMap(toBytes);
    return [...pb.tag(field, 2), ...varintBytes(body.length), ...body];
  },
  f64: (field: number, v: number): number[] => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return [...pb.tag(field, 1), ...b];
  },
  /** A double field from its raw 64 bits (hi, lo words), written little-endian. */
  f64bits: (field: number, hi: number, lo: number): number[] => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, lo, true);
    dv.setUint32(4, hi, true);
    return [...pb.tag(field, 1), ...b];
  },
  i32: (field: number, v: number): number[] => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return [...pb.tag(field, 5), ...b];
  },
  msg: (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat()),
};
