// Records of format version 1, as receivers wrote them before labels were stored once per record
// (ingest/record-format.ts documents both): for tests that the processor still reads them.
import type { PlainSeries } from './decoded-write-builder.ts';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const zigzag = (n: number) => (n >= 0 ? n * 2 : -n * 2 - 1);

export function encodeVersion1(series: PlainSeries[]): Buffer {
  const out: number[] = [1, ...varint(series.length)];
  for (const s of series) {
    const labels: number[] = [];
    for (const [name, value] of Object.entries(s.labels)) {
      for (const text of [name, value]) {
        const bytes = [...Buffer.from(text, 'utf8')];
        labels.push(...varint(bytes.length), ...bytes);
      }
    }
    out.push(...varint(labels.length), ...labels, ...varint(s.samples.length));
    let previous = 0;
    for (const x of s.samples) {
      out.push(...varint(zigzag(x.t - previous) * 2 + (x.stale ? 1 : 0)));
      previous = x.t;
      if (!x.stale) {
        const v = Buffer.alloc(8);
        v.writeDoubleLE(x.v);
        out.push(...v);
      }
    }
  }
  return Buffer.from(out);
}
