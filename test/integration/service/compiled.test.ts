// The commands of the README run compiled JavaScript from dist/, with no TypeScript loader in the
// process: `npm start` (inspected through /proc), `npm run -s sql`, `npm run -s tenants` and
// `npm run migrate` (each Node process records its entry script). Under a terminal the service
// logs readable lines, and configuration mistakes stop the compiled service with exit code 2 and
// a message naming the variable.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeThreadsFor } from '../../../receiver/decode-pool.ts';
import { SERVICE_ARGS } from '../../../service/node-flags.ts';
import { embeddedEnv, TENANT_HEADER, tempDataDir } from '../../support/embedded.ts';
import { PROJECT_ROOT } from '../../support/kafka-broker.ts';
import { sqlHeaders, TEST_SQL_TOKEN } from '../../support/env.ts';
import { freePort, metricValue, post } from '../../support/net.ts';
import { RW1_HEADERS, snappyCompress, writeRequestV1 } from '../../support/remote-write-fixtures.ts';
import { runServiceUntilExit, startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { waitFor } from '../../support/service.ts';

const LOADER = /tsx|--import|--loader|--experimental-loader|--experimental-strip-types|\.ts$/;

function procList(pid: number, file: 'cmdline' | 'environ'): string[] {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
}

/** Processes whose /proc/<pid>/stat field `field` (after the command: 1 = ppid, 2 = pgrp) is `value`. */
function processesWith(field: 1 | 2, value: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command may contain spaces and parentheses: fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[field]) === value) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const processGroup = (pgid: number) => processesWith(2, pgid);
const childrenOf = (pid: number) => processesWith(1, pid);

/** Runs a command in the project with only PATH, HOME and `env`, to its end. */
async function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

let dataDir: string;
beforeAll(() => {
  dataDir = tempDataDir('compiled');
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await startServiceProcess({ npmStart: true, env: embeddedEnv(path.join(dataDir, 'start')), readyTimeoutMs: 120_000 });
  });
  afterAll(async () => {
    await service?.stop(20_000);
  });

  it('runs `node dist/service/main.js`: no TypeScript loader in its command line or environment', () => {
    const members = processGroup(service.pid);
    const node = members.filter((pid) => procList(pid, 'cmdline').includes('dist/service/main.js'));
    expect(node, `processes of the group: ${members.map((p) => procList(p, 'cmdline').join(' ')).join(' | ')}`).toHaveLength(1);
    const cmdline = procList(node[0], 'cmdline');
    expect(path.basename(cmdline[0])).toBe('node');
    // With the Node options every launcher passes (the image's CMD is checked against the same list).
    expect(cmdline.slice(1)).toEqual(SERVICE_ARGS);
    const environ = procList(node[0], 'environ');
    const nodeOptions = environ.find((e) => e.startsWith('NODE_OPTIONS='));
    expect(nodeOptions ?? '').not.toMatch(LOADER);
    // Nothing else in the group runs a loader either (tsx would add its own node and esbuild processes).
    for (const pid of members) expect(procList(pid, 'cmdline').join(' ')).not.toMatch(/tsx|esbuild/);
  });

  it('answers /healthz and /ready', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
  });

  // Regression: the worker threads were unreferenced as soon as they were created, so the process,
  // with nothing else running yet, ended silently before it listened.
  it('decodes requests on worker threads started from dist/ (DECODE_THREADS), bad bodies answered as ever', async () => {
    const setting = process.env.DECODE_THREADS ? Number(process.env.DECODE_THREADS) : 'auto';
    const threads = decodeThreadsFor(setting, os.availableParallelism());
    expect(metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'k8s_expenses_receiver_decode_threads')).toBe(threads);
    const headers = { ...RW1_HEADERS, [TENANT_HEADER]: 'acme' };
    const series = { labels: { __name__: 'node_total_hourly_cost', cluster_id: 'c1', node: 'n1' }, samples: [{ t: Date.now() - 60_000, v: 1 }] };
    expect((await post(`${service.url}/api/v1/write`, snappyCompress(writeRequestV1([series])), headers)).status).toBe(204);
    const corrupt = await post(`${service.url}/api/v1/write`, Uint8Array.from([0x0a, 0xfc, 0xf0, 0xff, 0xff, 0xff]), headers);
    expect([corrupt.status, corrupt.text]).toEqual([400, 'the body is not valid snappy block-compressed data: snappy: literal of 4294967281 bytes runs past the end of the input (corrupt-snappy)\n']);
  });
});

describe('the command-line tools', () => {
  let recorder: string;
  let record: string;
  beforeAll(() => {
    // Preloaded into every Node process of the npm run (npm itself, the build check, the tool):
    // each appends its entry script and its own flags.
    recorder = path.join(dataDir, 'record-entry.cjs');
    record = path.join(dataDir, 'entries.jsonl');
    writeFileSync(
      recorder,
      "require('node:fs').appendFileSync(process.env.ENTRY_RECORD, JSON.stringify({ main: process.argv[1], execArgv: process.execArgv }) + '\\n');\n",
    );
  });

  async function npmRun(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; entries: { main: string; execArgv: string[] }[] }> {
    writeFileSync(record, '');
    const { code, stdout, stderr } = await run('npm', ['run', ...args], { NODE_OPTIONS: `--require ${recorder}`, ENTRY_RECORD: record, ...env });
    const entries = readFileSync(record, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { main: string; execArgv: string[] });
    return { code, stdout, stderr, entries };
  }

  function expectCompiled(entries: { main: string; execArgv: string[] }[], script: string): void {
    const mains = entries.map((e) => path.relative(PROJECT_ROOT, e.main ?? ''));
    expect(mains).toContain(script);
    for (const e of entries) {
      expect(e.main ?? '').not.toMatch(/\.ts$/);
      expect(e.execArgv.join(' ')).not.toMatch(LOADER);
    }
  }

  it('npm run -s tenants runs dist/cli/tenants.js', async () => {
    const file = path.join(dataDir, 'tenants.json');
    const added = await npmRun(['-s', 'tenants', '--', 'add', 'acme', '--file', file]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expectCompiled(added.entries, 'dist/cli/tenants.js');
    const listed = await npmRun(['-s', 'tenants', '--', 'list', '--file', file]);
    expect(listed.stdout).toBe('acme\twrite=write-1\tread=\n');
  });

  it('npm run migrate runs dist/cli/migrate.js', async () => {
    const result = await npmRun(['migrate'], { DATA_DIR: path.join(dataDir, 'migrate') });
    expect(result.code, result.stderr).toBe(0);
    const migrations = readdirSync(path.join(PROJECT_ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).length;
    expect(result.stdout).toMatch(new RegExp(`database default: ${migrations} applied, 0 already applied`));
    expectCompiled(result.entries, 'dist/cli/migrate.js');
  });

  it('npm run -s sql runs dist/cli/sql.js', async () => {
    const port = await freePort();
    const result = await npmRun(['-s', 'sql', '--', 'SELECT 1'], { SQL_PORT: String(port) });
    // Nothing listens there: the tool itself answered, from dist/.
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no service is listening/);
    expectCompiled(result.entries, 'dist/cli/sql.js');
  });
});

describe('under a terminal', () => {
  it('logs readable lines (time, level name, message), not JSON', async () => {
    const port = await freePort();
    // `script` gives the service a pseudo-terminal as stdout. The service alone gets the SIGTERM:
    // `script` exits after it, once the last line has gone through the terminal.
    const child = spawn('script', ['-qec', 'exec node dist/service/main.js', '/dev/null'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...embeddedEnv(path.join(dataDir, 'tty')), PORT: String(port), HOST: '127.0.0.1', NO_COLOR: '1', SQL_TOKEN: TEST_SQL_TOKEN },
      // stdin stays open: at its end `script` would send the terminal an end-of-file.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      await waitFor(() => /listening on/.test(output) && /processor started/.test(output), 60_000, 'the start-up lines');
      // Regression: the embedded engine coloured its tables when the service's stdout was a
      // terminal, and `npm run sql` printed the escape codes.
      const sql = /SQL endpoint (http:\/\/\S+);/.exec(output)![1];
      const table = await (await fetch(`${sql}/query`, { method: 'POST', body: 'SELECT 1 AS x', headers: sqlHeaders() })).text();
      expect(table).toBe(['   ┌─x─┐', '1. │ 1 │', '   └───┘', ''].join('\n'));
    } finally {
      const node = childrenOf(child.pid!);
      for (const pid of node) process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => [...node, child.pid!].forEach((pid) => process.kill(pid, 'SIGKILL')), 20_000);
      await closed;
      clearTimeout(timer);
      child.stdin.destroy();
      // The service itself must be gone too, not only the terminal around it.
      await waitFor(() => node.every((pid) => !existsSync(`/proc/${pid}`)), 10_000, 'the service to exit').finally(() =>
        node.filter((pid) => existsSync(`/proc/${pid}`)).forEach((pid) => process.kill(pid, 'SIGKILL')),
      );
    }
    const lines = output.split(/\r?\n/).filter(Boolean);
    expect(output).not.toContain('{"level"');
    for (const line of lines) expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}(TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\S/);
    expect(lines.find((l) => l.includes('listening on'))).toMatch(new RegExp(`INFO   k8s-expenses \\(all\\) listening on http://127\\.0\\.0\\.1:${port};`));
    expect(lines.some((l) => / INFO {3}stopped$/.test(l))).toBe(true);
  });
});

describe('closing the terminal', () => {
  it('stops the service gracefully, then ends by the hang-up signal (the SIGHUP is not a reload then)', async () => {
    // Regression: SIGHUP only re-read the tenants file; with the terminal gone the reload's log line
    // failed (EIO) and the service died of it, or, logging JSON, retried the write for ever and
    // lived on unseen, holding its ports and data directory. Python's pty module plays the terminal
    // and closes it once the service listens, then reports how the service ended: -1 is "by
    // SIGHUP", which the service raises on itself only after its graceful stop (Node's own exit
    // aborts while restoring a hung-up terminal: -6 or -11).
    const terminal = [
      'import os, pty, select, sys',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      "    os.execvp('node', ['node', 'dist/service/main.js'])",
      "seen = b''",
      "while b'listening on' not in seen:",
      '    ready, _, _ = select.select([fd], [], [], 60)',
      '    if not ready:',
      '        sys.exit(3)',
      '    seen += os.read(fd, 65536)',
      'os.close(fd)',
      'status = os.waitpid(pid, 0)[1]',
      'print(os.waitstatus_to_exitcode(status))',
    ].join('\n');
    const port = await freePort();
    const { code, stdout, stderr } = await run('python3', ['-c', terminal], { ...embeddedEnv(path.join(dataDir, 'hangup')), PORT: String(port), HOST: '127.0.0.1' });
    expect(code, stderr).toBe(0);
    expect(stdout.trim(), 'how the service ended').toBe('-1');
  });

  it('kill -HUP re-reads the tenants file and keeps the service running', async () => {
    const service = await startServiceProcess({ env: embeddedEnv(path.join(dataDir, 'reload')) });
    try {
      service.signal('SIGHUP');
      await service.waitForLog((l) => l.msg === 'SIGHUP: reloading the tenants file', 10_000, 'the reload line');
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await service.stop(20_000);
    }
  });
});

describe('configuration mistakes stop the compiled service with exit code 2, naming the variable', () => {
  it.each([
    ['CLICKHOUSE_URL', 'localhost:8123', /CLICKHOUSE_URL="localhost:8123": expected an http:\/\/ or https:\/\/ URL/],
    ['KAFKA_BROKERS', 'http://x:9092', /KAFKA_BROKERS="http:\/\/x:9092": expected comma-separated host:port pairs .*\(no scheme\)/],
    ['CLICKHOUSE_TTL', 'forever', /CLICKHOUSE_TTL="forever": expected a number and DAY, WEEK, MONTH or YEAR, such as "395 DAY"/],
  ])('%s=%s', async (name, value, message) => {
    const result = await runServiceUntilExit({ [name]: value, DATA_DIR: path.join(dataDir, 'config') });
    expect(result.code, result.stderr + result.stdout).toBe(2);
    expect(result.stderr).toMatch(/^invalid configuration:\n/);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
