// Our receiver as a process of its own for bench/receiver.ts: the compiled service
// (`node dist/service/main.js`, built first when the sources are newer, as `npm start` does) in
// Kafka mode or embedded mode, or the embedded receiver alone; plus the broker it publishes to.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { SERVICE_ARGS, SERVICE_NODE_FLAGS } from '../service/node-flags.ts';
import { freePort, portOpen, startProcess, waitHttpOk } from './managed-process.ts';
import type { RunningTarget } from './peers.ts';
import { pidListeningOn } from './proc-stats.ts';

const run = promisify(execFile);

export type OursKind = 'kafka' | 'embedded_all' | 'embedded_receiver';

export const OURS_LABEL: Record<OursKind, string> = {
  kafka: 'ours, Kafka (ROLE=receiver)',
  embedded_all: 'ours, embedded (npm start: +processor)',
  embedded_receiver: 'ours, embedded log, receiver side only',
};

export interface StartedOurs extends RunningTarget {
  profileDir?: string;
  /** Error lines it logged (pino levels 50 and 60), from the tail of its output. */
  logErrors(): string[];
}

export interface OursOptions {
  /** Checkout whose dist/ runs (the project, or another one for A/B comparisons). */
  root: string;
  broker: string;
  tenantHeader: string;
  env: Record<string, string>;
  nodeArgs: readonly string[];
  cpuProf: boolean;
}

/** Builds dist/ in `root` when its sources are newer (scripts/build.mjs --if-stale), once per run. */
export async function buildOurs(root: string): Promise<void> {
  const { stderr } = await run(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, timeout: 600_000 });
  if (stderr.trim()) console.log(`  ${stderr.trim().split('\n').join('\n  ')}`);
}

export async function startOurs(kind: OursKind, runIndex: number, o: OursOptions, topics: string[]): Promise<StartedOurs> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-receiver-'));
  const profileDir = o.cpuProf ? mkdtempSync(path.join(os.tmpdir(), 'bench-receiver-prof-')) : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    TENANT_HEADER: o.tenantHeader,
  };
  // The compiled service, as production runs it (with the Node options npm start and the image
  // pass); the receiver-only variant exists only as a bench script.
  let args: readonly string[] = SERVICE_ARGS;
  if (kind === 'kafka') {
    const topic = `bench-receiver-${Date.now()}-${runIndex}`;
    topics.push(topic);
    Object.assign(env, { ROLE: 'receiver', KAFKA_BROKERS: o.broker, KAFKA_TOPIC: topic });
  } else if (kind === 'embedded_all') {
    Object.assign(env, { SQL_PORT: String(await freePort()) });
  } else {
    args = [...SERVICE_NODE_FLAGS, '--import', 'tsx', 'bench/embedded-receiver.ts'];
  }
  Object.assign(env, o.env);
  const nodeArgs = [...o.nodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const proc = startProcess(OURS_LABEL[kind], process.execPath, [...nodeArgs, ...args], { cwd: o.root, env });
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/ready`, proc, 120_000);
  } catch (err) {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    key: `ours_${kind}`,
    label: OURS_LABEL[kind],
    pid: proc.pid,
    writeUrl: `http://127.0.0.1:${port}/api/v1/write`,
    version: kind === 'embedded_receiver' ? 'working tree (tsx)' : 'working tree (dist/)',
    runtime: 'node',
    profileDir,
    logErrors: () => proc.output().split('\n').filter((l) => /"level":(5|6)\d/.test(l)),
    async stop() {
      // npm start (ROLE=all) drains the processor (flushes to the embedded ClickHouse) before it exits.
      await proc.stop(120_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Broker {
  pid?: number;
  startedHere: boolean;
  stop(): Promise<void>;
}

/** The broker on `hostPort`, or one started for the benchmark (and stopped at the end) when none answers. */
export async function ensureBroker(hostPort: string, root: string): Promise<Broker> {
  const [host, portText] = hostPort.split(':');
  const port = Number(portText);
  if (await portOpen(port)) {
    const pid = host === '127.0.0.1' || host === 'localhost' ? pidListeningOn(port) : undefined;
    console.log(`  broker: using the one already listening on ${hostPort}${pid ? ` (pid ${pid})` : ''}; other users of it add to its CPU figure`);
    return { pid, startedHere: false, stop: async () => undefined };
  }
  if (host !== '127.0.0.1') throw new Error(`nothing listens on ${hostPort} and only a local broker can be started`);
  const dir = `data/bench-kafka-${port}`;
  console.log(`  broker: nothing on ${hostPort}; starting one (scripts/kafka-broker.sh start --fresh --port ${port} --dir ${dir}) ...`);
  await run('bash', ['scripts/kafka-broker.sh', 'start', '--fresh', '--port', String(port), '--dir', dir], { cwd: root });
  const pidFile = path.join(root, dir, 'broker.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : pidListeningOn(port);
  console.log(`  broker: started (pid ${pid}); it is stopped at the end`);
  return {
    pid,
    startedHere: true,
    async stop() {
      await run('bash', ['scripts/kafka-broker.sh', 'stop', '--port', String(port), '--dir', dir], { cwd: root });
      rmSync(path.join(root, dir), { recursive: true, force: true });
    },
  };
}

export async function deleteTopics(broker: string, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Admin(createKafka({ brokers: [broker], clientId: 'bench-receiver', requestTimeoutMs: 10_000, retries: 1 }).options());
  try {
    await admin.deleteTopics({ topics });
  } catch (err) {
    // A receiver that never started never created its topic.
    if (!/does not host this topic-partition|UNKNOWN_TOPIC/i.test((err as Error).message)) {
      console.log(`  (could not delete the benchmark topics ${topics.join(', ')}: ${(err as Error).message})`);
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}
