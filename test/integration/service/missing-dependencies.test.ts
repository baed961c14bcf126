// The compiled service started while what it depends on is missing, as a newcomer or an
// orchestrator meets it: Kafka unreachable, a ClickHouse server unreachable, a ClickHouse server
// that refuses the credentials. The HTTP port opens anyway (/healthz 200, /ready 503 naming what is
// missing), the log says what is waited for in a few lines rather than hundreds, SIGTERM exits 0,
// and only a failure that waiting cannot cure stops the process.
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../support/embedded.ts';
import { testBrokers } from '../../support/env.ts';
import { startServiceProcess, type LogLine, type ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic, waitFor } from '../../support/service.ts';

const WARN = 40;

interface Readiness {
  ready: boolean;
  checks: { name: string; ready: boolean }[];
}

async function readiness(service: ServiceProcess): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${service.url}/ready`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as Readiness };
}

const warnings = (logs: LogLine[]) => logs.filter((l) => (l.level ?? 0) >= WARN);

let dataDir: string;
let service: ServiceProcess | undefined;
beforeAll(() => {
  dataDir = tempDataDir('missing');
});
afterEach(async () => {
  await service?.kill();
  service = undefined;
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Kafka unreachable (KAFKA_BROKERS=127.0.0.1:1)', () => {
  it('listens (/healthz 200, /ready 503 naming kafka), writes at most 6 warning lines in 15 s, and exits 0 on SIGTERM', async () => {
    const spawned = Date.now();
    service = await startServiceProcess({
      waitReady: false,
      env: { KAFKA_BROKERS: '127.0.0.1:1', DATA_DIR: dataDir, PORT: '0', SQL_PORT: '0', KAFKA_TOPIC: uniqueTopic('unreachable') },
    });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const { status, body } = await readiness(service);
    expect(status).toBe(503);
    expect(body.checks).toContainEqual({ name: 'kafka', ready: false, reason: expect.stringMatching(/^not connected to Kafka 127\.0\.0\.1:1 \(KAFKA_BROKERS\)/) });

    // kafkajs alone used to write 109 warning lines in these 15 s.
    await new Promise((r) => setTimeout(r, Math.max(0, spawned + 15_000 - Date.now())));
    const seen = warnings(service.logs);
    expect(seen.length, JSON.stringify(seen.map((l) => l.msg), null, 1)).toBeLessThanOrEqual(6);
    // What is waited for is named, with the variable to check.
    expect(seen.some((l) => /cannot reach Kafka 127\.0\.0\.1:1 \(KAFKA_BROKERS\)/.test(l.msg ?? ''))).toBe(true);
    expect((await readiness(service)).status).toBe(503);

    // Regression: the processor paused a consumer that had never run; kafkajs threw, the shutdown
    // logged "shutdown failed" and the process exited 1.
    await service.stop(20_000);
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.logs.map((l) => l.msg)).not.toContain('shutdown failed');
    expect(service.logs.map((l) => l.msg)).toContain('stopped');
  });
});

describe('ClickHouse server unreachable (ROLE=processor, CLICKHOUSE_URL=http://127.0.0.1:1)', () => {
  it('listens (/healthz 200, /ready 503 naming clickhouse), says which URL it waits for without the password, and exits 0 on SIGTERM', async () => {
    const topic = uniqueTopic('no-clickhouse');
    service = await startServiceProcess({
      waitReady: false,
      env: {
        ROLE: 'processor',
        KAFKA_BROKERS: testBrokers().join(','),
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: topic,
        CLICKHOUSE_URL: 'http://k8s:s3cret-password@127.0.0.1:1',
        DATA_DIR: dataDir,
        PORT: '0',
      },
    });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const waiting = await service.waitForLog((l) => /waiting for ClickHouse/.test(l.msg ?? ''), 15_000, 'the line saying what it waits for');
    expect(waiting.msg).toMatch(/^waiting for ClickHouse at http:\/\/127\.0\.0\.1:1\/ \(CLICKHOUSE_URL\) to apply the migrations: .*ECONNREFUSED.*; retrying/);
    const { status, body } = await readiness(service);
    expect(status).toBe(503);
    expect(body.checks).toContainEqual({
      name: 'clickhouse',
      ready: false,
      reason: expect.stringMatching(/^waiting for ClickHouse at http:\/\/127\.0\.0\.1:1\/ \(CLICKHOUSE_URL\) to apply the migrations: .*ECONNREFUSED/),
    });
    // Still waiting a few seconds later, and still live: the retries back off instead of exiting.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(JSON.stringify(service.logs) + service.stderr()).not.toContain('s3cret-password');
    // The client's own messages are log lines of the service, not multi-line blocks on stderr.
    expect(service.stderr()).toBe('');
    expect(service.logs.filter((l) => l.unparsed)).toEqual([]);

    await service.stop(20_000);
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });
});

describe('a ClickHouse server that refuses the credentials', () => {
  // A stand-in answering every request the way ClickHouse answers a wrong password (HTTP 516
  // with its exception text): waiting cannot cure that, so the process must stop and say why.
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(516, { 'content-type': 'text/plain', 'x-clickhouse-exception-code': '516' });
      res.end('Code: 516. DB::Exception: k8s: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 25.8.26.11 (official build))\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('stops the process with exit code 1 and a line naming the server and the reason', async () => {
    const topic = uniqueTopic('refused');
    service = await startServiceProcess({
      waitReady: false,
      env: { ROLE: 'processor', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_GROUP_ID: topic, CLICKHOUSE_URL: url, CLICKHOUSE_USER: 'k8s', DATA_DIR: dataDir, PORT: '0' },
    });
    const exit = await Promise.race([service.exited, new Promise((r) => setTimeout(() => r('still running after 20 s'), 20_000))]);
    expect(exit).toEqual({ code: 1, signal: null });
    const fatal = service.logs.find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(new RegExp(`^stopping: the processor could not start with ClickHouse ${url}/ database default: .*Authentication failed`));
  });
});

describe('readiness turns true once the dependency is there', () => {
  it('ROLE=all with the shared broker and the embedded engine: /ready 200 with every check true', async () => {
    const topic = uniqueTopic('ready');
    service = await startServiceProcess({
      waitReady: false,
      env: { ROLE: 'all', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_GROUP_ID: topic, DATA_DIR: dataDir, PORT: '0', SQL_PORT: '0' },
    });
    await waitFor(async () => (await readiness(service!)).status === 200, 60_000, '/ready 200');
    expect((await readiness(service)).body.checks.map((c) => c.name).sort()).toEqual(['clickhouse', 'kafka', 'processor']);
  });
});
