// Authentication with a tenants file: the credentials decide the tenant (bearer or basic), a tenant
// header may only agree with them, labels inside the samples never decide anything. Reloading on
// SIGHUP (with a token added by the CLI) drops no request, a broken file on reload keeps the old
// credentials, and start-up says clearly when authentication is off or the file is bad. (The file
// is also re-read when it changes on disk: tenants-reload.test.ts.)
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { collectTopic, type TopicCollector } from '../../support/kafka-collector.ts';
import { post } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1 } from '../../support/remote-write-fixtures.ts';
import { runServiceUntilExit, runTenantsCli, startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { startTestService, uniqueTopic, waitReady } from '../../support/service.ts';
import { FORMAT_VERSION } from '../../../ingest/record-format.ts';

const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const TOKEN_A = 'token-of-tenant-a-0123456789';
const TOKEN_A2 = 'second-token-of-tenant-a';
const TOKEN_B = 'token-of-tenant-b-9876543210';
const USER_B = 'billing-b';
const PASSWORD_B = 'correct horse battery staple';

function tenantsFile() {
  return {
    tenants: [
      { id: 'tenant-a', tokens_sha256: [sha256(TOKEN_A), sha256(TOKEN_A2)] },
      { id: 'tenant-b', tokens_sha256: [sha256(TOKEN_B)], basic: [{ username: USER_B, password_sha256: sha256(PASSWORD_B) }] },
    ],
  };
}

/** A one-sample request whose cluster label identifies it in the topic. */
const body = (cluster: string, extra: Record<string, string> = {}) =>
  snappyCompress(writeRequestV1([{ labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', cluster_id: cluster, ...extra }, samples: [{ t: T0, v: 0.05 }] }]));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'k8s-expenses-auth-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('tenants file authentication (in process)', () => {
  let service: RunningService;
  let collector: TopicCollector;
  const topic = uniqueTopic('receiver-auth');

  beforeAll(async () => {
    const file = path.join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify(tenantsFile()));
    service = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '2', TENANTS_FILE: file });
    await waitReady(service);
    collector = await collectTopic(testBrokers(), topic);
  });
  afterAll(async () => {
    await collector?.stop();
    await service?.stop();
  });

  const write = (cluster: string, headers: Record<string, string>, extra?: Record<string, string>) =>
    post(`${service.url}/api/v1/write`, body(cluster, extra), { ...RW1_HEADERS, ...headers });

  it('a bearer token decides the tenant: key and headers of the record', async () => {
    expect((await write('auth-bearer', { authorization: `Bearer ${TOKEN_A}` })).status).toBe(204);
    expect((await write('auth-bearer2', { authorization: `bearer ${TOKEN_A2}` })).status).toBe(204);
    const got = await collector.waitFor((all) => all.some((s) => s.cluster === 'auth-bearer') && all.some((s) => s.cluster === 'auth-bearer2'));
    for (const cluster of ['auth-bearer', 'auth-bearer2']) {
      const s = got.find((x) => x.cluster === cluster)!;
      expect(s.tenant).toBe('tenant-a');
      expect(s.headers).toEqual({ tenant: 'tenant-a', cluster, 'format-version': String(FORMAT_VERSION) });
    }
  });

  it('basic credentials decide the tenant', async () => {
    expect((await write('auth-basic', { authorization: basic(USER_B, PASSWORD_B) })).status).toBe(204);
    const got = await collector.waitFor((all) => all.some((s) => s.cluster === 'auth-basic'));
    expect(got.find((s) => s.cluster === 'auth-basic')!.tenant).toBe('tenant-b');
  });

  it('a tenant header that agrees with the credentials passes; one that disagrees gets 403', async () => {
    expect((await write('auth-agree', { authorization: `Bearer ${TOKEN_B}`, 'cloud-account-id': 'tenant-b' })).status).toBe(204);
    const mismatch = await write('auth-mismatch', { authorization: `Bearer ${TOKEN_B}`, 'cloud-account-id': 'tenant-a' });
    expect(mismatch.status).toBe(403);
    expect(mismatch.text).toMatch(/tenant-mismatch/);
    const basicMismatch = await write('auth-mismatch', { authorization: basic(USER_B, PASSWORD_B), 'cloud-account-id': 'tenant-a' });
    expect(basicMismatch.status).toBe(403);
    // A malformed tenant header next to valid credentials is still a bad request.
    expect((await write('auth-mismatch', { authorization: `Bearer ${TOKEN_B}`, 'cloud-account-id': 'a/b' })).status).toBe(400);
    const got = await collector.waitFor((all) => all.some((s) => s.cluster === 'auth-agree'));
    expect(got.find((s) => s.cluster === 'auth-agree')!.tenant).toBe('tenant-b');
  });

  it('missing, unknown or malformed credentials get 401, even with a tenant header', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['no credentials', {}, 'auth-missing'],
      ['no credentials, tenant header only', { 'cloud-account-id': 'tenant-a' }, 'auth-missing'],
      ['unknown token', { authorization: 'Bearer not-a-known-token' }, 'auth-invalid'],
      ['token of the right length but wrong', { authorization: `Bearer ${TOKEN_A.slice(0, -1)}X` }, 'auth-invalid'],
      ['empty bearer', { authorization: 'Bearer ' }, 'auth-invalid'],
      ['unknown user', { authorization: basic('nobody', PASSWORD_B) }, 'auth-invalid'],
      ['wrong password', { authorization: basic(USER_B, 'wrong') }, 'auth-invalid'],
      ['basic without a colon', { authorization: `Basic ${Buffer.from('just-a-user').toString('base64')}` }, 'auth-invalid'],
      ['basic that is not base64', { authorization: 'Basic %%%' }, 'auth-invalid'],
      ['a token used as a basic password', { authorization: basic('tenant-a', TOKEN_A) }, 'auth-invalid'],
      ['unsupported scheme', { authorization: `Digest ${TOKEN_A}` }, 'auth-invalid'],
      ['scheme only', { authorization: 'Bearer' }, 'auth-invalid'],
    ];
    for (const [what, headers, code] of cases) {
      const res = await write('auth-refused', headers);
      expect(res.status, what).toBe(401);
      expect(res.text, what).toContain(`(${code})`);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(collector.series().filter((s) => s.cluster === 'auth-refused')).toEqual([]);
  });

  it('a tenant label inside the samples never decides the tenant', async () => {
    const spoofed = { tenant_id: 'tenant-b', cloud_account_id: 'tenant-b', __tenant__: 'tenant-b' };
    expect((await write('auth-spoof', { authorization: `Bearer ${TOKEN_A}` }, spoofed)).status).toBe(204);
    const got = await collector.waitFor((all) => all.some((s) => s.cluster === 'auth-spoof'));
    const s = got.find((x) => x.cluster === 'auth-spoof')!;
    expect(s.tenant).toBe('tenant-a');
    expect(s.headers.tenant).toBe('tenant-a');
    // The labels travel unchanged: they are data, not identity.
    expect(s.labels).toMatchObject(spoofed);
  });

  it('counts each refusal by reason in /metrics', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/k8s_expenses_receiver_requests_rejected_total\{reason="auth-missing"\} 2/);
    expect(metrics).toMatch(/k8s_expenses_receiver_requests_rejected_total\{reason="auth-invalid"\} 10/);
    expect(metrics).toMatch(/k8s_expenses_receiver_requests_rejected_total\{reason="tenant-mismatch"\} 2/);
    expect(metrics).toMatch(/k8s_expenses_receiver_requests_total\{status="204",tenant="tenant-a"\} 3/);
  });
});

describe('tenants file reload on SIGHUP (service process)', () => {
  let service: ServiceProcess;
  let collector: TopicCollector;
  let file: string;
  let oldToken: string;
  const topic = uniqueTopic('receiver-auth-hup');

  beforeAll(async () => {
    file = path.join(dir, 'hup-tenants.json');
    const first = await runTenantsCli(['add', 'old-tenant', '--file', file]);
    expect(first.code, first.stderr).toBe(0);
    oldToken = first.stdout.trim();
    service = await startServiceProcess({
      env: { ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '2', TENANTS_FILE: file },
    });
    collector = await collectTopic(testBrokers(), topic);
  });
  afterAll(async () => {
    await collector?.stop();
    await service?.stop();
  });

  const write = (cluster: string, token: string) =>
    post(`${service.url}/api/v1/write`, body(cluster), { ...RW1_HEADERS, authorization: `Bearer ${token}` });

  it('logs that authentication is on, naming the file', () => {
    const on = service.logs.filter((l) => /authentication on/.test(l.msg ?? ''));
    expect(on).toHaveLength(1);
    expect(on[0].file).toBe(file);
    expect(service.logs.some((l) => /authentication is off/.test(l.msg ?? ''))).toBe(false);
  });

  it('a token added by the CLI works after SIGHUP, while requests with an old token never fail', async () => {
    expect((await write('hup-old', oldToken)).status).toBe(204);

    const added = await runTenantsCli(['add', 'new-tenant', '--file', file]);
    expect(added.code, added.stderr).toBe(0);
    // Printed once, on stdout, alone; the file holds only its SHA-256.
    const lines = added.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const newToken = lines[0];
    expect(newToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(added.stderr).not.toContain(newToken);
    expect(added.stderr).toMatch(/shown only now/);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(newToken);
    expect(stored).not.toContain(oldToken);
    const parsed = JSON.parse(stored) as { tenants: { id: string; tokens_sha256: unknown[] }[] };
    // Named, so that an operator can rotate or revoke one token among several.
    expect(parsed.tenants.find((t) => t.id === 'new-tenant')!.tokens_sha256).toEqual([{ name: 'write-1', sha256: sha256(newToken) }]);
    expect(parsed.tenants.find((t) => t.id === 'old-tenant')!.tokens_sha256).toEqual([{ name: 'write-1', sha256: sha256(oldToken) }]);

    const addedBasic = await runTenantsCli(['add-basic', 'new-tenant', 'new-user', '--file', file]);
    expect(addedBasic.code, addedBasic.stderr).toBe(0);
    const password = addedBasic.stdout.trim();
    expect(readFileSync(file, 'utf8')).not.toContain(password);

    // The service may have re-read the changed file already (it watches its directory); SIGHUP
    // re-reads it in any case, and says so.
    // A steady stream of requests with the old token across the reload.
    const statuses: number[] = [];
    let streaming = true;
    const workers = Array.from({ length: 4 }, async () => {
      while (streaming) statuses.push((await write('hup-stream', oldToken)).status);
    });
    await new Promise((r) => setTimeout(r, 300));
    const before = service.logs.length;
    service.signal('SIGHUP');
    const isSighupReload = (l: { msg?: string; trigger?: unknown }) => l.msg === 'reloaded the tenants file' && l.trigger === 'SIGHUP';
    await service.waitForLog(isSighupReload, 10_000, 'the reload');
    expect(service.logs.slice(before).find(isSighupReload)!.tenants).toBe(2);
    expect((await write('hup-new', newToken)).status).toBe(204);
    const viaBasic = await post(`${service.url}/api/v1/write`, body('hup-basic'), { ...RW1_HEADERS, authorization: basic('new-user', password) });
    expect(viaBasic.status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    streaming = false;
    await Promise.all(workers);

    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    const got = await collector.waitFor((all) => all.some((s) => s.cluster === 'hup-new') && all.some((s) => s.cluster === 'hup-basic'));
    expect(got.find((s) => s.cluster === 'hup-new')!.tenant).toBe('new-tenant');
    expect(got.find((s) => s.cluster === 'hup-basic')!.tenant).toBe('new-tenant');
    expect(new Set(got.filter((s) => s.cluster === 'hup-stream').map((s) => s.tenant))).toEqual(new Set(['old-tenant']));
  });

  it('a broken file on reload keeps the previous credentials and logs an error', async () => {
    const good = readFileSync(file, 'utf8');
    const later = await runTenantsCli(['add', 'later-tenant', '--file', file]);
    expect(later.code).toBe(0);
    // The change is picked up by itself (the first file with three tenants) before the file breaks.
    await service.waitForLog((l) => l.msg === 'reloaded the tenants file' && l.trigger === 'change' && l.tenants === 3, 10_000, 'the reload of the added tenant');
    // Replaced atomically, as an editor or config management would.
    writeFileSync(`${file}.tmp`, '{"tenants": [ {"id": "x", ');
    renameSync(`${file}.tmp`, file);
    service.signal('SIGHUP');
    const error = await service.waitForLog((l) => /cannot reload the tenants file/.test(l.msg ?? ''), 10_000, 'the reload error');
    expect(error.level).toBe(50);
    expect(JSON.stringify(error)).toMatch(/TENANTS_FILE/);
    // The credentials in force before the broken file still work, the one added just before it too.
    expect((await write('hup-broken', oldToken)).status).toBe(204);
    expect((await write('hup-broken', later.stdout.trim())).status).toBe(204);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    writeFileSync(file, good);
  });

  it('stops cleanly on SIGTERM', async () => {
    await service.stop();
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });
});

describe('start-up', () => {
  it('without TENANTS_FILE logs once that authentication is off, and the tenant header decides', async () => {
    const topic = uniqueTopic('receiver-auth-off');
    const service = await startServiceProcess({ env: { ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1' } });
    try {
      const res = await post(`${service.url}/api/v1/write`, body('auth-off'), { ...RW1_HEADERS, 'cloud-account-id': 'header-tenant' });
      expect(res.status).toBe(204);
      // The header decides; Authorization is not looked at.
      expect((await post(`${service.url}/api/v1/write`, body('auth-off'), { ...RW1_HEADERS, authorization: `Bearer ${TOKEN_A}` })).status).toBe(400);
      const off = service.logs.filter((l) => /authentication is off/.test(l.msg ?? ''));
      expect(off).toHaveLength(1);
      expect(off[0].level).toBe(40);
    } finally {
      await service.stop();
    }
  });

  it.each([
    ['does not exist', (p: string) => p, /cannot read TENANTS_FILE/],
    ['is not JSON', (p: string) => (writeFileSync(p, 'tenants: [a]'), p), /TENANTS_FILE .* is not valid JSON/],
    ['has a bad hash', (p: string) => (writeFileSync(p, JSON.stringify({ tenants: [{ id: 'a', tokens_sha256: ['abc'] }] })), p), /TENANTS_FILE .*tokens_sha256.*64 hex/],
    ['has a bad tenant id', (p: string) => (writeFileSync(p, JSON.stringify({ tenants: [{ id: 'a/b' }] })), p), /TENANTS_FILE .*id/],
    ['gives one token to two tenants', (p: string) => (writeFileSync(p, JSON.stringify({ tenants: [{ id: 'a', tokens_sha256: [sha256('t')] }, { id: 'b', tokens_sha256: [sha256('t')] }] })), p), /TENANTS_FILE .*two tenants/],
    [
      "has a basic-auth username containing ':'",
      (p: string) => (writeFileSync(p, JSON.stringify({ tenants: [{ id: 'a', basic: [{ username: 'ops:eu', password_sha256: sha256('p') }] }] })), p),
      /TENANTS_FILE .*: tenant "a": username "ops:eu" contains ':'/,
    ],
  ])('fails when the tenants file %s, with a message naming TENANTS_FILE', async (what, make, message) => {
    const file = make(path.join(dir, `bad-${what.replace(/\W+/g, '-')}.json`));
    const result = await runServiceUntilExit({ ROLE: 'receiver', KAFKA_BROKERS: testBrokers().join(','), KAFKA_TOPIC: uniqueTopic('receiver-auth-bad'), TENANTS_FILE: file });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(message);
  });
});

describe('tenants CLI', () => {
  it("refuses a basic-auth username containing ':', which could never log in, and leaves the file as it was", async () => {
    const file = path.join(dir, 'cli-colon-tenants.json');
    expect((await runTenantsCli(['add-basic', 'cli-tenant', 'ops', '--file', file])).code).toBe(0);
    const before = readFileSync(file, 'utf8');
    const refused = await runTenantsCli(['add-basic', 'cli-tenant', 'ops:eu', '--file', file]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/username "ops:eu" contains ':'/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    // A file edited by hand with such a username is refused by every command, naming the entry.
    const parsed = JSON.parse(before) as { tenants: { id: string; basic: { username: string; password_sha256: string }[] }[] };
    parsed.tenants[0].basic.push({ username: 'by:hand', password_sha256: sha256('p') });
    writeFileSync(file, JSON.stringify(parsed));
    const listed = await runTenantsCli(['list', '--file', file]);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/tenant "cli-tenant": username "by:hand" contains ':'/);
  });
});
