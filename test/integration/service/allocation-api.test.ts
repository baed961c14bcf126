// The allocation API through the compiled service (ROLE=all, embedded log and engine) with a
// tenants file, as a new user runs it: tokens made with the tenants CLI, two tenants writing with
// their write tokens, each reading with its read token. A reader sees its own tenant's rows and no
// other's, whatever header it sends; write credentials cannot read nor read credentials write;
// rotate and revoke take effect on SIGHUP; `list` shows names, never secrets.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, pastTraffic, sendRequest, sqlUrl, TENANT_HEADER, tempDataDir, waitProcessed } from '../../support/embedded.ts';
import { sqlHeaders } from '../../support/env.ts';
import { runTenantsCli, startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';

const TENANTS = ['acme', 'globex'] as const;
type Tenant = (typeof TENANTS)[number];
type Allocation = { name: string; totalCost: number; properties: { cluster?: string } };
type Answer = { code: number; data: Record<string, Allocation>[] };

let dataDir: string;
let file: string;
let service: ServiceProcess;
const writeTokens = {} as Record<Tenant, string>;
const readTokens = {} as Record<Tenant, string>;
const clusters = {} as Record<Tenant, string>;

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await runTenantsCli([...args, '--file', file]);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

const allocation = (token: string | undefined, query: string, headers: Record<string, string> = {}) =>
  fetch(`${service.url}/allocation/compute?${query}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

async function answer(token: string, query: string): Promise<Answer> {
  const res = await allocation(token, query);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Answer;
}

/** The tenant's cost as stored, read through the SQL endpoint (which sees every tenant). */
async function storedCost(tenant: Tenant): Promise<number> {
  const res = await fetch(`${sqlUrl(service)}/query?format=JSONEachRow`, {
    method: 'POST',
    body: `SELECT sum(total_cost) AS cost FROM k8s_expenses FINAL WHERE tenant_id = '${tenant}'`,
    headers: sqlHeaders(),
  });
  expect(res.status).toBe(200);
  return (JSON.parse(await res.text()) as { cost: number }).cost;
}

const sum = (a: Answer) => a.data.flatMap((set) => Object.values(set)).reduce((n, x) => n + x.totalCost, 0);
const clustersOf = (a: Answer) => [...new Set(a.data.flatMap((set) => Object.values(set).map((x) => x.properties.cluster ?? x.name)))].sort();

beforeAll(async () => {
  dataDir = tempDataDir('allocation-api');
  file = path.join(dataDir, 'tenants.json');
  for (const tenant of TENANTS) {
    writeTokens[tenant] = (await cli('add', tenant)).stdout.trim();
    readTokens[tenant] = (await cli('add-reader', tenant)).stdout.trim();
  }
  service = await startServiceProcess({ env: embeddedEnv(dataDir, { TENANTS_FILE: file }), readyTimeoutMs: 120_000 });
  const traffic = pastTraffic({ hours: 0.5, tenants: 2, series: 60, seed: 5, tenantNames: [...TENANTS] });
  for (const request of traffic) {
    clusters[request.tenant as Tenant] = request.clusterId;
    const sent = await sendRequest(service.url, request, 15_000, { authorization: `Bearer ${writeTokens[request.tenant as Tenant]}` });
    expect(sent.status, sent.text).toBe(204);
  }
  await waitProcessed(service.url, traffic.length);
});

afterAll(async () => {
  await service?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('allocation API of the running service, two tenants', () => {
  it('each reader sees exactly its own tenant: its cluster only, and all of its cost', async () => {
    for (const tenant of TENANTS) {
      const got = await answer(readTokens[tenant], 'window=2d&aggregate=cluster&includeIdle=true&accumulate=true');
      expect(got.code).toBe(200);
      expect(clustersOf(got).filter((c) => !c.startsWith('__'))).toEqual([clusters[tenant]]);
      const stored = await storedCost(tenant);
      expect(stored).toBeGreaterThan(0);
      expect(sum(got)).toBeCloseTo(stored, 6);
    }
  });

  it('a header naming the other tenant is refused (403), and no value of a request reaches its rows', async () => {
    const spoofed = await allocation(readTokens.acme, 'window=2d', { [TENANT_HEADER]: 'globex' });
    expect(spoofed.status).toBe(403);
    expect(await spoofed.json()).toMatchObject({ code: 403, error: 'tenant-mismatch' });
    const filters = [`cluster:"${clusters.globex}"`, `cluster!:"${clusters.acme}"`, "namespace:\"x') OR tenant_id = 'globex' --\""];
    for (const filter of filters) {
      const got = await answer(readTokens.acme, `window=2d&aggregate=cluster&includeIdle=true&filter=${encodeURIComponent(filter)}`);
      expect(clustersOf(got).filter((c) => !c.startsWith('__')), filter).toEqual([]);
      expect(sum(got), filter).toBe(0);
    }
  });

  it('serves CSV, and the same numbers at /allocation and /model/allocation', async () => {
    const csv = await allocation(readTokens.globex, 'window=2d&aggregate=cluster&accumulate=true&format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain(clusters.globex);
    for (const route of ['/allocation', '/model/allocation']) {
      const res = await fetch(`${service.url}${route}?window=2d&aggregate=cluster&accumulate=true`, { headers: { authorization: `Bearer ${readTokens.globex}` } });
      expect(await res.json()).toEqual(await answer(readTokens.globex, 'window=2d&aggregate=cluster&accumulate=true'));
    }
  });

  it('refuses reads without a read credential: none (401), a header alone (401), a write token (403)', async () => {
    expect(await (await allocation(undefined, 'window=2d')).json()).toMatchObject({ code: 401, error: 'auth-missing' });
    expect(await (await allocation(undefined, 'window=2d', { [TENANT_HEADER]: 'acme' })).json()).toMatchObject({ code: 401, error: 'auth-missing' });
    expect(await (await allocation(writeTokens.acme, 'window=2d')).json()).toMatchObject({ code: 403, error: 'not-a-read-credential' });
  });

  it('a read token cannot write (401)', async () => {
    const [request] = pastTraffic({ hours: 0.05, tenants: 1, series: 10, seed: 9, tenantNames: ['acme'] });
    expect((await sendRequest(service.url, request, 15_000, { authorization: `Bearer ${readTokens.acme}` })).status).toBe(401);
  });

  it('list shows the credentials by name, never a secret', async () => {
    const { stdout } = await cli('list');
    expect(stdout).toBe('acme\twrite=write-1\tread=read-1\nglobex\twrite=write-1\tread=read-1\n');
    const stored = readFileSync(file, 'utf8');
    for (const token of [...Object.values(writeTokens), ...Object.values(readTokens)]) {
      expect(stdout).not.toContain(token);
      expect(stored).not.toContain(token);
    }
  });

  it('rotate replaces a read token and revoke removes one, both at SIGHUP', async () => {
    const rotated = (await cli('rotate', 'acme', 'read-1')).stdout.trim();
    expect(rotated).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The service reads the file at start and on SIGHUP only.
    expect((await allocation(readTokens.acme, 'window=2d')).status).toBe(200);
    service.signal('SIGHUP');
    await expect.poll(async () => (await allocation(readTokens.acme, 'window=2d')).status, { timeout: 10_000 }).toBe(401);
    expect((await allocation(rotated, 'window=2d')).status).toBe(200);

    await cli('revoke', 'acme', 'read-1');
    expect((await cli('list')).stdout).toMatch(/^acme\twrite=write-1\tread=\n/);
    service.signal('SIGHUP');
    await expect.poll(async () => (await allocation(rotated, 'window=2d')).status, { timeout: 10_000 }).toBe(401);
    // The other tenant's reader and the writers are untouched.
    expect((await allocation(readTokens.globex, 'window=2d')).status).toBe(200);
  });

  it('the tenants CLI refuses a name in use, and an unknown name, saying so', async () => {
    const taken = await runTenantsCli(['add-reader', 'globex', 'read-1', '--file', file]);
    expect([taken.code, taken.stderr.trim()]).toEqual([1, 'tenant globex already has a credential named "read-1"']);
    const unknown = await runTenantsCli(['revoke', 'globex', 'nope', '--file', file]);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'tenant globex has no credential named "nope" (list shows the names)']);
    const named = await runTenantsCli(['add-reader', 'globex', 'grafana', '--file', file]);
    expect(named.code).toBe(0);
    expect((await cli('list')).stdout).toContain('globex\twrite=write-1\tread=read-1,grafana\n');
  });
});
