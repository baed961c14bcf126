// The embedded default, as a newcomer meets it: `npm start` with no configuration (no Kafka, no
// ClickHouse server) runs receiver and processor in one process over the embedded log and the
// embedded ClickHouse engine; remote-write requests become rows that `npm run -s sql` shows. And a
// configuration the embedded mode cannot run stops start-up with a message naming what to change.
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubecostTenants } from '../../../bench/kubecost-traffic.ts';
import { embeddedEnv, hourTotals, HOUR_MS, pastTraffic, sendAll, sqlUrl, startupLine, tempDataDir, waitProcessed } from '../../support/embedded.ts';
import { isStartupLine, runServiceUntilExit, runSqlCli, startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';

const TRAFFIC = { hours: 1.25, tenants: 2, series: 120, seed: 11 };

describe('npm start with no configuration', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let sqlEnv: Record<string, string>;
  const requests = pastTraffic(TRAFFIC);
  const clusters = kubecostTenants({ seed: TRAFFIC.seed, tenants: TRAFFIC.tenants, seriesPerTenant: TRAFFIC.series }).map((t) => `${t.tenant}/${t.clusterId}`);
  const firstHour = requests[0].timestampMs;

  beforeAll(async () => {
    dataDir = tempDataDir('e2e');
    service = await startServiceProcess({ npmStart: true, env: embeddedEnv(dataDir), readyTimeoutMs: 120_000 });
    sqlEnv = { SQL_PORT: new URL(sqlUrl(service)).port };
  });
  afterAll(async () => {
    await service?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('says in one start-up line where it listens, that records go through the embedded log, which ClickHouse it uses and where the data lives', () => {
    expect(service.logs.filter(isStartupLine)).toHaveLength(1);
    const line = startupLine(service);
    const log = path.join(dataDir, 'log');
    const clickhouse = path.join(dataDir, 'clickhouse');
    expect(line).toMatchObject({
      url: service.url,
      role: 'all',
      transport: `embedded log at ${log}`,
      clickhouse: `embedded ClickHouse at ${clickhouse}`,
    });
    const msg = String(line.msg);
    expect(msg).toContain(`listening on ${service.url}`);
    expect(msg).toContain(`embedded log at ${log}`);
    expect(msg).toContain(`embedded ClickHouse at ${clickhouse}`);
    expect(msg).toContain(`data in ${dataDir}`);
    expect(msg).not.toMatch(/kafka/i);
    expect(existsSync(log) && existsSync(clickhouse)).toBe(true);
  });

  it('turns remote-write requests into rows that `npm run -s sql` prints as a table', async () => {
    await sendAll(service.url, requests);
    await waitProcessed(service.url, requests.length);

    const result = await runSqlCli(
      ['SELECT tenant_id, cluster, count() AS pod_hours, round(sum(total_cost), 6) AS cost FROM k8s_expenses FINAL GROUP BY tenant_id, cluster ORDER BY tenant_id'],
      sqlEnv,
    );
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/tenant_id.*cluster.*pod_hours.*cost/);
    for (const c of clusters) {
      const [tenant, cluster] = c.split('/');
      expect(lines.some((l) => l.includes(tenant) && l.includes(cluster)), `a row for ${c} in\n${result.stdout}`).toBe(true);
    }
    // ClickHouse's own table (PrettyCompactMonoBlock): a numbered line per row, then the bottom border.
    expect(lines.filter((l) => /^\d+\. │/.test(l))).toHaveLength(clusters.length);
    expect(lines.at(-1)).toMatch(/^ +└─.*┘$/);
  });

  it('answers JSON lines with --format JSONEachRow: every tenant and cluster, each hour, positive costs, the finished hour final', async () => {
    const result = await runSqlCli(
      [
        '--format',
        'JSONEachRow',
        `SELECT tenant_id, cluster, toUnixTimestamp(hour) * 1000 AS hour_ms, min(is_final) AS final, count() AS pods,
                sum(total_cost) AS cost, sum(cpu_cost) AS cpu_cost, sum(ram_cost) AS ram_cost, sum(minutes) AS minutes
         FROM k8s_expenses FINAL GROUP BY tenant_id, cluster, hour ORDER BY tenant_id, cluster, hour`,
      ],
      sqlEnv,
    );
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, string | number>);
    expect(new Set(rows.map((r) => `${r.tenant_id}/${r.cluster}`))).toEqual(new Set(clusters));
    // A whole hour (closed: the traffic goes on for 15 minutes past it) and a quarter of the next (still open).
    for (const c of clusters) {
      const hours = rows.filter((r) => `${r.tenant_id}/${r.cluster}` === c);
      expect(hours.map((r) => Number(r.hour_ms))).toEqual([firstHour, firstHour + HOUR_MS]);
      expect(hours.map((r) => Number(r.final))).toEqual([1, 0]);
      for (const r of hours) {
        expect(Number(r.pods)).toBeGreaterThan(0);
        expect(Number(r.cost)).toBeGreaterThan(0);
        expect(Number(r.cpu_cost)).toBeGreaterThan(0);
        expect(Number(r.ram_cost)).toBeGreaterThan(0);
      }
      // A pod running all along: 60 minutes in the first hour, 15 in the second.
      expect(Number(hours[0].minutes) / Number(hours[0].pods)).toBeCloseTo(60, 0);
      expect(Number(hours[1].minutes) / Number(hours[1].pods)).toBeCloseTo(15, 0);
    }
  });

  it('refuses a write or a file read: exit code 1, the reason on stderr, nothing changed', async () => {
    const before = await hourTotals(sqlUrl(service));
    const insert = await runSqlCli(["INSERT INTO k8s_expenses (tenant_id, pod) VALUES ('intruder', 'x')"], sqlEnv);
    expect(insert.code).toBe(1);
    expect(insert.stdout).toBe('');
    expect(insert.stderr).toMatch(/^sql: .*INSERT is not allowed/m);
    const file = await runSqlCli(["SELECT * FROM file('/etc/passwd')"], sqlEnv);
    expect(file.code).toBe(1);
    expect(file.stdout).toBe('');
    expect(file.stderr).toMatch(/^sql: .*table function file\(\) is not allowed/m);
    expect(await hourTotals(sqlUrl(service))).toEqual(before);
  });

  it('stops cleanly when its process group gets SIGTERM (Ctrl-C in a terminal does the same)', async () => {
    await service.stop(20_000);
    expect(service.logs.some((l) => l.msg === 'stopped')).toBe(true);
    expect(service.logs.filter((l) => l.signal !== undefined).map((l) => l.msg)).toEqual(['shutting down: draining in-flight requests']);
  });
});

describe('start-up refuses what the embedded mode cannot run', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = tempDataDir('e2e-config');
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(['receiver', 'processor'])('ROLE=%s without KAFKA_BROKERS: a message naming KAFKA_BROKERS and ROLE=all, exit code 2', async (role) => {
    const result = await runServiceUntilExit({ ROLE: role, DATA_DIR: dataDir, SQL_PORT: '0' });
    expect(result.code, result.stderr + result.stdout).toBe(2);
    expect(result.stderr).toContain(`ROLE=${role} needs KAFKA_BROKERS`);
    expect(result.stderr).toContain('ROLE=all');
    expect(existsSync(path.join(dataDir, 'log'))).toBe(false);
  });

  it('ROLE=receiver through npm start: the same message, and a non-zero exit', async () => {
    const result = await runServiceUntilExit({ ROLE: 'receiver', DATA_DIR: dataDir, SQL_PORT: '0' }, 60_000, { npmStart: true });
    expect(result.code, result.stderr + result.stdout).not.toBe(0);
    expect(result.stderr).toContain('ROLE=receiver needs KAFKA_BROKERS');
  });

  it('an SQL_PORT already in use fails start-up naming SQL_PORT, exit code 2, instead of hanging', async () => {
    // The processor was already consuming when the SQL endpoint failed to listen; the log was then
    // closed under its consumer, which spun for ever and kept the process from exiting.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const result = await runServiceUntilExit({ DATA_DIR: dataDir, SQL_PORT: String(port) }, 20_000);
      expect(result.signal, 'killed after 20 s: start-up hung').toBeNull();
      expect(result.code, result.stderr + result.stdout).toBe(2);
      expect(result.stderr).toContain(`SQL_PORT=${port}: the port is already in use`);
    } finally {
      taken.close();
    }
  });

  it('a bad value (PORT=abc) stops start-up naming PORT, exit code 2', async () => {
    const result = await runServiceUntilExit({ PORT: 'abc', DATA_DIR: dataDir, SQL_PORT: '0' });
    expect(result.code, result.stderr + result.stdout).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration:\n\s*PORT="abc": expected an integer/);
    expect(result.stdout).toBe('');
  });
});
