import fc from 'fast-check';
import snappyjs from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { kubecostRequest } from '../../../../bench/kubecost-traffic.ts';
import { decompressNative, decompressSnappy, nativeSnappy, snappyDecoder } from '../../../../receiver/decode/snappy-block.ts';
import { SnappyError, snappyDecode } from '../../../../receiver/decode/snappy.ts';
import { hex, thrown } from './helpers.ts';

const MiB = 1024 * 1024;

/** What a decoder answers for a body: its bytes, or its error's class, reason and message. */
function answer(decode: () => Uint8Array): string {
  try {
    return `ok ${Buffer.from(decode()).toString('hex')}`;
  } catch (err) {
    expect(err).toBeInstanceOf(SnappyError);
    const e = err as SnappyError;
    return `error ${e.reason} ${e.message} ${e.declaredLength}`;
  }
}

/** Our decoder's answer and the native path's, for one body and limit. */
function bothAnswers(body: Uint8Array, limit: number): [string, string] {
  return [answer(() => snappyDecode(body, limit)), answer(() => decompressNative(nativeSnappy!, body, limit))];
}

describe('decompressSnappy', () => {
  it('uses the native decoder where the package ships a binary', () => {
    // Linux x64 with glibc is what the image and CI run: a failed install must not go unnoticed.
    if (process.platform === 'linux' && process.arch === 'x64') expect(snappyDecoder).toBe('native');
    expect(snappyDecoder === 'native').toBe(nativeSnappy !== undefined);
  });

  it('decodes realistic remote-write bodies to their protobuf', () => {
    for (const seed of [1, 2]) {
      const req = kubecostRequest(2000, seed);
      expect(Buffer.from(decompressSnappy(req.body, 64 * MiB)).equals(Buffer.from(req.raw))).toBe(true);
    }
  });
});

describe.runIf(nativeSnappy !== undefined)('the native path answers as our decoder does', () => {
  it('checks the limit and the declared length before the native decoder sees the body', () => {
    let called = 0;
    const spy = {
      uncompressSync(): Buffer {
        called++;
        return Buffer.alloc(0);
      },
    };
    const big = snappyjs.compress(new Uint8Array(1000));
    expect((thrown(() => decompressNative(spy, big, 999)) as SnappyError).reason).toBe('too_large');
    // 2^31 bytes declared by a 6-byte body: impossible, refused without allocating.
    expect((thrown(() => decompressNative(spy, hex('8080808008' + '00'), 2 ** 32)) as SnappyError).reason).toBe('corrupt_snappy');
    expect(called).toBe(0);
  });

  it('hands a body whose output has another length than declared to our decoder', () => {
    const body = snappyjs.compress(Buffer.from('abcdefgh'));
    const short = { uncompressSync: (): Buffer => Buffer.from('abc') };
    expect(Buffer.from(decompressNative(short, body, 100)).toString()).toBe('abcdefgh');
  });

  it('on hand-made corrupt bodies', () => {
    const bodies = [
      '', '80', 'ffffffffff01', '0a', '0a0061', '0a' + '0061' + '1502', '0a' + '0061' + '1500', '05' + '0c' + '6162',
      '03' + '08616263' + '00', '02' + '08616263', '0a' + 'f0' + '07' + '61', '0a' + 'fc' + 'f0ffffff', '04' + '0061' + '0e0100',
      '08' + '0461626364' + '0d04', '06' + '00' + '61' + '12' + '0100' + '00',
    ];
    for (const h of bodies) {
      const [ours, native] = bothAnswers(hex(h), 1 * MiB);
      expect(native, h).toBe(ours);
    }
  });

  it('on valid, truncated and mutated bodies (property)', () => {
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      // Repetitive input, so that the compressor emits copies of every kind.
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 300 })).map(([unit, times]) => {
        const out = new Uint8Array(unit.length * times);
        for (let i = 0; i < times; i++) out.set(unit, i * unit.length);
        return out;
      }),
    );
    const damage = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    );
    fc.assert(
      fc.property(data, fc.array(damage, { maxLength: 3 }), fc.integer({ min: 0, max: 20_000 }), (plain, damages, limit) => {
        const body = Uint8Array.from(snappyjs.compress(plain));
        let damaged: Uint8Array = body;
        for (const d of damages) {
          if (damaged.length === 0 || d.kind === 'none') continue;
          const at = d.at % damaged.length;
          if (d.kind === 'truncate') damaged = damaged.subarray(0, at);
          else if (d.kind === 'flip') damaged[at] ^= d.bits;
          else damaged[at] = d.value;
        }
        const [ours, native] = bothAnswers(damaged, limit);
        expect(native).toBe(ours);
      }),
      { numRuns: 3000 },
    );
  });

  it('on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
        const [ours, native] = bothAnswers(body, 1 * MiB);
        expect(native).toBe(ours);
      }),
      { numRuns: 3000 },
    );
  });
});
