// Which process has the embedded log open: the service while it runs, or a repair. Each writes
// DATA_DIR/log/owner.json on taking the log and removes it on letting go; a second process finds
// the first there and refuses, instead of two writers interleaving. A process that died (SIGKILL)
// leaves the file behind: a pid no longer running, or running as a newer process (its start time
// differs), is not an owner.
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ServiceError } from '../../core/errors.ts';
import { fsyncDir, replaceFile } from './durable-file.ts';

const OWNER_FILE = 'owner.json';

export interface LogOwner {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), to tell a reused pid apart. */
  started?: string;
  /** `service` or `repair`. */
  role: string;
  since: string;
}

/** The start time of a running process, or 'gone' for one that has exited (also a zombie); undefined where /proc does not say. */
function processStart(pid: number): string | 'gone' | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux' ? 'gone' : undefined;
  }
  // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' || fields[0] === 'X' ? 'gone' : fields[19];
}

function isRunning(owner: LogOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = processStart(owner.pid);
  if (started === 'gone') return false;
  return owner.started === undefined || started === undefined || started === owner.started;
}

/** The process that has the log open, if one runs (never this process itself). */
export async function currentOwner(dir: string): Promise<LogOwner | undefined> {
  let owner: LogOwner;
  try {
    owner = JSON.parse(await readFile(path.join(dir, OWNER_FILE), 'utf8')) as LogOwner;
  } catch {
    return undefined;
  }
  if (typeof owner.pid !== 'number' || owner.pid === process.pid) return undefined;
  return isRunning(owner) ? owner : undefined;
}

/**
 * Takes the log for this process, or throws `log-in-use` naming the process that has it.
 * Resolves to the function that lets it go again.
 */
export async function claimLog(dir: string, role: string): Promise<() => Promise<void>> {
  const owner = await currentOwner(dir);
  if (owner) {
    const what = owner.role === 'service' ? 'the service' : `a ${owner.role}`;
    throw new ServiceError(
      'log-in-use',
      `the embedded log at ${dir} is in use by ${what}, process ${owner.pid} (since ${owner.since}): stop it first${owner.role === 'service' ? ' (SIGTERM)' : ', or wait for it to finish'}`,
    );
  }
  const started = processStart(process.pid);
  const me: LogOwner = { pid: process.pid, started: started === 'gone' ? undefined : started, role, since: new Date().toISOString() };
  const file = path.join(dir, OWNER_FILE);
  await replaceFile(file, JSON.stringify(me));
  return async () => {
    try {
      const now = JSON.parse(await readFile(file, 'utf8')) as LogOwner;
      if (now.pid === me.pid && now.since === me.since) {
        await rm(file, { force: true });
        await fsyncDir(dir);
      }
    } catch {
      // gone already
    }
  };
}
