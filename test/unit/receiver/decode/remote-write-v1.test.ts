import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeWriteRequestV1, kubecostRequest, kubecostSeries } from '../../../../bench/kubecost-traffic.ts';
import { DecodeError } from '../../../../receiver/decode/decode-error.ts';
import { ProtobufError } from '../../../../receiver/decode/protobuf-wire.ts';
import {
  countWriteRequestV1,
  decodeWriteRequestV1,
  decodeWriteRequestV1Precount,
} from '../../../../receiver/decode/remote-write-v1.ts';
import {
  SCHEMA_V1,
  arbWriteRequestV1,
  checkInvariants,
  encodeV1,
  expectEqualV1,
  pb,
  referenceV1,
  scramble,
  seeded,
  seriesOf,
  thrown,
  valueBits,
  varintBytes,
} from './helpers.ts';

function expectProtobufError(fn: () => unknown, reason: ProtobufError['reason']): ProtobufError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(ProtobufError);
  expect(err).toBeInstanceOf(DecodeError);
  expect((err as ProtobufError).reason).toBe(reason);
  return err as ProtobufError;
}

const T0 = 1_704_067_200_000;

/** A request exercising every part of the schema, built with protobufjs. */
function richRequest(): Uint8Array {
  return encodeV1({
    timeseries: [
      {
        labels: [
          { name: '__name__', value: 'container_cpu_allocation' },
          { name: 'namespace', value: 'payments' },
          { name: 'pod', value: 'payments-api-7d9f8b6c5d-x2x9k' },
        ],
        samples: [
          { value: 0.25, timestamp: T0 },
          { value: 0.5, timestamp: T0 + 60_000 },
        ],
        exemplars: [{ labels: [{ name: 'trace_id', value: 'abc123' }], value: 0.3, timestamp: T0 }],
      },
      {
        labels: [{ name: '__name__', value: 'http_request_duration_seconds' }],
        histograms: [
          {
            count_int: 12,
            sum: 3.5,
            schema: 3,
            zero_threshold: 1e-128,
            zero_count_int: 2,
            negative_spans: [{ offset: -2, length: 2 }],
            negative_deltas: [1, -1],
            positive_spans: [{ offset: 0, length: 3 }, { offset: 2, length: 1 }],
            positive_deltas: [3, 1, -2, 4],
            reset_hint: 2,
            timestamp: T0,
          },
          {
            count_float: 7.5,
            sum: -1.25,
            schema: -53,
            positive_spans: [{ offset: 0, length: 2 }],
            positive_counts: [2.5, 5],
            custom_values: [0.1, 0.5, 1],
            timestamp: T0 + 60_000,
          },
        ],
      },
    ],
    metadata: [
      { type: 1, metric_family_name: 'http_requests_total', help: 'Requests.', unit: '' },
      { type: 2, metric_family_name: 'container_cpu_allocation', help: 'CPU cores allocated.', unit: 'cores' },
    ],
  });
}

describe('decodeWriteRequestV1: fixtures from the official proto with protobufjs', () => {
  it('decodes labels, samples, exemplars, histograms and metadata', () => {
    const bytes = richRequest();
    const d = decodeWriteRequestV1(bytes);
    expectEqualV1(d, referenceV1(bytes));
    expect(d.seriesCount).toBe(2);
    expect(seriesOf(d)[0]).toEqual({
      labels: [
        ['__name__', 'container_cpu_allocation'],
        ['namespace', 'payments'],
        ['pod', 'payments-api-7d9f8b6c5d-x2x9k'],
      ],
      samples: [
        { value: 0.25, timestamp: T0, stale: false },
        { value: 0.5, timestamp: T0 + 60_000, stale: false },
      ],
    });
    expect(seriesOf(d)[1].samples).toEqual([]);
    expect(d.exemplarCount).toBe(1);
    expect(d.histogramCount).toBe(2);
    expect(d.metadataCount).toBe(2);
  });

  it('keeps label bytes as ranges into the body', () => {
    const bytes = richRequest();
    const d = decodeWriteRequestV1(bytes);
    expect(d.bytes).toBe(bytes);
    const [off, len] = [d.labelRefs[2], d.labelRefs[3]];
    expect(new TextDecoder().decode(bytes.subarray(off, off + len))).toBe('container_cpu_allocation');
  });

  it('decodes an empty request', () => {
    const d = decodeWriteRequestV1(new Uint8Array(0));
    checkInvariants(d);
    expect(d.seriesCount).toBe(0);
    expect(d.labelStart).toEqual(new Uint32Array([0]));
    expect(d.metadataCount + d.histogramCount + d.exemplarCount).toBe(0);
  });

  it('decodes a metadata-only request', () => {
    const bytes = encodeV1({
      metadata: [
        { type: 1, metric_family_name: 'a_total', help: 'A.', unit: '' },
        { type: 3, metric_family_name: 'b', help: '', unit: 'seconds' },
        { metric_family_name: 'c' },
      ],
    });
    const d = decodeWriteRequestV1(bytes);
    checkInvariants(d);
    expect(d.seriesCount).toBe(0);
    expect(d.metadataCount).toBe(3);
  });

  it('decodes series with no labels, no samples, empty strings', () => {
    const bytes = encodeV1({ timeseries: [{}, { labels: [{ name: '', value: '' }, {}] }, { samples: [{}] }] });
    const d = decodeWriteRequestV1(bytes);
    expectEqualV1(d, referenceV1(bytes));
    expect(seriesOf(d)[1].labels).toEqual([['', ''], ['', '']]);
    expect(seriesOf(d)[2].samples).toEqual([{ value: 0, timestamp: 0, stale: false }]);
  });

  it('decodes NaN, ±Inf, -0 and extreme doubles', () => {
    const values = [NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, -Number.MIN_VALUE, 1e-300, 42.125];
    const bytes = encodeV1({ timeseries: [{ labels: [{ name: '__name__', value: 'x' }], samples: values.map((value, i) => ({ value, timestamp: T0 + i })) }] });
    const d = decodeWriteRequestV1(bytes);
    expectEqualV1(d, referenceV1(bytes));
    values.forEach((v, i) => expect(Object.is(d.values[i], v)).toBe(true));
    expect([...d.stale]).toEqual(values.map(() => 0));
  });

  it('decodes negative and large timestamps exactly (|t| < 2^53)', () => {
    const ts = [0, 1, -1, T0, -T0, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32) - 1, 2 ** 35, 2 ** 49 + 3, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    const bytes = encodeV1({ timeseries: [{ labels: [{ name: '__name__', value: 'x' }], samples: ts.map((timestamp) => ({ value: 1, timestamp })) }] });
    const d = decodeWriteRequestV1(bytes);
    expectEqualV1(d, referenceV1(bytes));
    expect([...d.timestamps]).toEqual(ts);
  });

  it('rejects timestamps beyond ±(2^53-1) with ProtobufError invalid', () => {
    for (const t of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 60n]) {
      const bytes = pb.msg(pb.len(1, pb.len(2, pb.f64(1, 1), pb.varint(2, t))));
      expectProtobufError(() => decodeWriteRequestV1(bytes), 'invalid');
    }
  });
});

describe('decodeWriteRequestV1: stale markers', () => {
  const series = (...samples: number[][]) => pb.msg(pb.len(1, pb.len(1, pb.len(1, '__name__'), pb.len(2, 'up')), ...samples.map((s) => pb.len(2, s))));

  it('recognises 0x7ff0000000000002 and keeps the bits exactly', () => {
    const bytes = series(pb.f64bits(1, 0x7ff00000, 0x00000002), pb.varint(2, T0));
    const d = decodeWriteRequestV1(bytes);
    expect(d.stale[0]).toBe(1);
    expect(valueBits(d, 0)).toBe('7ff0000000000002');
    expect(Number.isNaN(d.values[0])).toBe(true);
  });

  it('keeps other NaN payloads and does not mark them stale', () => {
    const patterns: Array<[number, number, string]> = [
      [0x7ff80000, 0x00000000, '7ff8000000000000'],
      [0x7ff80000, 0x00000002, '7ff8000000000002'],
      [0x7ff00000, 0x00000001, '7ff0000000000001'],
      [0xfff00000, 0x00000002, 'fff0000000000002'],
      [0x7fffffff, 0xffffffff, '7fffffffffffffff'],
    ];
    const bytes = series(...patterns.map(([hi, lo]) => pb.f64bits(1, hi, lo)));
    const d = decodeWriteRequestV1(bytes);
    patterns.forEach(([, , bits], k) => {
      expect(valueBits(d, k)).toBe(bits);
      expect(d.stale[k]).toBe(0);
    });
  });

  it('finds stale markers written by the traffic generator and by a protobufjs fixture patched on the wire', () => {
    const s = kubecostSeries({ series: 3, seed: 4 });
    const raw = encodeWriteRequestV1(s.map((x, i) => ({ labels: x.labels, samples: [{ value: 5, timestamp: T0, stale: i === 1 }] })));
    const d = decodeWriteRequestV1(raw);
    expect([...d.stale]).toEqual([0, 1, 0]);
    expect(valueBits(d, 1)).toBe('7ff0000000000002');

    // protobufjs cannot be trusted to carry the payload through a JS number: write a placeholder
    // and patch its 8 bytes on the wire.
    const placeholder = 1234.5678;
    const bytes = encodeV1({ timeseries: [{ labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 1, timestamp: T0 }, { value: placeholder, timestamp: T0 + 1 }] }] });
    const needle = new Uint8Array(new Float64Array([placeholder]).buffer);
    const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
    expect(at).toBeGreaterThan(0);
    bytes.set([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f], at);
    const p = decodeWriteRequestV1(bytes);
    expect([...p.stale]).toEqual([0, 1]);
    expect(valueBits(p, 1)).toBe('7ff0000000000002');
    expect(p.values[0]).toBe(1);
  });
});

describe('decodeWriteRequestV1: wire-format tolerance', () => {
  const label = (n: string, v: string) => pb.len(1, pb.len(1, n), pb.len(2, v));
  const expected = [{ labels: [['__name__', 'up'], ['job', 'kubecost']], samples: [{ value: 1.5, timestamp: T0, stale: false }] }];

  it('accepts fields in any order (samples before labels, timestamp before value)', () => {
    const bytes = pb.msg(pb.len(1, pb.len(2, pb.varint(2, T0), pb.f64(1, 1.5)), pb.len(1, pb.len(2, 'up'), pb.len(1, '__name__')), label('job', 'kubecost')));
    expect(seriesOf(decodeWriteRequestV1(bytes))).toEqual(expected);
  });

  it('skips unknown fields of every wire type, including groups and the reserved field 2', () => {
    const unknowns = [pb.varint(98, 7), pb.len(99, 'junk'), pb.i32(100, 5), pb.f64(101, 1), [...pb.tag(50, 3), ...pb.varint(1, 1), ...pb.tag(51, 3), ...pb.tag(51, 4), ...pb.tag(50, 4)]];
    const bytes = pb.msg(
      pb.varint(2, 7),
      ...unknowns,
      pb.len(1, ...unknowns, label('__name__', 'up'), pb.len(1, pb.len(1, 'job'), ...unknowns, pb.len(2, 'kubecost')), pb.len(2, ...unknowns, pb.f64(1, 1.5), pb.varint(2, T0))),
      pb.len(3, pb.varint(1, 1), pb.len(2, 'up'), ...unknowns),
      ...unknowns,
    );
    const d = decodeWriteRequestV1(bytes);
    expect(seriesOf(d)).toEqual(expected);
    expect(d.metadataCount).toBe(1);
    expectEqualV1(d, referenceV1(bytes));
  });

  it('takes the last value of a repeated scalar field (proto3 semantics)', () => {
    const bytes = pb.msg(pb.len(1, pb.len(1, pb.len(1, 'a'), pb.len(1, '__name__'), pb.len(2, 'x'), pb.len(2, 'up')), pb.len(2, pb.f64(1, 9), pb.f64(1, 1.5), pb.varint(2, 5), pb.varint(2, T0))));
    const d = decodeWriteRequestV1(bytes);
    expect(seriesOf(d)).toEqual([{ labels: [['__name__', 'up']], samples: [{ value: 1.5, timestamp: T0, stale: false }] }]);
    expectEqualV1(d, referenceV1(bytes));
  });

  it('accepts non-minimal varints for tags and lengths', () => {
    // timeseries tag 0x0a written as 8a 00; the label name's length 2 written as 82 00.
    const labelBody = [0x0a, 0x82, 0x00, 0x5f, 0x5f, 0x12, 0x02, 0x75, 0x70];
    const seriesBody = [0x0a, labelBody.length, ...labelBody];
    const bytes = pb.msg([0x8a, 0x00, seriesBody.length, ...seriesBody]);
    const d = decodeWriteRequestV1(bytes);
    expect(seriesOf(d)[0].labels).toEqual([['__', 'up']]);
    expectEqualV1(d, referenceV1(bytes));
  });

  it('decodes scrambled encodings (reordered, unknown fields inserted) like protobufjs', () => {
    const bytes = richRequest();
    const rand = seeded(99);
    for (let i = 0; i < 200; i++) {
      const s = scramble(bytes, SCHEMA_V1, rand);
      expectEqualV1(decodeWriteRequestV1(s), referenceV1(s));
    }
  });
});

describe('decodeWriteRequestV1: malformed input', () => {
  const ok = pb.len(1, pb.len(1, pb.len(1, '__name__'), pb.len(2, 'up')), pb.len(2, pb.f64(1, 1), pb.varint(2, T0)));

  it('rejects wrong wire types for known fields', () => {
    const cases = [
      pb.msg(pb.varint(1, 5)), // WriteRequest.timeseries as varint
      pb.msg(pb.f64(3, 1)), // WriteRequest.metadata as fixed64
      pb.msg(pb.len(1, pb.varint(1, 1))), // TimeSeries.labels as varint
      pb.msg(pb.len(1, pb.i32(2, 1))), // TimeSeries.samples as fixed32
      pb.msg(pb.len(1, pb.varint(3, 1))), // TimeSeries.exemplars
      pb.msg(pb.len(1, pb.varint(4, 1))), // TimeSeries.histograms
      pb.msg(pb.len(1, pb.len(1, pb.varint(1, 1)))), // Label.name as varint
      pb.msg(pb.len(1, pb.len(1, pb.f64(2, 1)))), // Label.value as fixed64
      pb.msg(pb.len(1, pb.len(2, pb.varint(1, 1)))), // Sample.value as varint
      pb.msg(pb.len(1, pb.len(2, pb.f64(2, 1)))), // Sample.timestamp as fixed64
      pb.msg(pb.len(1, pb.len(2, pb.len(2, 'x')))), // Sample.timestamp as bytes
      pb.msg(pb.len(1, pb.len(4, pb.len(1, 'x')))), // Histogram.count_int as bytes
      pb.msg(pb.len(1, pb.len(4, pb.varint(3, 1)))), // Histogram.sum as varint
      pb.msg(pb.len(1, pb.len(4, pb.len(11, pb.f64(1, 1))))), // BucketSpan.offset as fixed64
      pb.msg(pb.len(1, pb.len(3, pb.varint(2, 1)))), // Exemplar.value as varint
      pb.msg(pb.len(3, pb.len(1, 'x'))), // MetricMetadata.type as bytes
    ];
    for (const bytes of cases) expectProtobufError(() => decodeWriteRequestV1(bytes), 'malformed');
  });

  it('rejects field number 0 at every level', () => {
    for (const bytes of [
      pb.msg([0x00, 0x00]),
      pb.msg(pb.len(1, [0x02, 0x00])),
      pb.msg(pb.len(1, pb.len(1, [0x00, 0x01]))),
      pb.msg(pb.len(1, pb.len(2, [0x01, 0, 0, 0, 0, 0, 0, 0, 0]))),
      pb.msg(ok, [0x80, 0x00, 0x00]),
    ]) {
      expectProtobufError(() => decodeWriteRequestV1(bytes), 'malformed');
    }
  });

  it('rejects truncated varints, lengths past the end and bad wire types', () => {
    const cases = [
      pb.msg([0x0a]), // tag without length
      pb.msg([0x0a, 0x05, 0x0a]), // length past the end
      pb.msg([0x0a, 0xff]), // truncated length varint
      pb.msg([0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // 11-byte varint
      pb.msg([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), // overflows 64 bits
      pb.msg(pb.len(1, [0x12, 0x03, 0x09, 0x00, 0x00])), // truncated double
      pb.msg(pb.len(1, [0x12, 0x02, 0x10, 0x80])), // truncated timestamp varint
      pb.msg(pb.len(1, [0x0a, 0x04, 0x0a, 0x09, 0x61, 0x62])), // name longer than its label
      pb.msg([0x0e]), // wire type 6
      pb.msg([0x0f]), // wire type 7
      pb.msg([...pb.tag(9, 4)]), // end-group without a start
      pb.msg([...pb.tag(9, 3), ...pb.varint(1, 1)]), // unterminated group
      pb.msg([...pb.tag(9, 3), ...pb.tag(8, 4)]), // mismatched end-group
      pb.msg([0x8a, 0x80, 0x80, 0x80, 0x80, 0x01]), // tag beyond 32 bits
      pb.msg([0x25, 0x01, 0x02]), // truncated fixed32 of an unknown field
      pb.msg([0x21, 0x01, 0x02]), // truncated fixed64 of an unknown field
      pb.msg(pb.len(1, pb.len(4, [0x52, 0x03, 1, 2, 3]))), // packed doubles not a multiple of 8
    ];
    for (const bytes of cases) expectProtobufError(() => decodeWriteRequestV1(bytes), 'malformed');
  });

  it('does not let a sub-message read its parent bytes', () => {
    // Label length 2 covers only "0a 05": the name's length points past the label.
    const bytes = pb.msg(pb.len(1, [0x0a, 0x02, 0x0a, 0x05], pb.len(2, 'hello')));
    expectProtobufError(() => decodeWriteRequestV1(bytes), 'malformed');
  });

  it('rejects deeply nested groups without overflowing the stack', () => {
    const open = Array.from({ length: 100_000 }, () => pb.tag(9, 3)).flat();
    expectProtobufError(() => decodeWriteRequestV1(Uint8Array.from(open)), 'malformed');
  });

  it('enforces the decode limits with too_large', () => {
    const bytes = kubecostRequest(50, 3).raw;
    expect(decodeWriteRequestV1(bytes, { maxSeries: 50, maxSamples: 50, maxLabels: 500 }).seriesCount).toBe(50);
    expectProtobufError(() => decodeWriteRequestV1(bytes, { maxSeries: 49 }), 'too_large');
    expectProtobufError(() => decodeWriteRequestV1(bytes, { maxSamples: 49 }), 'too_large');
    expectProtobufError(() => decodeWriteRequestV1(bytes, { maxLabels: 100 }), 'too_large');
  });
});

describe('decodeWriteRequestV1: equivalence with protobufjs', () => {
  it('matches on realistic kubecost requests (and the pre-count variant matches too)', () => {
    for (const seed of [1, 2, 3]) {
      const { raw } = kubecostRequest(2000, seed);
      const d = decodeWriteRequestV1(raw);
      expectEqualV1(d, referenceV1(raw));
      expect(d.seriesCount).toBe(2000);
      const p = decodeWriteRequestV1Precount(raw);
      expect(seriesOf(p)).toEqual(seriesOf(d));
      expect(countWriteRequestV1(raw)).toEqual({ series: 2000, labels: d.labelRefs.length / 4, samples: 2000 });
    }
  });

  it('matches on 1,000 random valid WriteRequests', () => {
    fc.assert(
      fc.property(arbWriteRequestV1, (obj) => {
        const bytes = encodeV1(obj);
        expectEqualV1(decodeWriteRequestV1(bytes), referenceV1(bytes));
      }),
      { numRuns: 1000, seed: 20240101 },
    );
  });

  it('matches on 1,000 random WriteRequests with scrambled encodings', () => {
    fc.assert(
      fc.property(arbWriteRequestV1, fc.integer(), (obj, seed) => {
        const bytes = scramble(encodeV1(obj), SCHEMA_V1, seeded(seed));
        expectEqualV1(decodeWriteRequestV1(bytes), referenceV1(bytes));
      }),
      { numRuns: 1000, seed: 7 },
    );
  });
});

describe('decodeWriteRequestV1: hostile input', () => {
  it('throws only ProtobufError at every truncation of a real payload, and agrees with protobufjs when a prefix is valid', () => {
    const bytes = Uint8Array.from([...kubecostRequest(20, 8).raw, ...richRequest()]);
    let valid = 0;
    for (let cut = 0; cut < bytes.length; cut++) {
      const prefix = bytes.subarray(0, cut);
      let ref: unknown;
      let refOk = true;
      try {
        ref = referenceV1(prefix);
      } catch {
        refOk = false;
      }
      try {
        const d = decodeWriteRequestV1(prefix);
        expect(refOk).toBe(true);
        expectEqualV1(d, ref);
        valid++;
      } catch (err) {
        expect(err).toBeInstanceOf(ProtobufError);
        expect(refOk).toBe(false);
      }
    }
    expect(valid).toBeGreaterThan(20); // cuts at series boundaries are valid, shorter requests
  });

  it('throws only ProtobufError (or decodes) on 3,000 random byte strings', () => {
    const rand = seeded(1234);
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * 48);
      const bytes = new Uint8Array(len);
      for (let k = 0; k < len; k++) bytes[k] = Math.floor(rand() * 256);
      try {
        checkInvariants(decodeWriteRequestV1(bytes));
        decoded++;
      } catch (err) {
        expect(err).toBeInstanceOf(ProtobufError);
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });

  it('throws only ProtobufError (or decodes consistently) on 3,000 mutated real payloads', () => {
    const base = Uint8Array.from([...kubecostRequest(30, 2).raw, ...richRequest()]);
    const rand = seeded(77);
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from(base);
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      try {
        checkInvariants(decodeWriteRequestV1(bytes));
      } catch (err) {
        if (!(err instanceof ProtobufError)) throw err;
      }
    }
  });

  it('decodes arbitrary varint-heavy garbage in bounded time', () => {
    const bytes = new Uint8Array(1 << 20).fill(0x80); // one endless varint
    const t0 = performance.now();
    expectProtobufError(() => decodeWriteRequestV1(bytes), 'malformed');
    expect(performance.now() - t0).toBeLessThan(100);
    expect(varintBytes(1)).toEqual([1]);
  });
});
