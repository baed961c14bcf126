import snappyjs from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { kubecostRequest } from '../../../../bench/kubecost-traffic.ts';
import {
  DecodeError,
  ProtobufError,
  SnappyError,
  UnsupportedMediaTypeError,
  decodeRemoteWrite,
  defaultDecodeLimits,
  remoteWriteVersion,
} from '../../../../receiver/decode/index.ts';
import { RECEIVER_ERRORS } from '../../../../receiver/errors.ts';
import { encodeV2, hex, seeded, seriesOf, thrown } from './helpers.ts';

const MiB = 1024 * 1024;
const LIMITS = { maxDecodedBytes: 32 * MiB };
const V2 = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

describe('remoteWriteVersion', () => {
  it('selects 1.0 or 2.0 from the Content-Type', () => {
    expect(remoteWriteVersion('application/x-protobuf')).toBe(1);
    expect(remoteWriteVersion('application/x-protobuf;proto=prometheus.WriteRequest')).toBe(1);
    expect(remoteWriteVersion('Application/X-Protobuf ; Proto="prometheus.WriteRequest"')).toBe(1);
    expect(remoteWriteVersion(V2)).toBe(2);
    expect(remoteWriteVersion('application/x-protobuf; proto=io.prometheus.write.v2.Request; charset=utf-8')).toBe(2);
    expect(remoteWriteVersion('application/x-protobuf;charset=utf-8')).toBe(1);
  });

  it('treats a missing Content-Type as 1.0, like Prometheus', () => {
    expect(remoteWriteVersion(undefined)).toBe(1);
    expect(remoteWriteVersion('')).toBe(1);
  });

  it('rejects other media types and unknown proto= values with unsupported_media_type', () => {
    for (const ct of [
      'application/json',
      'text/plain',
      'application/x-protobuf-foo',
      'application/protobuf',
      'application/x-protobuf;proto=io.prometheus.write.v3.Request',
      'application/x-protobuf;proto=prometheus.writerequest',
      'application/x-protobuf;proto=',
      'application/x-protobuf;proto=prometheus.WriteRequest;proto=io.prometheus.write.v2.Request',
    ]) {
      const err = thrown(() => remoteWriteVersion(ct));
      expect(err).toBeInstanceOf(UnsupportedMediaTypeError);
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as UnsupportedMediaTypeError).reason).toBe('unsupported_media_type');
      expect((err as UnsupportedMediaTypeError).code).toBe('unsupported-media-type');
      expect(RECEIVER_ERRORS[(err as UnsupportedMediaTypeError).code].status).toBe(415);
    }
  });
});

describe('decodeRemoteWrite', () => {
  it('decodes a snappy-compressed 1.0 request', () => {
    const req = kubecostRequest(500, 1);
    const { version, write } = decodeRemoteWrite(req.body, 'application/x-protobuf', LIMITS);
    expect(version).toBe(1);
    expect(write.seriesCount).toBe(500);
    expect(write.sampleStart[500]).toBe(500);
  });

  it('decodes a snappy-compressed 2.0 request to the same series', () => {
    const v1 = decodeRemoteWrite(kubecostRequest(300, 2).body, undefined, LIMITS);
    const v2 = decodeRemoteWrite(kubecostRequest(300, 2, undefined, 2).body, V2, LIMITS);
    expect(v2.version).toBe(2);
    expect(seriesOf(v2.write)).toEqual(seriesOf(v1.write));
  });

  it('accepts the maximum decoded size as a plain number', () => {
    const req = kubecostRequest(10, 1);
    expect(decodeRemoteWrite(req.body, 'application/x-protobuf', req.raw.length).write.seriesCount).toBe(10);
    const err = thrown(() => decodeRemoteWrite(req.body, 'application/x-protobuf', req.raw.length - 1));
    expect(err).toBeInstanceOf(SnappyError);
    expect((err as SnappyError).reason).toBe('too_large');
  });

  it('maps each failure to a typed error, a code and an HTTP status', () => {
    const cases: Array<[() => unknown, string, string, number]> = [
      [() => decodeRemoteWrite(kubecostRequest(10, 1).body, 'application/json', LIMITS), 'unsupported_media_type', 'unsupported-media-type', 415],
      [() => decodeRemoteWrite(hex('ffffffff0f00'), undefined, LIMITS), 'too_large', 'decoded-too-large', 413],
      [() => decodeRemoteWrite(hex('0afcf0ffffff'), undefined, LIMITS), 'corrupt_snappy', 'corrupt-snappy', 400],
      [() => decodeRemoteWrite(snappyjs.compress(Uint8Array.of(0x0a, 0x05)), undefined, LIMITS), 'malformed', 'corrupt-protobuf', 400],
      [() => decodeRemoteWrite(snappyjs.compress(encodeV2({ symbols: ['x'] })), V2, LIMITS), 'invalid', 'corrupt-protobuf', 400],
      [() => decodeRemoteWrite(kubecostRequest(10, 1).body, undefined, { ...LIMITS, maxSeries: 5 }), 'too_large', 'decoded-too-large', 413],
    ];
    for (const [fn, reason, code, status] of cases) {
      const err = thrown(fn);
      expect(err).toBeInstanceOf(DecodeError);
      const decodeError = err as DecodeError;
      expect(decodeError.reason).toBe(reason);
      expect(decodeError.code).toBe(code);
      expect(decodeError.retriable).toBe(false);
      expect(RECEIVER_ERRORS[decodeError.code].status).toBe(status);
    }
  });

  it('checks the media type before touching the body', () => {
    expect(thrown(() => decodeRemoteWrite(hex('ffffffff0f'), 'text/plain', LIMITS))).toBeInstanceOf(UnsupportedMediaTypeError);
  });

  it('throws only DecodeError on random bodies and truncated real bodies, for both versions', () => {
    const rand = seeded(99);
    const real = kubecostRequest(30, 6).body;
    for (let i = 0; i < 2000; i++) {
      const body =
        i % 2 === 0
          ? Uint8Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256))
          : real.subarray(0, Math.floor(rand() * real.length));
      for (const ct of ['application/x-protobuf', V2]) {
        try {
          decodeRemoteWrite(body, ct, LIMITS);
        } catch (err) {
          expect(err instanceof SnappyError || err instanceof ProtobufError).toBe(true);
        }
      }
    }
  });

  it('decodes snappy-compressed random valid protobuf bodies of either version without other exceptions', () => {
    // Well-compressed, protobuf-shaped garbage reaches the protobuf decoders.
    const rand = seeded(7);
    for (let i = 0; i < 2000; i++) {
      const raw = Uint8Array.from({ length: Math.floor(rand() * 64) }, () => (rand() < 0.5 ? [0x0a, 0x12, 0x22, 0x2a, 0x09, 0x10][Math.floor(rand() * 6)] : Math.floor(rand() * 256)));
      const body = snappyjs.compress(raw);
      for (const ct of ['application/x-protobuf', V2]) {
        try {
          decodeRemoteWrite(body, ct, LIMITS);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtobufError);
        }
      }
    }
  });
});

describe('decodeRemoteWrite memory caps', () => {
  it('derives entry caps from the decoded-size limit when none are given', () => {
    expect(defaultDecodeLimits(32 * MiB)).toEqual({ maxSeries: 2 * MiB, maxLabels: 8 * MiB, maxSamples: 4 * MiB });
    // 1,000 empty series in 2,000 bytes: over the default series cap for a 4 KiB limit (256)...
    const empties = snappyjs.compress(new Uint8Array(2000).fill(0).map((_, i) => (i % 2 === 0 ? 0x0a : 0)));
    const err = thrown(() => decodeRemoteWrite(empties, undefined, 4096));
    expect((err as ProtobufError).reason).toBe('too_large');
    // ...but fine when the caller raises it, and real requests are far below the caps.
    expect(decodeRemoteWrite(empties, undefined, { maxDecodedBytes: 4096, maxSeries: 1000 }).write.seriesCount).toBe(1000);
    const req = kubecostRequest(2000, 1);
    expect(decodeRemoteWrite(req.body, undefined, req.raw.length).write.seriesCount).toBe(2000);
    const req2 = kubecostRequest(2000, 1, undefined, 2);
    expect(decodeRemoteWrite(req2.body, V2, req2.raw.length).write.seriesCount).toBe(2000);
  });
});
