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

const MIN = 60_000;

/**
 * Two hours of a small kubecost cluster (node prices, container allocations, pod labels) scraped
 * every five minutes, with the awkward samples a record must carry bit for bit: a stale marker
 * ending a pod, a NaN, a sample out of order and non-ASCII label values. The records in
 * ./record-format-1-fixture.ts were written from these by the version 1 encoder of earlier releases.
 */
export function formatOneSeries(startMs: number): PlainSeries[] {
  const job = { job: 'kubecost', instance: '10.0.0.9:9003', cluster_id: 'prod' };
  const node = (name: string, type: string) => ({ ...job, node: name, instance_type: type, region: 'eu-west-1' });
  const pod = (ns: string, name: string, container: string, on: string) => ({ ...job, namespace: ns, pod: name, container, node: on });
  const defs: [Record<string, string>, number][] = [
    [{ __name__: 'node_cpu_hourly_cost', ...node('n1', 'm5.large') }, 0.096],
    [{ __name__: 'node_ram_hourly_cost', ...node('n1', 'm5.large') }, 0.0125],
    [{ __name__: 'node_total_hourly_cost', ...node('n1', 'm5.large') }, 0.192],
    [{ __name__: 'kube_node_status_capacity_cpu_cores', ...node('n1', 'm5.large') }, 2],
    [{ __name__: 'kube_node_status_capacity_memory_bytes', ...node('n1', 'm5.large') }, 8 * 2 ** 30],
    [{ __name__: 'container_cpu_allocation', ...pod('shop', 'web-1', 'app', 'n1') }, 0.25],
    [{ __name__: 'container_memory_allocation_bytes', ...pod('shop', 'web-1', 'app', 'n1') }, 512 * 2 ** 20],
    [{ __name__: 'container_cpu_allocation', ...pod('bücher', 'pg-0', 'postgres', 'n1') }, 1.5],
    [{ __name__: 'container_memory_allocation_bytes', ...pod('bücher', 'pg-0', 'postgres', 'n1') }, 2 * 2 ** 30],
    [{ __name__: 'kube_pod_labels', ...job, namespace: 'shop', pod: 'web-1', label_app: 'web', label_team: 'kassé ✓' }, 1],
  ];
  return defs.map(([labels, value], i) => {
    const samples = Array.from({ length: 24 }, (_, k) => ({ t: startMs + k * 5 * MIN + i * 1000, v: value }));
    if (labels.pod === 'pg-0') {
      // The pod ends after 90 minutes: a stale marker, then nothing.
      samples.length = 18;
      samples.push({ t: startMs + 90 * MIN + i * 1000, v: 0, stale: true } as (typeof samples)[number]);
    }
    if (labels.__name__ === 'container_cpu_allocation' && labels.pod === 'web-1') {
      samples[7] = { t: samples[7].t, v: NaN };
      [samples[3], samples[4]] = [samples[4], samples[3]];
    }
    return { labels, samples };
  });
}
