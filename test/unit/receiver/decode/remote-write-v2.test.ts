import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kubecostRequest, kubecostSeries, encodeRequestV2 } from '../../../../bench/kubecost-traffic.ts';
import { decodeWriteRequestV1 } from '../../../../receiver/decode/remote-write-v1.ts';
import { ProtobufError } from '../../../../receiver/decode/protobuf-wire.ts';
import { decodeRequestV2 } from '../../../../receiver/decode/remote-write-v2.ts';
import {
  SCHEMA_V2,
  arbRequestV2,
  checkInvariants,
  encodeV2,
  expectEqualV2,
  pb,
  referenceV2,
  scramble,
  seeded,
  seriesOf,
  thrown,
  valueBits,
} from './helpers.ts';

function expectProtobufError(fn: () => unknown, reason: ProtobufError['reason']): ProtobufError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(ProtobufError);
  expect((err as ProtobufError).reason).toBe(reason);
  return err as ProtobufError;
}

const T0 = 1_704_067_200_000;
const SYMBOLS = ['', '__name__', 'container_cpu_allocation', 'namespace', 'payments', 'pod', 'payments-api-1', 'trace_id', 'abc', 'Cores allocated.', 'cores', 'http_duration_seconds'];

function richRequest(): Uint8Array {
  return encodeV2({
    symbols: SYMBOLS,
    timeseries: [
      {
        labels_refs: [1, 2, 3, 4, 5, 6],
        samples: [{ value: 0.25, timestamp: T0 }, { value: 0.5, timestamp: T0 + 60_000 }],
        exemplars: [{ labels_refs: [7, 8], value: 0.3, timestamp: T0 }],
        metadata: { type: 2, help_ref: 9, unit_ref: 10 },
        created_timestamp: T0 - 3_600_000,
      },
      {
        labels_refs: [1, 11],
        histograms: [
          { count_int: 4, sum: 1.5, schema: 2, zero_count_int: 1, positive_spans: [{ offset: 1, length: 2 }], positive_deltas: [2, -1], timestamp: T0 },
          { count_float: 2.5, sum: 3, schema: -53, positive_spans: [{ offset: 0, length: 2 }], positive_counts: [1, 1.5], custom_values: [0.5, 1], timestamp: T0 + 1 },
        ],
        metadata: { type: 3 },
      },
    ],
  });
}

describe('decodeRequestV2: fixtures from the official proto with protobufjs', () => {
  it('resolves label references to symbol byte ranges and counts histograms, exemplars, metadata', () => {
    const bytes = richRequest();
    const d = decodeRequestV2(bytes);
    expectEqualV2(d, referenceV2(bytes));
    expect(seriesOf(d)).toEqual([
      {
        labels: [['__name__', 'container_cpu_allocation'], ['namespace', 'payments'], ['pod', 'payments-api-1']],
        samples: [{ value: 0.25, timestamp: T0, stale: false }, { value: 0.5, timestamp: T0 + 60_000, stale: false }],
      },
      { labels: [['__name__', 'http_duration_seconds']], samples: [] },
    ]);
    expect(d.histogramCount).toBe(2);
    expect(d.exemplarCount).toBe(1);
    expect(d.metadataCount).toBe(2);
    // Label ranges point at the symbol strings inside the body.
    const off = d.labelRefs[2];
    expect(new TextDecoder().decode(bytes.subarray(off, off + d.labelRefs[3]))).toBe('container_cpu_allocation');
  });

  it('decodes an empty request and a request with symbols only', () => {
    for (const bytes of [new Uint8Array(0), encodeV2({ symbols: ['', 'a'] })]) {
      const d = decodeRequestV2(bytes);
      checkInvariants(d);
      expect(d.seriesCount).toBe(0);
    }
  });

  it('decodes metadata-only series', () => {
    const bytes = encodeV2({ symbols: ['', '__name__', 'up', 'help'], timeseries: [{ labels_refs: [1, 2], metadata: { type: 2, help_ref: 3 } }] });
    const d = decodeRequestV2(bytes);
    expect(d.seriesCount).toBe(1);
    expect(d.sampleStart[1]).toBe(0);
    expect(d.metadataCount).toBe(1);
  });

  it('treats reference 0 as the empty string even without a symbol table', () => {
    const d = decodeRequestV2(pb.msg(pb.len(5, pb.len(1, [0, 0]), pb.len(5, pb.varint(3, 0)))));
    expect(seriesOf(d)[0].labels).toEqual([['', '']]);
    expect(d.metadataCount).toBe(1);
  });

  it('decodes NaN, ±Inf, negative and large timestamps', () => {
    const samples = [
      { value: NaN, timestamp: -1 },
      { value: Infinity, timestamp: Number.MAX_SAFE_INTEGER },
      { value: -Infinity, timestamp: -Number.MAX_SAFE_INTEGER },
      { value: -0, timestamp: 0 },
    ];
    const bytes = encodeV2({ symbols: ['', '__name__', 'x'], timeseries: [{ labels_refs: [1, 2], samples }] });
    const d = decodeRequestV2(bytes);
    expectEqualV2(d, referenceV2(bytes));
    expect([...d.timestamps]).toEqual(samples.map((s) => s.timestamp));
  });

  it('keeps stale markers bit-exact', () => {
    const bytes = pb.msg(pb.len(4, ''), pb.len(4, '__name__'), pb.len(4, 'up'), pb.len(5, pb.len(1, [1, 2]), pb.len(2, pb.f64bits(1, 0x7ff00000, 2), pb.varint(2, T0)), pb.len(2, pb.f64bits(1, 0x7ff80000, 2))));
    const d = decodeRequestV2(bytes);
    expect([...d.stale]).toEqual([1, 0]);
    expect(valueBits(d, 0)).toBe('7ff0000000000002');
    expect(valueBits(d, 1)).toBe('7ff8000000000002');
  });

  it('accepts timeseries before symbols, unpacked labels_refs and unknown fields', () => {
    const bytes = pb.msg(
      pb.len(5, pb.varint(1, 1), pb.len(2, pb.f64(1, 2), pb.varint(2, T0)), pb.varint(99, 1), pb.len(1, [2, 3]), pb.varint(1, 4)),
      pb.varint(1, 5), // reserved field numbers 1..3 are skipped like unknown fields
      pb.len(4, ''),
      pb.len(4, '__name__'),
      pb.len(4, 'up'),
      pb.len(4, 'job'),
      pb.len(4, 'kubecost'),
      pb.f64(42, 1),
    );
    const d = decodeRequestV2(bytes);
    expect(seriesOf(d)).toEqual([{ labels: [['__name__', 'up'], ['job', 'kubecost']], samples: [{ value: 2, timestamp: T0, stale: false }] }]);
    expectEqualV2(d, referenceV2(bytes));
  });

  it('decodes a 1.0 body as an empty 2.0 request (fields 1..3 are reserved)', () => {
    const v1 = kubecostRequest(10, 1).raw;
    expect(decodeWriteRequestV1(v1).seriesCount).toBe(10);
    expect(decodeRequestV2(v1).seriesCount).toBe(0);
  });

  it('decodes scrambled encodings like protobufjs', () => {
    const bytes = richRequest();
    const rand = seeded(5);
    for (let i = 0; i < 200; i++) {
      const s = scramble(bytes, SCHEMA_V2, rand);
      expectEqualV2(decodeRequestV2(s), referenceV2(s));
    }
  });
});

describe('decodeRequestV2: invalid requests', () => {
  const symbols = [pb.len(4, ''), pb.len(4, '__name__'), pb.len(4, 'up')];

  it('rejects label references outside the symbol table', () => {
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(1, [1, 3])))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(1, [0x80, 0x80, 0x04, 1])))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(pb.len(5, pb.len(1, [1, 2])))), 'invalid'); // no symbols at all
  });

  it('rejects an odd number of label references', () => {
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(1, [1, 2, 1])))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.varint(1, 1)))), 'invalid');
  });

  it('rejects a non-empty symbols[0]', () => {
    expectProtobufError(() => decodeRequestV2(pb.msg(pb.len(4, 'x'), pb.len(4, 'y'), pb.len(5, pb.len(1, [0, 1])))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(pb.len(4, 'x'))), 'invalid');
  });

  it('validates exemplar and metadata references', () => {
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(4, pb.len(1, [1, 9]))))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(4, pb.len(1, [1]))))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(5, pb.varint(3, 3))))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(5, pb.varint(4, 2 ** 40))))), 'invalid');
    expect(decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(4, pb.varint(1, 1), pb.varint(1, 2)), pb.len(5, pb.varint(3, 2))))).exemplarCount).toBe(1);
  });

  it('rejects timestamps beyond ±(2^53-1)', () => {
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(2, pb.varint(2, 2n ** 53n))))), 'invalid');
    expectProtobufError(() => decodeRequestV2(pb.msg(...symbols, pb.len(5, pb.len(2, pb.varint(2, -(2n ** 62n)))))), 'invalid');
  });

  it('rejects wrong wire types for known fields', () => {
    for (const bytes of [
      pb.msg(pb.varint(4, 1)), // symbols as varint
      pb.msg(pb.f64(5, 1)), // timeseries as fixed64
      pb.msg(pb.len(5, pb.f64(1, 1))), // labels_refs as fixed64
      pb.msg(pb.len(5, pb.varint(2, 1))), // samples as varint
      pb.msg(pb.len(5, pb.varint(3, 1))), // histograms as varint
      pb.msg(pb.len(5, pb.varint(4, 1))), // exemplars as varint
      pb.msg(pb.len(5, pb.varint(5, 1))), // metadata as varint
      pb.msg(pb.len(5, pb.len(6, 'x'))), // created_timestamp as bytes
      pb.msg(pb.len(5, pb.len(2, pb.varint(1, 1)))), // Sample.value as varint
      pb.msg(pb.len(5, pb.len(5, pb.len(3, 'x')))), // Metadata.help_ref as bytes
      pb.msg(pb.len(5, pb.len(4, pb.i32(1, 1)))), // Exemplar.labels_refs as fixed32
    ]) {
      expectProtobufError(() => decodeRequestV2(bytes), 'malformed');
    }
  });

  it('enforces the decode limits', () => {
    const { raw } = kubecostRequest(40, 2, T0, 2);
    expect(decodeRequestV2(raw, { maxSeries: 40 }).seriesCount).toBe(40);
    expectProtobufError(() => decodeRequestV2(raw, { maxSeries: 39 }), 'too_large');
    expectProtobufError(() => decodeRequestV2(raw, { maxSamples: 39 }), 'too_large');
    expectProtobufError(() => decodeRequestV2(raw, { maxLabels: 10 }), 'too_large');
  });
});

describe('decodeRequestV2: equivalence with protobufjs', () => {
  it('matches on realistic kubecost requests, and matches the 1.0 decoding of the same series', () => {
    for (const seed of [1, 2]) {
      const v2 = kubecostRequest(2000, seed, T0, 2);
      const v1 = kubecostRequest(2000, seed, T0, 1);
      const d2 = decodeRequestV2(v2.raw);
      expectEqualV2(d2, referenceV2(v2.raw));
      expect(seriesOf(d2)).toEqual(seriesOf(decodeWriteRequestV1(v1.raw)));
      expect(v2.raw.length).toBeLessThan(v1.raw.length / 2);
    }
  });

  it('matches the hand-written 2.0 encoder fed with stale markers', () => {
    const s = kubecostSeries({ series: 5, seed: 9 });
    const raw = encodeRequestV2(s.map((x, i) => ({ labels: x.labels, samples: [{ value: i, timestamp: T0, stale: i % 2 === 1 }] })));
    const d = decodeRequestV2(raw);
    expect([...d.stale]).toEqual([0, 1, 0, 1, 0]);
    expect(valueBits(d, 3)).toBe('7ff0000000000002');
  });

  it('matches on 1,000 random valid 2.0 requests, plain and scrambled', () => {
    fc.assert(
      fc.property(arbRequestV2, fc.integer(), (obj, seed) => {
        const bytes = encodeV2(obj);
        const d = decodeRequestV2(bytes);
        expectEqualV2(d, referenceV2(bytes));
        expect(d.metadataCount).toBe(obj.timeseries.filter((t) => 'metadata' in t).length);
        const s = scramble(bytes, SCHEMA_V2, seeded(seed));
        expectEqualV2(decodeRequestV2(s), referenceV2(s));
      }),
      { numRuns: 1000, seed: 31337 },
    );
  });
});

describe('decodeRequestV2: hostile input', () => {
  it('throws only ProtobufError at every truncation of a real payload', () => {
    const bytes = Uint8Array.from([...kubecostRequest(20, 3, T0, 2).raw, ...richRequest()]);
    for (let cut = 0; cut < bytes.length; cut++) {
      try {
        checkInvariants(decodeRequestV2(bytes.subarray(0, cut)));
      } catch (err) {
        if (!(err instanceof ProtobufError)) throw err;
      }
    }
  });

  it('throws only ProtobufError (or decodes) on 2,500 random and 2,500 mutated byte strings', () => {
    const rand = seeded(2024);
    const base = Uint8Array.from([...kubecostRequest(20, 4, T0, 2).raw, ...richRequest()]);
    for (let i = 0; i < 5000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(Math.floor(rand() * 48));
        for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rand() * 256);
      } else {
        bytes = Uint8Array.from(base);
        for (let f = 0; f < 1 + Math.floor(rand() * 3); f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      try {
        checkInvariants(decodeRequestV2(bytes));
      } catch (err) {
        if (!(err instanceof ProtobufError)) throw err;
      }
    }
  });
});
