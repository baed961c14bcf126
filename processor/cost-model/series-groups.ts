// A cluster's series in a canonical order (kind, then their label strings, then key hash), grouped
// by meaning: series that say the same thing (one container's allocation from two exporter
// replicas, a node's capacity under both kube-state-metrics names, a price sent twice) are merged
// into one timeline before the interval rule, so they never count twice, and every float sum is
// made in the same order whatever order the samples arrived in.
import { Kind } from './metrics.ts';
import { SampleBuffer } from './sample-streams.ts';
import type { SeriesTable } from './series-table.ts';

const merged = new SampleBuffer();
const mergeBuf = new SampleBuffer();

/** Live rows in canonical order. */
export function canonicalOrder(table: SeriesTable): number[] {
  const rows: number[] = [];
  for (let r = 0; r < table.rowCount; r++) if (table.kind[r] !== 0) rows.push(r);
  const s = table.strings;
  const { kind, e, a, b, hashHi, hashLo } = table;
  rows.sort((x, y) => {
    if (kind[x] !== kind[y]) return kind[x] - kind[y];
    if (e[x] !== e[y]) return s[e[x]] < s[e[y]] ? -1 : 1;
    if (a[x] !== a[y]) return s[a[x]] < s[a[y]] ? -1 : 1;
    if (b[x] !== b[y]) return s[b[x]] < s[b[y]] ? -1 : 1;
    if (hashHi[x] !== hashHi[y]) return hashHi[x] - hashHi[y];
    return hashLo[x] - hashLo[y];
  });
  return rows;
}

/** A node price's `a` only describes the node (instance type, region): its prices merge whatever it says. */
function describesOnly(kind: number): boolean {
  return kind === Kind.NodeCpuPrice || kind === Kind.NodeRamPrice || kind === Kind.NodeGpuPrice;
}

/** The end of the group that starts at `from` in `order`: the rows with the same meaning. */
export function groupEnd(table: SeriesTable, order: readonly number[], from: number): number {
  const { kind, e, a, b } = table;
  const x = order[from];
  const loose = describesOnly(kind[x]);
  let to = from + 1;
  for (; to < order.length; to++) {
    const y = order[to];
    if (kind[x] !== kind[y] || e[x] !== e[y]) break;
    if (!loose && (a[x] !== a[y] || b[x] !== b[y])) break;
  }
  return to;
}

/**
 * Decodes the rows [from, to) of `order` as one timeline: where two have a sample at the same
 * instant, one is kept (a value beats a stale marker, the larger value wins). The buffer returned
 * is reused by the next call.
 */
export function decodeGroup(table: SeriesTable, order: readonly number[], from: number, to: number): SampleBuffer {
  if (to - from === 1) {
    table.streams.decode(order[from], merged);
    return merged;
  }
  mergeBuf.n = 0;
  for (let k = from; k < to; k++) table.streams.decodeAppend(order[k], mergeBuf);
  const idx = Array.from({ length: mergeBuf.n }, (_, i) => i).sort((x, y) => mergeBuf.ts[x] - mergeBuf.ts[y]);
  const buf = merged;
  buf.n = 0;
  buf.first = 0;
  for (const i of idx) {
    const t = mergeBuf.ts[i];
    const v = mergeBuf.val[i];
    const stale = mergeBuf.stale[i];
    const last = buf.n - 1;
    if (last >= 0 && buf.ts[last] === t) {
      if (buf.stale[last] === 1 ? stale === 0 : stale === 0 && v > buf.val[last]) {
        buf.val[last] = v;
        buf.stale[last] = stale;
      }
    } else buf.push(t, v, stale);
  }
  return buf;
}
