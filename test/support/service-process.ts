// Runs the service as a separate process, as an operator would, for what an in-process service
// cannot show: signals (SIGHUP reload), start-up failures and exit codes, and the JSON log lines.
//
// The child is `node --import tsx service/main.ts`, a single process, so its pid is the service's
// own. (`npx tsx service/main.ts` would put npm and the tsx CLI in between; neither forwards
// SIGHUP, and npm dies on it, leaving the service orphaned and not reloaded.)
import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from './kafka-broker.ts';
import { freePort } from './net.ts';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface ServiceProcess {
  readonly pid: number;
  readonly port: number;
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Every JSON line the service wrote to stdout so far (pino's format). */
  readonly logs: LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
  /** Waits for a log line matching `match` (looking at lines already written too). */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Environment of the service, on top of PATH and HOME only (nothing else leaks in from the test). */
  env: Record<string, string>;
  /** Wait until /ready answers 200 (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

function spawnService(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'service/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const port = options.env.PORT ? Number(options.env.PORT) : await freePort();
  const child = spawnService({ HOST: '127.0.0.1', LOG_LEVEL: 'info', ...options.env, PORT: String(port) });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the service process');
  const url = `http://127.0.0.1:${port}`;
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line, unparsed: true });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      for (const w of waiters) w();
      resolve({ code, signal });
    });
  });

  const handle: ServiceProcess = {
    pid,
    port,
    url,
    logs,
    stderr: () => stderr,
    exited,
    signal(signal) {
      if (running) process.kill(pid, signal);
    },
    waitForLog(match, timeoutMs = 15_000, what = 'a log line') {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < logs.length; seen++) {
            if (match(logs[seen])) {
              done();
              resolve(logs[seen]);
              return;
            }
          }
          if (!running) {
            done();
            reject(new Error(`the service exited before ${what}; stderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (!running) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (running) process.kill(pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  if (options.waitReady ?? true) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (!running) throw new Error(`the service exited during start-up: ${JSON.stringify(await exited)}; stderr: ${stderr}`);
      try {
        if ((await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) })).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await handle.stop();
        throw new Error(`the service was not ready within ${options.readyTimeoutMs ?? 60_000} ms; stderr: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return handle;
}

/** Runs the service until it exits by itself (for start-up failures); kills it after `timeoutMs`. */
export async function runServiceUntilExit(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const port = env.PORT ?? String(await freePort());
  const child = spawnService({ HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env, PORT: port });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (c, s) => resolve({ code: c, signal: s })),
  );
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** Runs the tenants CLI exactly as documented, `npm run -s tenants -- <args>`, returning its output. */
export async function runTenantsCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '-s', 'tenants', '--', ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}
