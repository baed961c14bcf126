// The whole path with the real broker and the real embedded engine: remote-write requests through
// the receiver become k8s_expenses rows whose numbers are worked out by hand below from the cost
// model's rules; a second delivery of every request changes nothing; an hour's rows turn final
// once it closes. Rows are read through the running service's SQL endpoint (the service owns the
// engine's directory).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { sqlHeaders, testBrokers } from '../../support/env.ts';
import { kafkaAdmin } from '../../support/kafka.ts';
import { podHours, sqlRows, type PodHour } from '../../support/expenses.ts';
import { freePort, metricValue } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1, type FixtureSeries } from '../../support/remote-write-fixtures.ts';
import { startTestService, uniqueTopic, waitFor, waitReady } from '../../support/service.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const GIB = 2 ** 30;
/** A whole past hour; the next hour (also past) carries the samples that close it. */
const H = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const TENANT = 'acme';
const CLUSTER = 'prod-eu';

const POD_A = 'web-5d8f7c9b6-x2x4z';
const POD_B = 'report-7';
const POD_C = 'cache-0';

/** The series scraped at minute `k` after H (one sample each), as a kubecost cluster sends them. */
function scrape(k: number): FixtureSeries[] {
  const t = H + k * MIN;
  const s = (labels: Record<string, string>, v: number): FixtureSeries => ({ labels: { cluster_id: CLUSTER, ...labels }, samples: [{ t, v }] });
  const out: FixtureSeries[] = [
    // Node n1 has prices; node n2 has none, so its pods are priced at the configured defaults.
    s({ __name__: 'node_cpu_hourly_cost', node: 'n1', instance_type: 'm5.xlarge', region: 'eu-west-1' }, 0.04),
    s({ __name__: 'node_ram_hourly_cost', node: 'n1', instance_type: 'm5.xlarge', region: 'eu-west-1' }, 0.005),
    // Pod A: a Deployment's pod (pod -> ReplicaSet -> Deployment), the whole hour on n1.
    s({ __name__: 'container_cpu_allocation', namespace: 'shop', pod: POD_A, container: 'web', node: 'n1' }, 0.5),
    s({ __name__: 'container_memory_allocation_bytes', namespace: 'shop', pod: POD_A, container: 'web', node: 'n1' }, 2 * GIB),
    s({ __name__: 'kube_pod_owner', namespace: 'shop', pod: POD_A, owner_kind: 'ReplicaSet', owner_name: 'web-5d8f7c9b6' }, 1),
    s({ __name__: 'kube_replicaset_owner', namespace: 'shop', replicaset: 'web-5d8f7c9b6', owner_kind: 'Deployment', owner_name: 'web' }, 1),
    s({ __name__: 'kube_pod_labels', namespace: 'shop', pod: POD_A, label_app: 'web', label_team: 'storefront' }, 1),
    // Pod C: a StatefulSet's pod on the unpriced node n2, the whole hour.
    s({ __name__: 'container_cpu_allocation', namespace: 'shop', pod: POD_C, container: 'redis', node: 'n2' }, 0.25),
    s({ __name__: 'container_memory_allocation_bytes', namespace: 'shop', pod: POD_C, container: 'redis', node: 'n2' }, 512 * 2 ** 20),
    s({ __name__: 'kube_pod_owner', namespace: 'shop', pod: POD_C, owner_kind: 'StatefulSet', owner_name: 'cache' }, 1),
    // Not a cost series: ignored by the model.
    s({ __name__: 'up', job: 'kubecost' }, 1),
  ];
  // Pod B: a bare pod (no owner) that runs from H+30m to H+59m only.
  if (k >= 30 && k <= 59) {
    out.push(s({ __name__: 'container_cpu_allocation', namespace: 'batch', pod: POD_B, container: 'report', node: 'n1' }, 1));
    out.push(s({ __name__: 'container_memory_allocation_bytes', namespace: 'batch', pod: POD_B, container: 'report', node: 'n1' }, GIB));
  }
  return out;
}

/** Several scrapes in one request, one series entry per label set (as Prometheus batches them). */
function batch(ks: number[]): FixtureSeries[] {
  const byLabels = new Map<string, FixtureSeries>();
  for (const k of ks) {
    for (const series of scrape(k)) {
      const id = JSON.stringify(series.labels);
      const entry = byLabels.get(id);
      if (entry) entry.samples.push(...series.samples);
      else byLabels.set(id, { labels: series.labels, samples: [...series.samples] });
    }
  }
  return [...byLabels.values()];
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

// Hand-computed from the cost model rules (README, "Cost model rules", sections 3 to 5):
// - A sample stands for the time since the series' previous sample (capped at MAX_SAMPLE_GAP, 5 min);
//   the series' first sample stands for the interval to the next one. Scrapes are 60 s apart, so
//   every allocation sample stands for 60 s.
// - quantity-hours = sum(value x interval) / 1 h; cost = quantity-hours x the node's mean price in
//   the hour (RAM per GiB = 2^30 bytes); a node without price uses the defaults 0.031611 $/core-h
//   and 0.004237 $/GiB-h and sets price_defaulted.
// - minutes = length of the union of the samples' [t - interval, t] spans.
const EXPECTED_HOUR_H = {
  // Pod A: 60 samples (H+0 .. H+59m) x 60 s = 1 h.
  //   cpu 0.5 cores x 1 h = 0.5 core-h; x 0.04 $ = 0.02 $
  //   ram 2 GiB x 1 h = 2^31 byte-h = 2 GiB-h; x 0.005 $ = 0.01 $
  //   total 0.03 $
  [POD_A]: { namespace: 'shop', minutes: 60, cpu_core_hours: 0.5, cpu_cost: 0.02, ram_byte_hours: 2 * GIB, ram_cost: 0.01, total_cost: 0.03, workload_kind: 'deployment', workload: 'web', node: 'n1', price_defaulted: 0 },
  // Pod B: 30 samples (H+30m .. H+59m) x 60 s = 0.5 h.
  //   cpu 1 core x 0.5 h = 0.5 core-h; x 0.04 $ = 0.02 $
  //   ram 1 GiB x 0.5 h = 2^29 byte-h = 0.5 GiB-h; x 0.005 $ = 0.0025 $
  //   total 0.0225 $; a bare pod has no workload
  [POD_B]: { namespace: 'batch', minutes: 30, cpu_core_hours: 0.5, cpu_cost: 0.02, ram_byte_hours: GIB / 2, ram_cost: 0.0025, total_cost: 0.0225, workload_kind: '', workload: '', node: 'n1', price_defaulted: 0 },
  // Pod C: 60 samples x 60 s = 1 h on n2, which has no price: defaults.
  //   cpu 0.25 core-h x 0.031611 $ = 0.00790275 $
  //   ram 512 MiB x 1 h = 2^29 byte-h = 0.5 GiB-h; x 0.004237 $ = 0.0021185 $
  //   total 0.01002125 $
  [POD_C]: { namespace: 'shop', minutes: 60, cpu_core_hours: 0.25, cpu_cost: 0.00790275, ram_byte_hours: GIB / 2, ram_cost: 0.0021185, total_cost: 0.01002125, workload_kind: 'statefulset', workload: 'cache', node: 'n2', price_defaulted: 1 },
} as const;

// Hour H+1 holds the 6 scrapes H+60m .. H+65m that close hour H (they pass its end plus HOUR_GRACE).
// Each sample's predecessor is 60 s earlier, so each stands for 60 s: 6 x 60 s = 0.1 h.
//   Pod A: cpu 0.5 x 0.1 = 0.05 core-h -> 0.002 $; ram 2 GiB x 0.1 h = 0.2 GiB-h -> 0.001 $; total 0.003 $
//   Pod C: cpu 0.25 x 0.1 = 0.025 core-h -> 0.000790275 $; ram 0.5 GiB x 0.1 h = 0.05 GiB-h -> 0.00021185 $;
//          total 0.001002125 $
//   Pod B has no sample in H+1: no row.
const EXPECTED_HOUR_H1 = {
  [POD_A]: { minutes: 6, cpu_core_hours: 0.05, cpu_cost: 0.002, ram_cost: 0.001, total_cost: 0.003 },
  [POD_C]: { minutes: 6, cpu_core_hours: 0.025, cpu_cost: 0.000790275, ram_cost: 0.00021185, total_cost: 0.001002125 },
} as const;

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected));
}

interface Row extends PodHour {
  price_defaulted: number;
  labels: Record<string, string>;
  version: string;
}

describe('processor with Kafka and the embedded engine', () => {
  let service: RunningService;
  let dataDir: string;
  let sqlUrl: string;
  const topic = uniqueTopic('processor-kafka');

  const send = async (series: FixtureSeries[]) => {
    const res = await fetch(`${service.url}/api/v1/write`, {
      method: 'POST',
      headers: { ...RW1_HEADERS, 'cloud-account-id': TENANT },
      body: snappyCompress(writeRequestV1(series)),
    });
    expect(res.status).toBe(204);
  };

  const rowsOf = async (hour: number): Promise<Map<string, Row>> => {
    const rows = await sqlRows<Row>(
      sqlUrl,
      `SELECT tenant_id, cluster, namespace, pod, workload_kind, workload, node, minutes, cpu_core_hours, cpu_cost, ram_byte_hours, ram_cost,
              total_cost, price_defaulted, is_final, labels, version
       FROM k8s_expenses FINAL WHERE hour = toDateTime(${hour / 1000}, 'UTC') ORDER BY namespace, pod`,
    );
    return new Map(rows.map((r) => [r.pod, r]));
  };

  const matchesHourH = (rows: Map<string, Row>): boolean =>
    rows.size === 3 &&
    Object.entries(EXPECTED_HOUR_H).every(([pod, e]) => {
      const r = rows.get(pod);
      return r !== undefined && close(r.total_cost, e.total_cost) && close(r.minutes, e.minutes);
    });

  const metrics = async () => (await fetch(`${service.url}/metrics`)).text();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'k8s-expenses-processor-kafka-'));
    // Created up front so the partition count is ours, whichever of receiver and consumer comes first.
    const admin = kafkaAdmin(testBrokers(), 'processor-kafka-test');
    await admin.createTopic(topic, 2);
    await admin.close();
    const sqlPort = await freePort();
    service = await startTestService({
      ROLE: 'all',
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${topic}-group`,
      DATA_DIR: dataDir,
      SQL_PORT: String(sqlPort),
      FLUSH_INTERVAL: '500ms',
      HOUR_GRACE: '1m',
    });
    sqlUrl = `http://127.0.0.1:${sqlPort}`;
    await waitReady(service);
  });

  afterAll(async () => {
    await service?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('turns remote-write requests into the hand-computed rows, provisional while the hour is open', async () => {
    // Hour H in 12 requests of 5 scrapes each (several samples per series, as a catching-up Prometheus sends).
    for (let k = 0; k < 60; k += 5) await send(batch(range(k, k + 5)));
    let rows = new Map<string, Row>();
    await waitFor(async () => matchesHourH((rows = await rowsOf(H))), 30_000, 'the rows of hour H');

    for (const [pod, e] of Object.entries(EXPECTED_HOUR_H)) {
      const r = rows.get(pod)!;
      expect(r, pod).toMatchObject({ tenant_id: TENANT, cluster: CLUSTER, namespace: e.namespace, workload_kind: e.workload_kind, workload: e.workload, node: e.node });
      expect(r.price_defaulted, pod).toBe(e.price_defaulted);
      for (const column of ['minutes', 'cpu_core_hours', 'cpu_cost', 'ram_byte_hours', 'ram_cost', 'total_cost'] as const) {
        expect(close(r[column], e[column]), `${pod} ${column}: ${r[column]} vs ${e[column]}`).toBe(true);
      }
      // The newest sample is H+59m: the hour has not closed (its end plus HOUR_GRACE is H+61m).
      expect(r.is_final, pod).toBe(0);
    }
    expect(rows.get(POD_A)!.labels).toEqual({ app: 'web', team: 'storefront' });
    // Nothing for the ignored `up` series, and nothing in other hours yet.
    const all = await sqlRows<{ n: string }>(sqlUrl, 'SELECT count() AS n FROM k8s_expenses FINAL');
    expect(all).toEqual([{ n: '3' }]);
  });

  it('marks the hour final once samples pass its end plus HOUR_GRACE, with the same numbers', async () => {
    for (const k of range(60, 66)) await send(scrape(k));
    let rows = new Map<string, Row>();
    await waitFor(async () => {
      rows = await rowsOf(H);
      return matchesHourH(rows) && [...rows.values()].every((r) => r.is_final === 1);
    }, 30_000, 'hour H to become final');

    let next = new Map<string, Row>();
    await waitFor(async () => {
      next = await rowsOf(H + HOUR);
      return next.size === 2 && close(next.get(POD_A)?.total_cost ?? NaN, EXPECTED_HOUR_H1[POD_A].total_cost);
    }, 30_000, 'the rows of hour H+1');
    for (const [pod, e] of Object.entries(EXPECTED_HOUR_H1)) {
      const r = next.get(pod)!;
      for (const column of ['minutes', 'cpu_core_hours', 'cpu_cost', 'ram_cost', 'total_cost'] as const) {
        expect(close(r[column], e[column]), `${pod} ${column}: ${r[column]} vs ${e[column]}`).toBe(true);
      }
      // H+1 ends at H+2h: still open.
      expect(r.is_final, pod).toBe(0);
    }
  });

  it('changes nothing when every request is delivered a second time', async () => {
    const before = await podHours(sqlUrl);
    const duplicatesBefore = metricValue(await metrics(), 'k8s_expenses_processor_samples_total', { result: 'duplicate' });
    // Every scrape again, batched differently than the first time (records do not line up with the originals).
    let samples = 0;
    for (const k of range(0, 66)) {
      const series = scrape(k);
      samples += series.filter((s) => s.labels.__name__ !== 'up').length;
      await send(series);
    }
    // The gauge and counter series come back as duplicates; presence series (owner, labels) are
    // kept as one mark per hour, so a repeated mark is not necessarily counted as a duplicate.
    const presence = range(0, 66).length * 4;
    await waitFor(
      async () => metricValue(await metrics(), 'k8s_expenses_processor_samples_total', { result: 'duplicate' }) - duplicatesBefore >= samples - presence,
      30_000,
      'the second delivery to be consumed',
    );
    // Two more flushes, so anything the duplicates changed would be stored.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await podHours(sqlUrl);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [key, row] of before) expect(after.get(key), key).toEqual(row);
  });

  it('refuses writes, SETTINGS and table functions on the running service SQL endpoint', async () => {
    const refused = async (sql: string) => {
      const res = await fetch(`${sqlUrl}/query`, { method: 'POST', body: sql, headers: sqlHeaders() });
      return { status: res.status, body: (await res.json()) as { error: string; message: string } };
    };
    for (const [sql, message] of [
      ["INSERT INTO k8s_expenses (tenant_id, pod) VALUES ('x', 'y')", /INSERT is not allowed/],
      ['ALTER TABLE k8s_expenses DELETE WHERE 1', /ALTER is not allowed/],
      ['SELECT count() FROM k8s_expenses SETTINGS readonly = 0', /SETTINGS is not allowed/],
      ["SELECT * FROM file('/etc/hostname', 'LineAsString')", /table function file\(\) is not allowed/],
      ["SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')", /table function url\(\) is not allowed/],
    ] as const) {
      const { status, body } = await refused(sql);
      expect(status, sql).toBe(400);
      expect(body.error, sql).toBe('query-refused');
      expect(body.message, sql).toMatch(message);
    }
    // Nothing was written or deleted, and the processor still writes (the session was not made read-only).
    const total = await sqlRows<{ n: string }>(sqlUrl, "SELECT count() AS n FROM k8s_expenses FINAL WHERE tenant_id = 'x'");
    expect(total).toEqual([{ n: '0' }]);
    await send(scrape(66));
    await waitFor(async () => (await rowsOf(H + HOUR)).get(POD_A)?.minutes === 7, 30_000, 'a later write to land');
  });
});
