// The directory watch behind the tenants file's reload, on real files: a kubelet-style `..data`
// swap and a write-and-rename are both seen, once per replacement, and nothing after close().
import { mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchFileChanges, type FileWatch } from '../../../core/file-watch.ts';
import { projectedDirectory } from '../../support/atomic-writer.ts';

const DEBOUNCE_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

const dirs: string[] = [];
const watches: FileWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-expenses-file-watch-'));
  dirs.push(dir);
  return dir;
}

function watchCounting(file: string): { calls: () => number; reads: string[] } {
  let calls = 0;
  const reads: string[] = [];
  watches.push(
    watchFileChanges(
      file,
      () => {
        calls += 1;
        reads.push(readFileSync(file, 'utf8'));
      },
      { debounceMs: DEBOUNCE_MS },
    ),
  );
  return { calls: () => calls, reads };
}

describe('watchFileChanges', () => {
  it('sees every Secret volume update (the ..data link swapped), once each, and the file then reads the new content', async () => {
    const mount = projectedDirectory(path.join(tempDir(), 'tenants'), { 'tenants.json': 'old' });
    const file = path.join(mount.dir, 'tenants.json');
    expect(readlinkSync(file)).toBe(path.join('..data', 'tenants.json'));
    const watch = watchCounting(file);
    await sleep(50);
    const before = mount.current;

    mount.update({ 'tenants.json': 'new' });
    expect(mount.current).not.toBe(before);
    await until(() => watch.calls() > 0);
    // The swap is several directory events (new directory, link renamed, old directory removed).
    await sleep(DEBOUNCE_MS * 4);
    expect(watch.calls()).toBe(1);
    expect(watch.reads).toEqual(['new']);

    // A watch on the file would follow the first timestamped directory's file, which the first
    // update removed: it sees that removal, and nothing after it.
    mount.update({ 'tenants.json': 'newer' });
    await until(() => watch.calls() > 1);
    await sleep(DEBOUNCE_MS * 4);
    expect(watch.reads).toEqual(['new', 'newer']);
  });

  it('sees a file replaced by rename, as `npm run tenants` writes it, every time', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'tenants.json');
    writeFileSync(file, 'old');
    const watch = watchCounting(file);
    await sleep(50);
    for (const [i, text] of ['new', 'newer'].entries()) {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      await until(() => watch.calls() > i);
      expect(watch.reads.at(-1)).toBe(text);
      await sleep(DEBOUNCE_MS * 2);
    }
  });

  it('calls nothing after close()', async () => {
    const mount = projectedDirectory(path.join(tempDir(), 'tenants'), { 'tenants.json': 'old' });
    const watch = watchCounting(path.join(mount.dir, 'tenants.json'));
    await sleep(50);
    mount.update({ 'tenants.json': 'new' });
    // Closed within the debounce: the pending call is dropped too.
    watches.splice(0).forEach((w) => w.close());
    await sleep(DEBOUNCE_MS * 4);
    expect(watch.calls()).toBe(0);
  });

  it('reports a directory that cannot be watched, instead of throwing', () => {
    const errors: Error[] = [];
    watches.push(watchFileChanges(path.join(tempDir(), 'missing', 'tenants.json'), () => undefined, { onError: (err) => errors.push(err) }));
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
