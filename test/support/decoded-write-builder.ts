// Builds a DecodedWrite from plain series, so tests of the layers above decoding need no protobuf.
import type { DecodedWrite } from '../../receiver/decode/decoded-write.ts';

export interface PlainSample {
  t: number;
  v: number;
  stale?: boolean;
}

export interface PlainSeries {
  labels: Record<string, string>;
  samples: PlainSample[];
}

export function buildDecodedWrite(series: PlainSeries[]): DecodedWrite {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const refs: number[] = [];
  const labelStart = [0];
  const sampleStart = [0];
  const timestamps: number[] = [];
  const values = new Float64Array(series.reduce((n, s) => n + s.samples.length, 0));
  const stale: number[] = [];
  const view = new DataView(values.buffer);
  const put = (text: string): [number, number] => {
    const bytes = enc.encode(text);
    chunks.push(bytes);
    offset += bytes.length;
    return [offset - bytes.length, bytes.length];
  };
  for (const s of series) {
    for (const [name, value] of Object.entries(s.labels)) refs.push(...put(name), ...put(value));
    labelStart.push(refs.length / 4);
    for (const sample of s.samples) {
      const i = timestamps.length;
      timestamps.push(sample.t);
      stale.push(sample.stale ? 1 : 0);
      if (sample.stale) {
        view.setUint32(8 * i, 0x00000002, true);
        view.setUint32(8 * i + 4, 0x7ff00000, true);
      } else {
        values[i] = sample.v;
      }
    }
    sampleStart.push(timestamps.length);
  }
  const bytes = new Uint8Array(offset);
  let pos = 0;
  for (const c of chunks) {
    bytes.set(c, pos);
    pos += c.length;
  }
  return {
    bytes,
    seriesCount: series.length,
    labelStart: Uint32Array.from(labelStart),
    labelRefs: Uint32Array.from(refs),
    sampleStart: Uint32Array.from(sampleStart),
    timestamps: Float64Array.from(timestamps),
    values,
    stale: Uint8Array.from(stale),
    histogramCount: 0,
    exemplarCount: 0,
    metadataCount: 0,
  };
}
