// Helpers for the embedded-mode tests (no Kafka, no ClickHouse server): a data directory and the
// service's environment for it, kubecost-shaped traffic for past hours, per-(tenant, cluster, hour)
// totals read through the SQL endpoint, and the embedded log as it lies on disk.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kubecostRequests, type KubecostRequest, type KubecostTrafficOptions } from '../../bench/kubecost-traffic.ts';
import { encodeRecordFrame, parseSegmentName } from '../../ingest/embedded/segment-format.ts';
import { prepareRecords } from '../../receiver/cluster-records.ts';
import { decodeWriteRequestV1 } from '../../receiver/decode/index.ts';
import { loadConfig } from '../../service/config.ts';
import { diffKeyed, sqlRows } from './expenses.ts';
import { metricValue } from './net.ts';
import { isStartupLine, type ServiceProcess } from './service-process.ts';
import { waitFor } from './service.ts';

import { HOUR_MS } from '../../core/hours.ts';
export { HOUR_MS };
/** The tenant header of a service without a tenants file (TENANT_HEADER's default). */
export const TENANT_HEADER = 'cloud-account-id';

export function tempDataDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `k8s-expenses-${prefix}-`));
}

/**
 * The environment of an embedded-mode service: nothing about Kafka or a ClickHouse server. PORT
 * and SQL_PORT 0 let the service pick free ports (no race with other tests); the start-up line
 * says which. Hours close one minute after their end (event time) and rows are flushed twice a second.
 */
export function embeddedEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATA_DIR: dataDir, PORT: '0', SQL_PORT: '0', FLUSH_INTERVAL: '500ms', HOUR_GRACE: '1m', LOG_LEVEL: 'info', ...extra };
}

/** The start-up line of a running service (it has one once startServiceProcess returned). */
export function startupLine(service: ServiceProcess): Record<string, unknown> {
  const line = service.logs.find(isStartupLine);
  if (!line) throw new Error(`no start-up line among ${service.logs.length} log lines`);
  return line;
}

/** The SQL endpoint of a running embedded-mode service, from its start-up line. */
export function sqlUrl(service: ServiceProcess): string {
  const sql = startupLine(service).sql;
  if (typeof sql !== 'string') throw new Error('the start-up line names no SQL endpoint');
  return sql;
}

/**
 * Kubecost-shaped requests for `hours` hours (one scrape a minute, per scrape one request per
 * tenant), starting at a whole hour and ending at least 45 minutes before now, so no sample is in
 * the future. Each request holds one tenant's `series` series, so it becomes one record.
 */
export function pastTraffic(options: { hours: number; tenants?: number; series?: number; seed?: number } & Pick<KubecostTrafficOptions, 'tenantNames'>): KubecostRequest[] {
  const start = (Math.floor(Date.now() / HOUR_MS) - Math.ceil(options.hours + 0.75)) * HOUR_MS;
  const scrapes = Math.round(options.hours * 60);
  const series = options.series ?? 150;
  return [
    ...kubecostRequests({
      seed: options.seed ?? 7,
      tenants: options.tenants ?? 2,
      tenantNames: options.tenantNames,
      seriesPerTenant: series,
      samplesPerRequest: series,
      startMs: start,
      scrapes,
    }),
  ];
}

/** POSTs one remote-write request as Prometheus would; resolves with the status (and body when not 2xx). */
export async function sendRequest(baseUrl: string, request: KubecostRequest, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${baseUrl}/api/v1/write`, {
    method: 'POST',
    headers: {
      'content-type': request.contentType,
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      [TENANT_HEADER]: request.tenant,
      ...headers,
    },
    body: new Uint8Array(request.body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text() };
}

/** Sends requests one after the other; each must be acknowledged (204) before the next goes. */
export async function sendAll(baseUrl: string, requests: readonly KubecostRequest[]): Promise<void> {
  for (const [i, request] of requests.entries()) {
    const { status, text } = await sendRequest(baseUrl, request);
    if (status !== 204) throw new Error(`request ${i} (${request.tenant}, scrape ${request.scrape}) answered ${status}: ${text}`);
  }
}

export async function metricsText(baseUrl: string): Promise<string> {
  return (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
}

/**
 * Waits until the processor has consumed `records` records since the process started and then
 * completed two more flushes: every row those records feed is stored.
 */
export async function waitProcessed(baseUrl: string, records: number, timeoutMs = 60_000): Promise<void> {
  let flushesThen: number | undefined;
  let consumed = 0;
  await waitFor(
    async () => {
      const metrics = await metricsText(baseUrl);
      consumed = metricValue(metrics, 'k8s_expenses_processor_records_total');
      if (consumed < records) return false;
      const flushes = metricValue(metrics, 'k8s_expenses_processor_flush_duration_seconds_count');
      flushesThen ??= flushes;
      return flushes >= flushesThen + 2;
    },
    timeoutMs,
    `the processor to consume ${records} records and flush (consumed ${consumed})`,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (consumed ${consumed})`);
  });
}

/** Sums of one (tenant, cluster, hour) over its pods, as the latest rows (FINAL) say. */
export interface HourTotals {
  tenant_id: string;
  cluster: string;
  /** Epoch seconds of the hour start. */
  hour: number;
  pods: number;
  total_cost: number;
  cpu_core_hours: number;
  ram_byte_hours: number;
  minutes: number;
  /** Usage comes from counters: an hour rebuilt without its predecessor's samples gets it wrong. */
  cpu_usage_avg: number;
  ram_usage_avg: number;
}

const SUMMED = ['total_cost', 'cpu_core_hours', 'ram_byte_hours', 'minutes', 'cpu_usage_avg', 'ram_usage_avg'] as const;

export async function hourTotals(sql: string): Promise<Map<string, HourTotals>> {
  const rows = await sqlRows<Record<string, string | number>>(
    sql,
    `SELECT tenant_id, cluster, toUnixTimestamp(hour) AS hour, count() AS pods, ${SUMMED.map((c) => `sum(${c}) AS ${c}`).join(', ')}
     FROM k8s_expenses FINAL GROUP BY tenant_id, cluster, hour ORDER BY tenant_id, cluster, hour`,
  );
  return new Map(
    rows.map((r) => {
      const t: HourTotals = {
        tenant_id: String(r.tenant_id),
        cluster: String(r.cluster),
        hour: Number(r.hour),
        pods: Number(r.pods),
        total_cost: Number(r.total_cost),
        cpu_core_hours: Number(r.cpu_core_hours),
        ram_byte_hours: Number(r.ram_byte_hours),
        minutes: Number(r.minutes),
        cpu_usage_avg: Number(r.cpu_usage_avg),
        ram_usage_avg: Number(r.ram_usage_avg),
      };
      return [`${t.tenant_id}/${t.cluster}/${new Date(t.hour * 1000).toISOString()}`, t];
    }),
  );
}

/** Differences between two runs' hour totals (empty when they agree within `tolerance`, relative). */
export function diffTotals(expected: Map<string, HourTotals>, actual: Map<string, HourTotals>, tolerance = 1e-9): string[] {
  return diffKeyed(expected, actual, SUMMED, tolerance, (key, e, a) => (a.pods !== e.pods ? `${key} pods: ${e.pods} vs ${a.pods}` : undefined));
}

/**
 * Waits until a service's totals equal `expected`, then checks that they stay so over a few more
 * flushes (a record counted twice would show up late). Throws with the differences otherwise.
 */
export async function expectTotalsReach(sql: string, expected: Map<string, HourTotals>, timeoutMs: number, flushIntervalMs = 500): Promise<void> {
  let diff: string[] = ['not read yet'];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    diff = diffTotals(expected, await hourTotals(sql));
    if (diff.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (diff.length === 0) {
    await new Promise((r) => setTimeout(r, 4 * flushIntervalMs));
    diff = diffTotals(expected, await hourTotals(sql));
    if (diff.length === 0) return;
    throw new Error(`the totals matched, then changed:\n${diff.slice(0, 20).join('\n')}`);
  }
  throw new Error(`the totals did not reach the uninterrupted run's within ${timeoutMs} ms (${diff.length} differences):\n${diff.slice(0, 20).join('\n')}`);
}

/** The segment files of DATA_DIR/log, oldest first. */
export function logSegments(dataDir: string): { name: string; file: string; base: bigint; bytes: number }[] {
  const dir = path.join(dataDir, 'log');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, base: parseSegmentName(name) }))
    .filter((s): s is { name: string; base: bigint } => s.base !== undefined)
    .sort((a, b) => (a.base < b.base ? -1 : 1))
    .map((s) => {
      const file = path.join(dir, s.name);
      return { ...s, file, bytes: statSync(file).size };
    });
}

/** The committed offset of the processor's group in DATA_DIR/log/commits.json (undefined before the first commit). */
export function committedOffset(dataDir: string, group = 'k8s-expenses'): bigint | undefined {
  const file = path.join(dataDir, 'log', 'commits.json');
  if (!existsSync(file)) return undefined;
  const commits = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { offset: string }>;
  return commits[group] ? BigInt(commits[group].offset) : undefined;
}

/**
 * The log frame the service would append for `request` at `offset` (same record encoding, same
 * framing), for tests that damage a hand-appended frame rather than one whose request was acknowledged.
 */
export function frameOf(request: KubecostRequest, offset: bigint): Buffer {
  const c = loadConfig({});
  const prepared = prepareRecords(decodeWriteRequestV1(request.raw), request.tenant, Date.now(), {
    clusterLabel: c.CLUSTER_LABEL,
    maxSampleFutureMs: c.MAX_SAMPLE_FUTURE,
    maxRecordBytes: c.KAFKA_MAX_RECORD_BYTES,
    maxLabelsPerSeries: c.MAX_LABELS_PER_SERIES,
    maxLabelNameBytes: c.MAX_LABEL_NAME_BYTES,
    maxLabelValueBytes: c.MAX_LABEL_VALUE_BYTES,
  });
  if (prepared.records.length !== 1) throw new Error(`expected one record, got ${prepared.records.length}`);
  const [record] = prepared.records;
  return encodeRecordFrame({ timestamp: Date.now(), tenant: record.tenant, cluster: record.cluster, value: record.value }, offset);
}
