import { describe, expect, it } from 'vitest';
import { kubecostRequest } from '../../../../bench/kubecost-traffic.ts';
import type { DecodedWrite } from '../../../../receiver/decode/decoded-write.ts';
import {
  bytesEqual,
  compareBytes,
  findLabel,
  formatSeries,
  isValidLabelName,
  isValidUtf8,
  labelName,
  labelValue,
  utf8Bytes,
  validateSeries,
  type LabelLimits,
} from '../../../../receiver/decode/labels.ts';
import { decodeWriteRequestV1 } from '../../../../receiver/decode/remote-write-v1.ts';
import { pb } from './helpers.ts';

type Raw = string | number[];

/** A DecodedWrite of the given series (labels in the given order, raw bytes allowed). */
function write(...series: Array<Array<[Raw, Raw]>>): DecodedWrite {
  return decodeWriteRequestV1(
    pb.msg(...series.map((labels) => pb.len(1, ...labels.map(([n, v]) => pb.len(1, pb.len(1, n), pb.len(2, v))), pb.len(2, pb.f64(1, 1))))),
  );
}

const LIMITS: LabelLimits = { maxLabelsPerSeries: 30, maxLabelNameBytes: 1024, maxLabelValueBytes: 2048 };

function reasonOf(labels: Array<[Raw, Raw]>, limits: LabelLimits = LIMITS): string | null {
  return validateSeries(write(labels), 0, limits)?.reason ?? null;
}

describe('label accessors', () => {
  it('reads names and values as strings, including UTF-8', () => {
    const d = write([['__name__', 'up'], ['namespace', 'zürich-ünïcödé-🙂']]);
    expect(labelName(d, 0)).toBe('__name__');
    expect(labelValue(d, 0)).toBe('up');
    expect(labelValue(d, 1)).toBe('zürich-ünïcödé-🙂');
    const long = 'x'.repeat(100) + 'é';
    expect(labelValue(write([['a', long]]), 0)).toBe(long);
  });

  it('findLabel compares bytes and returns the entry index or -1', () => {
    const d = write([['__name__', 'a'], ['pod', 'p1']], [['__name__', 'b'], ['namespace', 'kube-system'], ['pod', 'p2']]);
    expect(findLabel(d, 0, utf8Bytes('pod'))).toBe(1);
    expect(findLabel(d, 1, utf8Bytes('pod'))).toBe(4);
    expect(labelValue(d, findLabel(d, 1, utf8Bytes('namespace')))).toBe('kube-system');
    expect(findLabel(d, 0, utf8Bytes('namespace'))).toBe(-1);
    expect(findLabel(d, 0, utf8Bytes('po'))).toBe(-1);
    expect(findLabel(d, 0, utf8Bytes('pods'))).toBe(-1);
    expect(labelValue(d, 4)).toBe('p2');
  });

  it('finds labels in a realistic request', () => {
    const d = decodeWriteRequestV1(kubecostRequest(200, 3).raw);
    const cluster = utf8Bytes('cluster_id');
    for (let s = 0; s < d.seriesCount; s++) {
      const j = findLabel(d, s, cluster);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(labelValue(d, j)).toMatch(/^[a-z]+-[a-z]+-[a-z]+-\d-[a-z0-9]{4}$/);
      expect(validateSeries(d, s, LIMITS)).toBeNull();
    }
  });

  it('bytesEqual and compareBytes compare ranges bytewise', () => {
    const a = utf8Bytes('xxabcxx');
    const b = utf8Bytes('abd');
    expect(bytesEqual(a, 2, 3, utf8Bytes('abc'), 0, 3)).toBe(true);
    expect(bytesEqual(a, 2, 3, b, 0, 3)).toBe(false);
    expect(bytesEqual(a, 2, 2, b, 0, 3)).toBe(false);
    expect(compareBytes(a, 2, 3, b, 0, 3)).toBeLessThan(0);
    expect(compareBytes(b, 0, 3, a, 2, 3)).toBeGreaterThan(0);
    expect(compareBytes(b, 0, 2, b, 0, 3)).toBeLessThan(0);
    expect(compareBytes(utf8Bytes('Z'), 0, 1, utf8Bytes('_'), 0, 1)).toBeLessThan(0); // like Go, not locale order
    expect(compareBytes(utf8Bytes('é'), 0, 2, utf8Bytes('z'), 0, 1)).toBeGreaterThan(0); // unsigned bytes
  });

  it('formats a series for error messages, truncated', () => {
    const d = write([['__name__', 'up'], ['job', 'a"b']]);
    expect(formatSeries(d, 0)).toBe('{__name__="up", job="a\\"b"}');
    const long = write([['__name__', 'x'.repeat(500)]]);
    expect(formatSeries(long, 0).length).toBeLessThan(220);
  });
});

describe('isValidLabelName / isValidUtf8', () => {
  const name = (s: string) => isValidLabelName(utf8Bytes(s), 0, utf8Bytes(s).length);
  const utf8 = (b: number[]) => isValidUtf8(Uint8Array.from(b), 0, b.length);

  it('accepts [a-zA-Z_][a-zA-Z0-9_]*', () => {
    for (const ok of ['__name__', 'a', '_', 'A9', 'label_app', 'x_1_Y']) expect(name(ok)).toBe(true);
    for (const bad of ['', '9a', 'a-b', 'a.b', 'a b', 'é', 'a:b', '-']) expect(name(bad)).toBe(false);
  });

  it('validates UTF-8 like Go (no overlongs, surrogates, or code points above U+10FFFF)', () => {
    expect(utf8([...Buffer.from('plain ascii')])).toBe(true);
    expect(utf8([...Buffer.from('ünïcödé 🙂 中文')])).toBe(true);
    expect(utf8([0xc3])).toBe(false); // truncated
    expect(utf8([0x80])).toBe(false); // lone continuation
    expect(utf8([0xc0, 0xaf])).toBe(false); // overlong '/'
    expect(utf8([0xe0, 0x80, 0xaf])).toBe(false); // overlong
    expect(utf8([0xed, 0xa0, 0x80])).toBe(false); // surrogate U+D800
    expect(utf8([0xef, 0xbf, 0xbf])).toBe(true); // U+FFFF
    expect(utf8([0xf0, 0x8f, 0xbf, 0xbf])).toBe(false); // overlong
    expect(utf8([0xf4, 0x8f, 0xbf, 0xbf])).toBe(true); // U+10FFFF
    expect(utf8([0xf4, 0x90, 0x80, 0x80])).toBe(false); // above U+10FFFF
    expect(utf8([0xf5, 0x80, 0x80, 0x80])).toBe(false);
    expect(utf8([0xe2, 0x82])).toBe(false); // truncated 3-byte
    expect(utf8([0xe2, 0x28, 0xa1])).toBe(false); // bad continuation
    // Agrees with the WHATWG decoder in fatal mode on random bytes.
    const fatal = new TextDecoder('utf-8', { fatal: true });
    let seed = 1;
    for (let i = 0; i < 5000; i++) {
      const b: number[] = [];
      for (let k = 0; k < 6; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        b.push(seed >>> 24 < 160 ? 0x80 + ((seed >>> 8) & 0x7f) : (seed >>> 16) & 0xff);
      }
      let expected = true;
      try {
        fatal.decode(Uint8Array.from(b));
      } catch {
        expected = false;
      }
      expect(utf8(b)).toBe(expected);
    }
  });
});

describe('validateSeries', () => {
  it('accepts a normal series', () => {
    expect(reasonOf([['__name__', 'up'], ['instance', '10.0.0.1:9003'], ['job', 'kubecost']])).toBeNull();
    expect(reasonOf([['__name__', 'up'], ['empty', '']])).toBeNull();
  });

  it('requires a non-empty __name__', () => {
    expect(reasonOf([['job', 'x']])).toBe('missing_metric_name');
    expect(reasonOf([])).toBe('missing_metric_name');
    expect(reasonOf([['__name__', ''], ['job', 'x']])).toBe('missing_metric_name');
  });

  it('rejects empty, invalid and too long names', () => {
    expect(reasonOf([['', 'x'], ['__name__', 'up']])).toBe('empty_label_name');
    expect(reasonOf([['__name__', 'up'], ['bad-name', 'x']])).toBe('invalid_label_name');
    expect(reasonOf([['__name__', 'up'], ['0abc', 'x']])).toBe('invalid_label_name');
    expect(reasonOf([['__name__', 'up'], ['a'.repeat(11), 'x']], { ...LIMITS, maxLabelNameBytes: 10 })).toBe('label_name_too_long');
    expect(reasonOf([['__name__', 'up'], ['a'.repeat(10), 'x']], { ...LIMITS, maxLabelNameBytes: 10 })).toBeNull();
  });

  it('rejects too long values (counted in bytes) and invalid UTF-8', () => {
    expect(reasonOf([['__name__', 'up'], ['v', 'é'.repeat(6)]], { ...LIMITS, maxLabelValueBytes: 11 })).toBe('label_value_too_long');
    expect(reasonOf([['__name__', 'up'], ['v', 'é'.repeat(6)]], { ...LIMITS, maxLabelValueBytes: 12 })).toBeNull();
    expect(reasonOf([['__name__', 'up'], ['v', [0x61, 0xff, 0x62]]])).toBe('invalid_utf8');
    expect(reasonOf([['__name__', [0xed, 0xa0, 0x80]]])).toBe('invalid_utf8');
  });

  it('limits the number of labels', () => {
    const labels: Array<[Raw, Raw]> = [['__name__', 'up'], ...Array.from({ length: 30 }, (_, i) => [`l${String(i).padStart(2, '0')}`, 'v'] as [Raw, Raw])];
    expect(reasonOf(labels)).toBe('too_many_labels');
    expect(reasonOf(labels.slice(0, 30))).toBeNull();
  });

  it('rejects duplicate names, adjacent or not, sorted or not', () => {
    expect(reasonOf([['__name__', 'up'], ['a', '1'], ['a', '2']])).toBe('duplicate_label_name');
    expect(reasonOf([['a', '1'], ['__name__', 'up'], ['a', '2']])).toBe('duplicate_label_name');
    expect(reasonOf([['a', '1'], ['__name__', 'up'], ['a', '2']], { ...LIMITS, allowUnsortedLabels: true })).toBe('duplicate_label_name');
    expect(reasonOf([['__name__', 'up'], ['__name__', 'down']])).toBe('duplicate_label_name');
  });

  it('rejects unsorted labels unless allowed', () => {
    const unsorted: Array<[Raw, Raw]> = [['job', 'x'], ['__name__', 'up']];
    expect(reasonOf(unsorted)).toBe('unsorted_labels');
    expect(reasonOf(unsorted, { ...LIMITS, allowUnsortedLabels: true })).toBeNull();
    // Bytewise order: uppercase sorts before '_' and lowercase.
    expect(reasonOf([['Zone', 'a'], ['__name__', 'up'], ['a', 'b']])).toBeNull();
  });

  it('puts the series in the detail', () => {
    const p = validateSeries(write([['__name__', 'up'], ['bad-name', 'x']]), 0, LIMITS);
    expect(p?.detail).toContain('bad-name');
    expect(p?.detail).toContain('__name__="up"');
  });
});
