// Processor processes (ROLE=processor) that a fault test starts, kills and starts again on the same
// data directory and consumer group, as an orchestrator restarts a crashed container. Each keeps
// every run, so its log lines survive the kills.
import { rm } from 'node:fs/promises';
import { sqlUrl, tempDataDir } from './embedded.ts';
import { nodeHours, type NodeHour, type PodHour } from './expenses.ts';
import { freePort } from './net.ts';
import { finalRows } from './process-logs.ts';
import { startServiceProcess, type LogLine, type ServiceProcess } from './service-process.ts';
import { kafkaAdmin } from './kafka.ts';

export interface ProcessorRuns {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly dataDir: string;
  /** Every process started for it, the current one last. */
  readonly runs: ServiceProcess[];
}

export interface KafkaProcessorOptions {
  brokers: readonly string[];
  topic: string;
  groupId: string;
  /** More environment (overrides the defaults below). */
  env?: Record<string, string>;
}

/**
 * A start-up after a kill waits for the killed member's session (30 s) to expire and for the
 * coordinator's rebalance (up to 60 s for members that do not rejoin), sometimes twice when the
 * previous run was killed while joining; with three fault files sharing two loaded cores the join
 * itself is slow too. Generous, because the tests are about what is stored, not how fast it starts.
 */
export const PROCESSOR_READY_TIMEOUT_MS = 300_000;

/**
 * A processor on its own data directory (created now, removed by removeProcessors). An hour closes
 * 2 min after its end (event time) and settles 10 min later, so with hours of traffic streamed
 * several settle and their records are committed while it runs; the newest hour closes by wall
 * clock 20 s after the stream stops. (Longer than the pauses a fault causes: an hour closed by wall
 * clock during a pause and changed afterwards is never written final again, see
 * test/integration/faults/idle-close-reopened.test.ts; these tests are about other faults.) SQL_PORT 0: each run picks a free port (its start-up line says which).
 */
export function kafkaProcessor(name: string, options: KafkaProcessorOptions): ProcessorRuns {
  const dataDir = tempDataDir(name);
  const env = {
    ROLE: 'processor',
    KAFKA_BROKERS: options.brokers.join(','),
    KAFKA_TOPIC: options.topic,
    KAFKA_GROUP_ID: options.groupId,
    DATA_DIR: dataDir,
    SQL_PORT: '0',
    ...FAULT_HOURS_ENV,
    ...options.env,
  };
  return { name, env, dataDir, runs: [] };
}

/** The hour window of the fault tests' processors (see kafkaProcessor), for a ROLE=all service too. */
export const FAULT_HOURS_ENV: Readonly<Record<string, string>> = { FLUSH_INTERVAL: '500ms', HOUR_GRACE: '2m', LATE_WINDOW: '10m', IDLE_FINALIZE: '20s' };

/** Creates `topic` with `partitions` partitions on `brokers` and starts a receiver (ROLE=receiver) for it. */
export async function kafkaReceiver(brokers: readonly string[], topic: string, partitions: number): Promise<ServiceProcess> {
  const admin = kafkaAdmin(brokers, 'fault-test-admin');
  try {
    await admin.createTopic(topic, partitions);
  } finally {
    await admin.close();
  }
  return startServiceProcess({ env: { ROLE: 'receiver', KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: topic } });
}

/** Starts a new run; with `waitReady` false it returns as soon as the process is spawned. */
export async function startRun(p: ProcessorRuns, waitReady = true): Promise<ServiceProcess> {
  // A port chosen here rather than PORT=0: the handle then needs no start-up line and exists at once.
  const run = await startServiceProcess({ env: { ...p.env, PORT: String(await freePort()) }, waitReady, readyTimeoutMs: PROCESSOR_READY_TIMEOUT_MS });
  p.runs.push(run);
  return run;
}

export function currentRun(p: ProcessorRuns): ServiceProcess {
  const run = p.runs[p.runs.length - 1];
  if (!run) throw new Error(`${p.name} was never started`);
  return run;
}

/** Waits until the current run has caught up and written everything final; its pod-hours. */
export function finalRowsOf(p: ProcessorRuns, timeoutMs?: number): Promise<Map<string, PodHour>> {
  const run = currentRun(p);
  return finalRows(p.name, p.runs, sqlUrl(run), timeoutMs);
}

/** The current run's node-hours (read after finalRowsOf: written in the same writes as the pod-hours). */
export function nodeRowsOf(p: ProcessorRuns): Promise<Map<string, NodeHour>> {
  return nodeHours(sqlUrl(currentRun(p)));
}

/** Stops every run still going and removes the data directories. */
export async function removeProcessors(processors: readonly ProcessorRuns[]): Promise<void> {
  for (const p of processors) {
    for (const run of p.runs) await run.stop(5_000).catch(() => undefined);
    await rm(p.dataDir, { recursive: true, force: true });
  }
}

/** The partitions a 'partitions assigned' log line gives the process (empty for any other line). */
export function assignedPartitions(line: LogLine): number[] {
  return line.msg === 'partitions assigned' && Array.isArray(line.partitions) ? (line.partitions as number[]) : [];
}
