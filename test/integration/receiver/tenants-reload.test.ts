// The tenants file mounted from a Kubernetes Secret: the kubelet replaces it by swapping the
// directory's `..data` link (test/support/atomic-writer.ts lays the directory out the same way),
// and the running service picks the new credentials up by itself within a couple of seconds, with
// no SIGHUP: a token added becomes valid, a removed one invalid. A broken update keeps the
// credentials in force and says so; the next good one is picked up again.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectedDirectory, type ProjectedDirectory } from '../../support/atomic-writer.ts';
import { testBrokers } from '../../support/env.ts';
import { post } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1 } from '../../support/remote-write-fixtures.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic } from '../../support/service.ts';

const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const TOKEN_OLD = 'token-before-the-secret-changed-0123';
const TOKEN_NEW = 'token-after-the-secret-changed-4567';
const TOKEN_LATER = 'token-after-a-broken-update-89ab';
/** "Within a couple of seconds", with room for a loaded machine. */
const PICKUP_MS = 5_000;

const tenantsJson = (tokens: Record<string, string>) =>
  JSON.stringify({ tenants: Object.entries(tokens).map(([id, token]) => ({ id, tokens_sha256: [sha256(token)] })) });

const body = (cluster: string) =>
  snappyCompress(writeRequestV1([{ labels: { __name__: 'node_cpu_hourly_cost', node: 'n1', cluster_id: cluster }, samples: [{ t: T0, v: 0.05 }] }]));

describe('tenants file from a Secret volume, updated by a ..data swap (service process)', () => {
  let root: string;
  let mount: ProjectedDirectory;
  let service: ServiceProcess;
  const topic = uniqueTopic('receiver-tenants-reload');

  const status = async (token: string) => (await post(`${service.url}/api/v1/write`, body('reload'), { ...RW1_HEADERS, authorization: `Bearer ${token}` })).status;

  /** Polls until the token gets `expected`; returns how long that took. */
  async function untilStatus(token: string, expected: number): Promise<number> {
    const started = Date.now();
    let last = 0;
    while (Date.now() - started < PICKUP_MS) {
      last = await status(token);
      if (last === expected) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`still ${last} after ${PICKUP_MS} ms, expected ${expected}`);
  }

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'k8s-expenses-tenants-reload-'));
    mount = projectedDirectory(path.join(root, 'tenants'), { 'tenants.json': tenantsJson({ 'old-tenant': TOKEN_OLD }) });
    service = await startServiceProcess({
      env: {
        ROLE: 'receiver',
        KAFKA_BROKERS: testBrokers().join(','),
        KAFKA_TOPIC: topic,
        KAFKA_TOPIC_PARTITIONS: '1',
        TENANTS_FILE: path.join(mount.dir, 'tenants.json'),
      },
    });
  });
  afterAll(async () => {
    await service?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('accepts the mounted credentials at start', async () => {
    expect(await status(TOKEN_OLD)).toBe(204);
    expect(await status(TOKEN_NEW)).toBe(401);
  });

  it('makes an added token valid and a removed one invalid after the swap, without a signal', async () => {
    const before = service.logs.length;
    mount.update({ 'tenants.json': tenantsJson({ 'new-tenant': TOKEN_NEW }) });
    await untilStatus(TOKEN_NEW, 204);
    expect(await status(TOKEN_OLD)).toBe(401);
    const reloads = service.logs.slice(before).filter((l) => l.msg === 'reloaded the tenants file');
    // One swap is several directory events: read once.
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toMatchObject({ trigger: 'change', tenants: 1 });
  });

  it('keeps the credentials in force when an update does not parse, and logs an error naming the file', async () => {
    mount.update({ 'tenants.json': '{"tenants": [ {"id": ' });
    const error = await service.waitForLog((l) => /cannot reload the tenants file/.test(l.msg ?? ''), PICKUP_MS, 'the reload error');
    expect(error.level).toBe(50);
    expect(JSON.stringify(error)).toMatch(/TENANTS_FILE/);
    expect(await status(TOKEN_NEW)).toBe(204);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('picks up the next good update after a broken one', async () => {
    mount.update({ 'tenants.json': tenantsJson({ 'new-tenant': TOKEN_NEW, 'later-tenant': TOKEN_LATER }) });
    await untilStatus(TOKEN_LATER, 204);
    expect(await status(TOKEN_NEW)).toBe(204);
    expect(await status(TOKEN_OLD)).toBe(401);
  });
});
