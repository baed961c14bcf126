// A tiny exporter serving kubecost-shaped series in the Prometheus text exposition format, for a
// real Prometheus to scrape in tests (`npm run demo` simulates a whole cluster: demo/exporter.ts).
// Values can be changed while it runs.
//
//   const exporter = await startFixtureExporter();   // http://127.0.0.1:<port>/metrics
//   exporter.set('node_cpu_hourly_cost', { node: 'n1', instance_type: 'm5.large' }, 0.1);
//   await exporter.close();
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXPOSITION_CONTENT_TYPE, renderExposition as render, type ExporterSeries, type Family } from '../../demo/exposition.ts';

export type { ExporterSeries };

/** What Kubecost's cost-model exports, trimmed to a two-node, two-pod cluster. */
export const KUBECOST_FAMILIES: Record<string, Family> = {
  node_cpu_hourly_cost: { help: 'Hourly cost per vCPU on this node', type: 'gauge' },
  node_ram_hourly_cost: { help: 'Hourly cost per GiB of memory on this node', type: 'gauge' },
  node_total_hourly_cost: { help: 'Total hourly cost of the node', type: 'gauge' },
  container_cpu_allocation: { help: 'Percent of a single CPU used in a minute', type: 'gauge' },
  container_memory_allocation_bytes: { help: 'Bytes of RAM used', type: 'gauge' },
  kube_pod_labels: { help: 'All labels for each pod prefixed with label_', type: 'gauge' },
  kube_node_labels: { help: 'All labels for each node prefixed with label_', type: 'gauge' },
};

export const KUBECOST_SERIES: readonly ExporterSeries[] = [
  { name: 'node_cpu_hourly_cost', labels: { node: 'n1', instance_type: 'm5.large', region: 'eu-west-1' }, value: 0.096 },
  { name: 'node_cpu_hourly_cost', labels: { node: 'n2', instance_type: 'c5.xlarge', region: 'eu-west-1' }, value: 0.0425 },
  { name: 'node_ram_hourly_cost', labels: { node: 'n1', instance_type: 'm5.large', region: 'eu-west-1' }, value: 0.0125 },
  { name: 'node_total_hourly_cost', labels: { node: 'n1', instance_type: 'm5.large', region: 'eu-west-1' }, value: 0.192 },
  { name: 'container_cpu_allocation', labels: { namespace: 'shop', pod: 'web-1', container: 'app', node: 'n1' }, value: 0.25 },
  { name: 'container_cpu_allocation', labels: { namespace: 'db', pod: 'pg-0', container: 'postgres', node: 'n2' }, value: 1.5 },
  { name: 'container_memory_allocation_bytes', labels: { namespace: 'shop', pod: 'web-1', container: 'app', node: 'n1' }, value: 536870912 },
  { name: 'kube_pod_labels', labels: { namespace: 'shop', pod: 'web-1', label_app: 'web', label_team: 'checkout' }, value: 1 },
  { name: 'kube_node_labels', labels: { node: 'n1', label_node_kubernetes_io_instance_type: 'm5.large' }, value: 1 },
];

export interface FixtureExporter {
  readonly port: number;
  /** Base URL; the series are at `${url}/metrics`. */
  readonly url: string;
  /** Scrapes served so far. */
  readonly scrapes: number;
  set(name: string, labels: Record<string, string>, value: number): void;
  close(): Promise<void>;
}

/** The text exposition of `series` (the demo exporter's renderer, demo/exposition.ts). */
export function renderExposition(series: readonly ExporterSeries[], families: Record<string, Family> = KUBECOST_FAMILIES): string {
  return render(series, families);
}

export async function startFixtureExporter(options: { port?: number; host?: string; series?: readonly ExporterSeries[] } = {}): Promise<FixtureExporter> {
  const series = (options.series ?? KUBECOST_SERIES).map((s) => ({ ...s, labels: { ...s.labels } }));
  let scrapes = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
      scrapes++;
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE });
      res.end(renderExposition(series));
      return;
    }
    res.writeHead(404).end();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  return {
    port,
    url: `http://${host}:${port}`,
    get scrapes() {
      return scrapes;
    },
    set(name, labels, value) {
      const existing = series.find((s) => s.name === name && same(s.labels, labels));
      if (existing) existing.value = value;
      else series.push({ name, labels: { ...labels }, value });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
