// A real Kafka broker owned by one test: started, stopped and restarted through
// scripts/kafka-broker.sh, so tests run exactly what developers run with `npm run kafka:start`.
//
// Most tests should use the shared broker instead (see testBrokers() in ./env.ts); this is for a
// test that must stop or restart its broker without disturbing the others.
import { execFile } from 'node:child_process';
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
  /** Client port on 127.0.0.1; the KRaft controller takes port + 1. */
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
