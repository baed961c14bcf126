// A directory laid out and updated the way the kubelet updates a mounted Secret or ConfigMap
// (its AtomicWriter): the files live in a timestamped `..<time>` directory, `..data` links to it,
// and each visible name links through `..data`. An update writes a new timestamped directory,
// points a `..data_tmp` link at it, renames that over `..data` (atomic) and removes the old one.
//
//   dir/..2026_12_03_18_51_00.000000001/tenants.json
//   dir/..data -> ..2026_12_03_18_51_00.000000001
//   dir/tenants.json -> ..data/tenants.json
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ProjectedDirectory {
  readonly dir: string;
  /** The timestamped directory `..data` points at now. */
  readonly current: string;
  /** Replaces every file at once, as the kubelet does when the Secret changes. */
  update(files: Record<string, string>): void;
}

let sequence = 0;

function timestampedName(): string {
  const t = new Date();
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  sequence += 1;
  return `..${t.getUTCFullYear()}_${pad(t.getUTCMonth() + 1)}_${pad(t.getUTCDate())}_${pad(t.getUTCHours())}_${pad(t.getUTCMinutes())}_${pad(t.getUTCSeconds())}.${pad(sequence, 9)}`;
}

export function projectedDirectory(dir: string, files: Record<string, string>): ProjectedDirectory {
  mkdirSync(dir, { recursive: true });
  let current = '';
  const write = (content: Record<string, string>) => {
    const next = timestampedName();
    mkdirSync(path.join(dir, next));
    for (const [name, text] of Object.entries(content)) writeFileSync(path.join(dir, next, name), text, { mode: 0o444 });
    const tmp = path.join(dir, '..data_tmp');
    symlinkSync(next, tmp);
    renameSync(tmp, path.join(dir, '..data'));
    for (const name of Object.keys(content)) {
      const visible = path.join(dir, name);
      if (!existsSync(visible)) symlinkSync(path.join('..data', name), visible);
    }
    if (current) rmSync(path.join(dir, current), { recursive: true, force: true });
    current = next;
  };
  write(files);
  return {
    dir,
    get current() {
      return current;
    },
    update: write,
  };
}
