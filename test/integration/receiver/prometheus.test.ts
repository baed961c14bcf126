// A REAL Prometheus (the Debian package, 2.42) scrapes the fixture exporter every second and
// remote-writes to the receiver with a bearer token from the tenants file (2.42 does not send
// custom headers, so the credentials decide the tenant). The scraped series arrive in Kafka under
// that tenant, with the external label `cluster_id: test-cluster` as the cluster of the key, and
// with the exporter's values. A second queue with a wrong token is refused (401) without
// disturbing the first.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { KUBECOST_SERIES, startFixtureExporter, type FixtureExporter } from '../../support/fixture-exporter.ts';
import { collectTopic, type CollectedSeries, type TopicCollector } from '../../support/kafka-collector.ts';
import { freePort, metricValue } from '../../support/net.ts';
import { runTenantsCli } from '../../support/service-process.ts';
import { startTestService, uniqueTopic, waitFor, waitReady } from '../../support/service.ts';
import { FORMAT_VERSION } from '../../../ingest/record-format.ts';

const TENANT = 'prom-tenant';

describe('a real Prometheus remote-writing to the receiver', () => {
  let dir: string;
  let exporter: FixtureExporter;
  let service: RunningService;
  let collector: TopicCollector;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let prometheusLog = '';
  const topic = uniqueTopic('prometheus-remote-write');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8s-expenses-prometheus-'));
    const tenantsFile = path.join(dir, 'tenants.json');
    const added = await runTenantsCli(['add', TENANT, '--file', tenantsFile]);
    expect(added.code, added.stderr).toBe(0);
    const token = added.stdout.trim();

    exporter = await startFixtureExporter();
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '2', TENANTS_FILE: tenantsFile });
    await waitReady(service);
    collector = await collectTopic(testBrokers(), topic);

    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const queue = { batch_send_deadline: '1s', min_backoff: '100ms', max_backoff: '1s', capacity: 500, max_samples_per_send: 100 };
    // JSON is YAML: no YAML library needed.
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s', external_labels: { cluster_id: 'test-cluster' } },
      scrape_configs: [{ job_name: 'kubecost', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${exporter.port}`] }] }],
      remote_write: [
        { name: 'receiver', url: `${service.url}/api/v1/write`, authorization: { type: 'Bearer', credentials: token }, queue_config: queue, metadata_config: { send: true, send_interval: '1s' } },
        { name: 'wrong-token', url: `${service.url}/api/v1/write`, authorization: { type: 'Bearer', credentials: 'not-a-token' }, queue_config: queue },
      ],
    };
    const configFile = path.join(dir, 'prometheus.yml');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    prometheus = spawn(
      'prometheus',
      [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=info'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.setEncoding('utf8').on('data', (c: string) => (prometheusLog += c));
    prometheus.stderr!.setEncoding('utf8').on('data', (c: string) => (prometheusLog += c));
    await waitFor(
      async () => {
        if (prometheus!.exitCode !== null) throw new Error(`prometheus exited with ${prometheus!.exitCode}:\n${prometheusLog}`);
        try {
          return (await fetch(`${prometheusUrl}/-/ready`)).status === 200;
        } catch {
          return false;
        }
      },
      30_000,
      'Prometheus to be ready',
    );
  });

  afterAll(async () => {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      process.kill(prometheus.pid, 'SIGTERM');
      const timer = setTimeout(() => prometheus?.exitCode === null && prometheus.pid !== undefined && process.kill(prometheus.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await collector?.stop();
    await service?.stop();
    await exporter?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scraped = (all: CollectedSeries[], name: string, labels: Record<string, string>) =>
    all.filter((s) => s.labels.__name__ === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

  it('the scraped series arrive in Kafka under the tenant of the token, cluster test-cluster, with their values', async () => {
    const all = await collector.waitFor(
      (series) => KUBECOST_SERIES.every((k) => scraped(series, k.name, k.labels).length > 0),
      60_000,
      'every fixture series from Prometheus',
    );
    for (const k of KUBECOST_SERIES) {
      const found = scraped(all, k.name, k.labels);
      for (const s of found) {
        expect(s.tenant).toBe(TENANT);
        expect(s.cluster).toBe('test-cluster');
        expect(s.headers).toEqual({ tenant: TENANT, cluster: 'test-cluster', 'format-version': String(FORMAT_VERSION) });
        // honor_labels keeps the exporter's labels; Prometheus adds job, instance and the external label.
        expect(s.labels).toEqual({ __name__: k.name, ...k.labels, job: 'kubecost', instance: `127.0.0.1:${exporter.port}`, cluster_id: 'test-cluster' });
        for (const sample of s.samples) {
          expect(sample.v).toBe(k.value);
          expect(Math.abs(sample.t - Date.now())).toBeLessThan(120_000);
        }
      }
    }
    // Prometheus' own series about the scrape come along too.
    expect(all.some((s) => s.labels.__name__ === 'up' && s.samples.some((x) => x.v === 1))).toBe(true);
    expect(new Set(all.map((s) => `${s.tenant}/${s.cluster}`))).toEqual(new Set([`${TENANT}/test-cluster`]));
  }, 90_000);

  it('a changed value at the exporter arrives with the next scrapes', async () => {
    exporter.set('node_cpu_hourly_cost', { node: 'n1', instance_type: 'm5.large', region: 'eu-west-1' }, 0.1234);
    await collector.waitFor(
      (series) => scraped(series, 'node_cpu_hourly_cost', { node: 'n1' }).some((s) => s.samples.some((x) => x.v === 0.1234)),
      30_000,
      'the new value',
    );
  }, 60_000);

  it('metadata-only requests (sent on their own by Prometheus) are accepted', async () => {
    const own = async () => (await fetch(`${prometheusUrl}/metrics`)).text();
    await waitFor(async () => metricValue(await own(), 'prometheus_remote_storage_metadata_total', { remote_name: 'receiver' }) > 0, 30_000, 'Prometheus to send metadata');
    expect(metricValue(await own(), 'prometheus_remote_storage_metadata_failed_total', { remote_name: 'receiver' })).toBe(0);
    expect(metricValue(await own(), 'prometheus_remote_storage_metadata_retried_total', { remote_name: 'receiver' })).toBe(0);
  }, 60_000);

  it('the queue with a wrong token is refused with 401 and Prometheus reports no failure on the good one', async () => {
    await waitFor(
      async () => metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_requests_rejected_total', { reason: 'auth-invalid' }) > 0,
      30_000,
      'a refused request from the wrong-token queue',
    );
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metricValue(metrics, 'k8s_expenses_receiver_requests_total', { status: '204', tenant: TENANT })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'k8s_expenses_receiver_requests_rejected_total', { reason: 'tenant-missing' })).toBe(0);
    expect(metricValue(metrics, 'k8s_expenses_receiver_requests_rejected_total', { reason: 'invalid-series' })).toBe(0);

    const own = await (await fetch(`${prometheusUrl}/metrics`)).text();
    const failedTotal = (queue: string) =>
      metricValue(own, 'prometheus_remote_storage_samples_failed_total', { remote_name: queue }) + metricValue(own, 'prometheus_remote_storage_metadata_failed_total', { remote_name: queue });
    expect(failedTotal('receiver')).toBe(0);
    expect(failedTotal('wrong-token')).toBeGreaterThan(0);
    expect(metricValue(own, 'prometheus_remote_storage_samples_total', { remote_name: 'receiver' })).toBeGreaterThan(0);
    expect(metricValue(own, 'prometheus_remote_storage_samples_retried_total', { remote_name: 'receiver' })).toBe(0);
    // 2.42 logs a 4xx as a non-recoverable error and drops the batch; the receiver's reason is in it.
    expect(prometheusLog).toMatch(/remote_name=wrong-token.*non-recoverable error.*401.*\(auth-invalid\)/);
  }, 60_000);
});
