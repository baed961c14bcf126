// The tenants file kept current, on real files in a kubelet-style directory: what is logged and
// which credentials are in force after each kind of change.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Log } from '../../../core/log.ts';
import { openLiveTenants, type LiveTenants } from '../../../receiver/live-tenants.ts';
import { projectedDirectory, type ProjectedDirectory } from '../../support/atomic-writer.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const tenantsJson = (tokens: Record<string, string>) =>
  JSON.stringify({ tenants: Object.entries(tokens).map(([id, token]) => ({ id, tokens_sha256: [sha256(token)] })) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEBOUNCE_MS = 50;

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

function capture(): Log & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

let root: string;
let mount: ProjectedDirectory;
let file: string;
let live: LiveTenants | undefined;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'k8s-expenses-live-tenants-'));
  mount = projectedDirectory(path.join(root, 'tenants'), { 'tenants.json': tenantsJson({ acme: 'token-a' }) });
  file = path.join(mount.dir, 'tenants.json');
});
afterEach(() => {
  live?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('openLiveTenants', () => {
  it('swaps in the new credentials after a ..data swap, logging one reload', async () => {
    const log = capture();
    live = openLiveTenants(file, log, { debounceMs: DEBOUNCE_MS });
    expect(live.current().tenantForToken('token-a')).toBe('acme');
    mount.update({ 'tenants.json': tenantsJson({ globex: 'token-g' }) });
    await until(() => live!.current().tenantForToken('token-g') === 'globex');
    expect(live.current().tenantForToken('token-a')).toBeUndefined();
    await sleep(DEBOUNCE_MS * 4);
    expect(log.lines.filter((l) => l.msg === 'reloaded the tenants file').map((l) => l.obj)).toEqual([{ file, tenants: 1, trigger: 'change' }]);
  });

  it('logs nothing when something else in the directory changes', async () => {
    const log = capture();
    live = openLiveTenants(file, log, { debounceMs: DEBOUNCE_MS });
    const before = live.current();
    writeFileSync(path.join(mount.dir, '.editor-swap'), 'x');
    // The same content projected again, as after a Secret update that changed another key.
    mount.update({ 'tenants.json': tenantsJson({ acme: 'token-a' }) });
    await sleep(DEBOUNCE_MS * 6);
    expect(log.lines).toEqual([]);
    expect(live.current()).toBe(before);
  });

  it('keeps the credentials in force when the new file does not parse, with an error line, and takes the next good one', async () => {
    const log = capture();
    live = openLiveTenants(file, log, { debounceMs: DEBOUNCE_MS });
    mount.update({ 'tenants.json': '{"tenants": [' });
    await until(() => log.lines.some((l) => l.level === 'error'));
    const error = log.lines.find((l) => l.level === 'error')!;
    expect(error.msg).toBe('cannot reload the tenants file; keeping the previous credentials');
    expect(String((error.obj.err as Error).message)).toMatch(/TENANTS_FILE .*tenants\.json is not valid JSON/);
    expect(live.current().tenantForToken('token-a')).toBe('acme');

    mount.update({ 'tenants.json': tenantsJson({ acme: 'token-a2' }) });
    await until(() => live!.current().tenantForToken('token-a2') === 'acme');
  });

  it('re-reads on reload() (SIGHUP) and says so even when nothing changed', () => {
    const log = capture();
    live = openLiveTenants(file, log, { debounceMs: DEBOUNCE_MS });
    live.reload();
    expect(log.lines.map((l) => [l.msg, l.obj.trigger])).toEqual([['reloaded the tenants file', 'SIGHUP']]);
  });

  it('throws at start when the file is unusable, naming TENANTS_FILE', () => {
    mount.update({ 'tenants.json': 'not json' });
    expect(() => openLiveTenants(file, capture())).toThrow(/TENANTS_FILE/);
  });
});
