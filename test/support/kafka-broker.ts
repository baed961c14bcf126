// A real Kafka broker, or a cluster of them, owned by one test: started, stopped and restarted
// through scripts/kafka-broker.sh, so tests run exactly what developers run with
// `npm run kafka:start`.
//
// Most tests should use the shared broker instead (see testBrokers() in ./env.ts); this is for a
// test that must stop, kill or restart its brokers without disturbing the others.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'kafka-broker.sh');

// Covers a cold classpath download (the first run on a machine) as well as the script's own
// 90 s readiness limit.
const START_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 60_000;

export interface BrokerOptions {
  /** Client port on 127.0.0.1; the KRaft controller takes port + 100. */
  port: number;
  /** Data directory; relative paths are relative to the project root. Default: data/kafka-broker-<port>. */
  dir?: string;
  /** Wipe the directory before the first start. */
  fresh?: boolean;
}

export interface BrokerHandle {
  readonly port: number;
  /** Absolute data directory. */
  readonly dir: string;
  /** Bootstrap list for a Kafka client, e.g. ['127.0.0.1:19092']. */
  readonly brokers: string[];
  /** Starts the broker again on the same directory, keeping topics and committed offsets. */
  start(): Promise<void>;
  /** Stops the broker (clean shutdown); does nothing when it is not running. */
  stop(): Promise<void>;
}

async function runScript(args: string[], timeout: number): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', [SCRIPT, ...args], {
      cwd: PROJECT_ROOT,
      timeout,
      killSignal: 'SIGKILL',
      maxBuffer: 4 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const output = [e.stdout, e.stderr].filter((s) => s && s.trim()).join('\n');
    throw new Error(`scripts/kafka-broker.sh ${args.join(' ')} failed: ${e.message}\n${output}`, { cause: err });
  }
}

export async function startBroker(options: BrokerOptions): Promise<BrokerHandle> {
  const { port } = options;
  const dir = path.resolve(PROJECT_ROOT, options.dir ?? `data/kafka-broker-${port}`);
  const where = ['--port', String(port), '--dir', dir];

  const handle: BrokerHandle = {
    port,
    dir,
    brokers: [`127.0.0.1:${port}`],
    start: async () => {
      await runScript(['start', ...where], START_TIMEOUT_MS);
    },
    stop: async () => {
      await runScript(['stop', ...where], STOP_TIMEOUT_MS);
    },
  };

  await runScript(['start', ...where, ...(options.fresh ? ['--fresh'] : [])], START_TIMEOUT_MS);
  return handle;
}

export async function stopBroker(handle: BrokerHandle): Promise<void> {
  await handle.stop();
}

export interface ClusterOptions {
  /** Client port of node 1; node i listens on port + i - 1, its controller on port + 100 + i - 1. */
  port: number;
  /** Number of nodes (each a combined broker and controller). */
  brokers: number;
  /** Data directory; relative paths are relative to the project root. Default: data/kafka-cluster-<port>. */
  dir?: string;
  /** Wipe the directory before the first start. */
  fresh?: boolean;
}

export interface ClusterNode {
  /** Kafka's node.id, 1-based. */
  readonly id: number;
  readonly port: number;
  /** e.g. '127.0.0.1:19693' */
  readonly address: string;
  /** The JVM's pid while the node runs. */
  pid(): Promise<number | undefined>;
  /** SIGKILL, as a crashed machine: nothing is flushed. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts this node again on its directory (it rejoins the cluster). */
  start(): Promise<void>;
  /** Clean shutdown of this node only. */
  stop(): Promise<void>;
}

export interface ClusterHandle {
  /** Absolute data directory (node i in dir/node-i). */
  readonly dir: string;
  /** Bootstrap list with every node. */
  readonly brokers: string[];
  readonly nodes: readonly ClusterNode[];
  /** Stops every node. */
  stop(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a KRaft cluster of `brokers` nodes on 127.0.0.1 and waits until every node serves requests. */
export async function startCluster(options: ClusterOptions): Promise<ClusterHandle> {
  const dir = path.resolve(PROJECT_ROOT, options.dir ?? `data/kafka-cluster-${options.port}`);
  const where = ['--brokers', String(options.brokers), '--port', String(options.port), '--dir', dir];
  const nodes = Array.from({ length: options.brokers }, (_, i): ClusterNode => {
    const id = i + 1;
    const port = options.port + i;
    const pid = async (): Promise<number | undefined> => {
      const text = await readFile(path.join(dir, `node-${id}`, 'broker.pid'), 'utf8').catch(() => '');
      const value = Number(text.trim());
      return Number.isInteger(value) && value > 0 && processAlive(value) ? value : undefined;
    };
    return {
      id,
      port,
      address: `127.0.0.1:${port}`,
      pid,
      async kill() {
        const running = await pid();
        if (running === undefined) return;
        process.kill(running, 'SIGKILL');
        const deadline = Date.now() + 30_000;
        while (processAlive(running)) {
          if (Date.now() > deadline) throw new Error(`node ${id} (pid ${running}) still alive 30 s after SIGKILL`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      start: async () => {
        await runScript(['start', ...where, '--node', String(id)], START_TIMEOUT_MS);
      },
      stop: async () => {
        await runScript(['stop', ...where, '--node', String(id)], STOP_TIMEOUT_MS);
      },
    };
  });
  await runScript(['start', ...where, ...(options.fresh ? ['--fresh'] : [])], START_TIMEOUT_MS);
  return {
    dir,
    brokers: nodes.map((n) => n.address),
    nodes,
    stop: async () => {
      await runScript(['stop', ...where], STOP_TIMEOUT_MS);
    },
  };
}
