// `npm run demo` end to end, in process: the demo exporter and sender (scraping every 500 ms)
// against the real service in its default mode (embedded log, embedded ClickHouse). Within seconds
// the demo tenant has cost rows for every workload kind the simulated cluster runs, priced with the
// nodes' prices, and with OpenCost's default prices (price_defaulted) on the node that has none,
// and an `__idle__` row per node for what its pods leave unused.
// The exporter's output also passes `promtool check metrics`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NODES } from '../../../demo/inventory.ts';
import { demoExposition, startDemoExporter, type DemoExporter } from '../../../demo/exporter.ts';
import { startSender, type Sender } from '../../../demo/sender.ts';
import type { RunningService } from '../../../service/service.ts';
import { freePort } from '../../support/net.ts';
import { startTestService, waitFor, waitReady } from '../../support/service.ts';

const GIB = 1024 ** 3;
const [PRICED, GPU_NODE, UNPRICED] = DEMO_NODES;
/** Lint findings on names the real exporters use, which the cost model reads as they are. */
const UPSTREAM_NAME_LINTS = ['node_gpu_count non-histogram and non-summary metrics should not have "_count" suffix'];

interface Row {
  tenant_id: string;
  cluster: string;
  namespace: string;
  pod: string;
  workload_kind: string;
  workload: string;
  node: string;
  cpu_core_hours: number;
  cpu_cost: number;
  ram_byte_hours: number;
  ram_cost: number;
  gpu_hours: number;
  gpu_cost: number;
  pv_byte_hours: number;
  pv_cost: number;
  network_cost: number;
  load_balancer_cost: number;
  total_cost: number;
  labels: Record<string, string>;
  price_defaulted: number;
  workload_inferred: number;
}

/** Runs `promtool` with `input` on stdin; a missing promtool is a failure that says how to install it. */
function promtool(args: string[], input: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error("promtool not found: install Debian's prometheus package (scripts/test-prerequisites.sh does it)") : err),
    );
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.end(input);
  });
}

describe('the demo: simulated cluster → sender → service → cost rows', () => {
  let dir: string;
  let service: RunningService;
  let exporter: DemoExporter;
  let sender: Sender;
  let sqlUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8s-expenses-demo-'));
    const sqlPort = await freePort();
    sqlUrl = `http://127.0.0.1:${sqlPort}`;
    // No KAFKA_BROKERS: the embedded log, as `npm start` runs by default.
    service = await startTestService({ DATA_DIR: dir, FLUSH_INTERVAL: '1s', SQL_PORT: String(sqlPort) });
    await waitReady(service);
    exporter = await startDemoExporter({ port: 0 });
    sender = startSender({ scrapeUrl: `${exporter.url}/metrics`, writeUrl: `${service.url}/api/v1/write`, intervalMs: 500, scrapeTimeoutMs: 10_000, log: () => undefined });
  });

  afterAll(async () => {
    await sender?.stop();
    await exporter?.close();
    await service?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function rows(): Promise<Row[]> {
    const res = await fetch(`${sqlUrl}/query?format=JSONEachRow`, {
      method: 'POST',
      body: `SELECT tenant_id, cluster, namespace, pod, workload_kind, workload, node, cpu_core_hours, cpu_cost, ram_byte_hours, ram_cost,
                    gpu_hours, gpu_cost, pv_byte_hours, pv_cost, network_cost, load_balancer_cost, total_cost, labels, price_defaulted, workload_inferred
             FROM k8s_expenses FINAL ORDER BY namespace, pod, hour`,
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`SQL endpoint answered ${res.status}: ${text}`);
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Row);
  }

  const has = (all: Row[], f: (r: Row) => boolean) => all.some(f);

  it('the exporter output passes promtool check metrics (format and lint)', async () => {
    const { code, output } = await promtool(['check', 'metrics'], demoExposition(42, Date.now()));
    const findings = output.trim() === '' ? [] : output.trim().split('\n');
    expect(findings.filter((f) => !UPSTREAM_NAME_LINTS.includes(f))).toEqual([]);
    // promtool exits 3 for lint findings only, 1 when the text does not parse.
    expect(code).toBe(findings.length === 0 ? 0 : 3);
  });

  it('cost rows of the demo tenant appear for every workload kind within seconds', async () => {
    let all: Row[] = [];
    await waitFor(
      async () => {
        all = await rows();
        return (
          ['deployment', 'rollout', 'statefulset', 'daemonset', 'job', '', 'cluster', 'idle'].every((k) => has(all, (r) => r.workload_kind === k)) &&
          has(all, (r) => r.network_cost > 0) &&
          has(all, (r) => r.load_balancer_cost > 0) &&
          has(all, (r) => r.pv_cost > 0) &&
          has(all, (r) => r.gpu_cost > 0) &&
          has(all, (r) => r.price_defaulted === 1)
        );
      },
      45_000,
      'rows of every workload kind with network, load balancer, PV and GPU costs',
    );
    expect(sender.totals.sent).toBeGreaterThan(0);
    expect(sender.totals.dropped).toBe(0);
    expect(new Set(all.map((r) => `${r.tenant_id}/${r.cluster}`))).toEqual(new Set(['demo/demo-cluster']));

    const pod = (name: string) => all.filter((r) => r.pod === name);
    // StatefulSet with its PVC, priced per GiB-hour.
    const postgres = pod('postgres-0');
    expect(postgres.length).toBeGreaterThan(0);
    for (const r of postgres) {
      expect([r.workload_kind, r.workload, r.namespace]).toEqual(['statefulset', 'postgres', 'data']);
      if (r.pv_byte_hours > 0) expect(r.pv_cost / (r.pv_byte_hours / GIB)).toBeCloseTo(0.08 / 730, 9);
    }
    // The bare pod has no workload.
    for (const r of pod('debug-shell')) expect([r.workload_kind, r.workload]).toEqual(['', '']);
    // CronJob Jobs are named after the CronJob (the schedule suffix stripped).
    const jobs = all.filter((r) => r.workload_kind === 'job');
    for (const r of jobs) {
      expect(r.pod).toMatch(new RegExp(`^${r.workload}-\\d{8}-[a-z0-9]{5}$`));
      expect(['report', 'cleanup']).toContain(r.workload);
    }
    // A DaemonSet pod on every node.
    expect(new Set(all.filter((r) => r.workload === 'fluent-bit').map((r) => r.node))).toEqual(new Set(DEMO_NODES.map((n) => n.name)));
    // ReplicaSets owned by a Deployment or an Argo Rollout; the namespace kube-state-metrics does not watch is inferred.
    expect(has(all, (r) => r.workload_kind === 'deployment' && r.workload === 'web' && r.workload_inferred === 0)).toBe(true);
    expect(has(all, (r) => r.workload_kind === 'rollout' && r.workload === 'payments')).toBe(true);
    expect(has(all, (r) => r.namespace === 'legacy' && r.workload_kind === 'deployment' && r.workload === 'billing-v1' && r.workload_inferred === 1)).toBe(true);
    // Every node sends its capacity: each has an __idle__ row named after it.
    const idle = all.filter((r) => r.namespace === '__idle__');
    expect(new Set(idle.map((r) => r.pod))).toEqual(new Set(DEMO_NODES.map((n) => n.name)));
    for (const r of idle) expect([r.workload_kind, r.workload, r.node]).toEqual(['idle', r.pod, r.pod]);
    // The load balancer is shared by the pods its service selects, and only by them.
    for (const r of all) if (r.load_balancer_cost > 0) expect(r.labels.app).toBe('web');
    // Labels from kube-state-metrics and the cost exporter are united.
    expect(pod('postgres-0')[0].labels).toMatchObject({ app: 'postgres', team: 'platform', statefulset_kubernetes_io_pod_name: 'postgres-0' });
  }, 60_000);

  it('prices come from the node, or from the defaults (flagged) on the node without prices', async () => {
    const all = await rows();
    const priced = all.filter((r) => r.node === PRICED.name && r.cpu_core_hours > 0);
    const unpriced = all.filter((r) => r.node === UNPRICED.name && r.cpu_core_hours > 0);
    expect(priced.length).toBeGreaterThan(0);
    expect(unpriced.length).toBeGreaterThan(0);
    for (const r of priced) {
      expect(r.price_defaulted).toBe(0);
      expect(r.cpu_cost / r.cpu_core_hours).toBeCloseTo(PRICED.prices!.cpu, 9);
      if (r.ram_byte_hours > 0) expect(r.ram_cost / (r.ram_byte_hours / GIB)).toBeCloseTo(PRICED.prices!.ram, 9);
    }
    for (const r of unpriced) {
      expect(r.price_defaulted).toBe(1);
      // OpenCost's defaults (DEFAULT_CPU_PRICE, DEFAULT_RAM_PRICE), never zero.
      expect(r.cpu_cost / r.cpu_core_hours).toBeCloseTo(0.031611, 9);
      if (r.ram_byte_hours > 0) expect(r.ram_cost / (r.ram_byte_hours / GIB)).toBeCloseTo(0.004237, 9);
    }
    const trainer = all.filter((r) => r.workload === 'trainer' && r.gpu_hours > 0);
    expect(trainer.length).toBeGreaterThan(0);
    for (const r of trainer) {
      expect(r.node).toBe(GPU_NODE.name);
      expect(r.gpu_cost / r.gpu_hours).toBeCloseTo(GPU_NODE.prices!.gpu, 9);
    }
  });
});
