// Runs the service as a separate process, as an operator would, for what an in-process service
// cannot show: signals (SIGHUP reload), start-up failures and exit codes, and the JSON log lines.
//
// The child is `node dist/service/main.js` with the Node options of service/node-flags.ts, the
// compiled service exactly as the image and `npm start` run it (test/support/build-setup.ts
// builds dist/ before the integration tests), a single process, so its pid is the service's own.
//
// `npmStart: true` runs `npm start` itself, exactly as documented (npm -> sh -> node). It gets its
// own process group and every signal goes to the whole group, as a terminal's Ctrl-C would: a
// SIGKILL then leaves no orphan holding the data directory. The process counts as exited when the
// last of them has closed the output pipes.
//
// PORT=0 lets the service pick its port; the handle then takes its URL from the start-up line.
import { spawn, type ChildProcess } from 'node:child_process';
import { SERVICE_ARGS } from '../../service/node-flags.ts';
import { TEST_SQL_TOKEN, testDecodeThreads } from './env.ts';
import { PROJECT_ROOT } from './kafka-broker.ts';
import { freePort } from './net.ts';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface ServiceProcess {
  /** The service's pid, or npm's (the process group's) with `npmStart`. */
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
  /** SIGKILL (a crash: nothing is drained or flushed); resolves once it has exited. */
  kill(): Promise<void>;
  /** The start-up line ("... listening on ..."), once written. */
  startupLine(): LogLine | undefined;
}

export interface ServiceProcessOptions {
  /** Environment of the service, on top of PATH and HOME only (nothing else leaks in from the test). */
  env: Record<string, string>;
  /** Wait until /ready answers 200 (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  /** Run `npm start` in its own process group instead of node directly (see the top of this file). */
  npmStart?: boolean;
}

function spawnService(env: Record<string, string>, npmStart = false): ChildProcess {
  const [command, args] = npmStart ? ['npm', ['start']] : [process.execPath, SERVICE_ARGS];
  return spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...testDecodeThreads(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: npmStart,
  });
}

/** Sends `signal` to the process, or to its whole group when it leads one; false when already gone. */
function sendSignal(pid: number, group: boolean, signal: NodeJS.Signals): boolean {
  try {
    process.kill(group ? -pid : pid, signal);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ESRCH') return false;
    throw err;
  }
}

/** The start-up line: `{url, transport, ...}` with "listening on" in its message. */
export function isStartupLine(line: LogLine): boolean {
  return typeof line.url === 'string' && typeof line.transport === 'string' && /listening on/.test(line.msg ?? '');
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  let port = options.env.PORT ? Number(options.env.PORT) : await freePort();
  const group = options.npmStart ?? false;
  const child = spawnService({ HOST: '127.0.0.1', LOG_LEVEL: 'info', SQL_TOKEN: TEST_SQL_TOKEN, ...options.env, PORT: String(port) }, group);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the service process');
  let url = `http://127.0.0.1:${port}`;
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
    // With npm in front, npm may exit before the service has drained: wait for the pipes to close.
    child.once(group ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => {
      running = false;
      for (const w of waiters) w();
      resolve({ code, signal });
    });
  });

  const handle: ServiceProcess = {
    pid,
    get port() {
      return port;
    },
    get url() {
      return url;
    },
    logs,
    stderr: () => stderr,
    exited,
    signal(signal) {
      if (running) sendSignal(pid, group, signal);
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
      sendSignal(pid, group, 'SIGTERM');
      const timer = setTimeout(() => {
        if (running) sendSignal(pid, group, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (running) sendSignal(pid, group, 'SIGKILL');
      await exited;
    },
    startupLine: () => logs.find(isStartupLine),
  };

  if (port === 0) {
    // The service picked its port: the start-up line says which.
    const line = await handle
      .waitForLog(isStartupLine, options.readyTimeoutMs ?? 60_000, 'the start-up line')
      .catch(async (err: unknown) => {
        await handle.stop();
        throw err;
      });
    url = String(line.url).replace('://0.0.0.0:', '://127.0.0.1:');
    port = Number(new URL(url).port);
  }

  if (options.waitReady ?? true) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    let lastReady = '(never answered)';
    for (;;) {
      if (!running) throw new Error(`the service exited during start-up: ${JSON.stringify(await exited)}; stderr: ${stderr}`);
      try {
        const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) break;
        lastReady = `${response.status} ${await response.text()}`;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await handle.stop();
        // What it was waiting for, so a failure in CI says where it stuck without a rerun.
        const lastLines = logs.slice(-5).map((l) => JSON.stringify(l)).join('\n  ');
        throw new Error(`the service was not ready within ${options.readyTimeoutMs ?? 60_000} ms; last /ready: ${lastReady}; last log lines:\n  ${lastLines}\nstderr: ${stderr}`);
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
  options: { npmStart?: boolean } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const port = env.PORT ?? String(await freePort());
  const group = options.npmStart ?? false;
  const child = spawnService({ HOST: '127.0.0.1', LOG_LEVEL: 'info', SQL_TOKEN: TEST_SQL_TOKEN, ...env, PORT: port }, group);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let done = false;
  const timer = setTimeout(() => {
    if (child.pid !== undefined && !done) sendSignal(child.pid, group, 'SIGKILL');
  }, timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once(group ? 'close' : 'exit', (c: number | null, s: NodeJS.Signals | null) => {
      done = true;
      resolve({ code: c, signal: s });
    }),
  );
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** Runs the tenants CLI exactly as documented, `npm run -s tenants -- <args>`, returning its output. */
export function runTenantsCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNpmScript('tenants', args, env);
}

/** Runs the SQL CLI exactly as documented, `npm run -s sql -- <args>` (set SQL_PORT to the service's). */
export function runSqlCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNpmScript('sql', args, { SQL_TOKEN: TEST_SQL_TOKEN, ...env });
}

/** Runs the embedded log's CLI exactly as documented, `npm run -s log -- <args>` (set DATA_DIR). */
export function runLogCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNpmScript('log', args, env);
}

async function runNpmScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '-s', script, '--', ...args], {
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
