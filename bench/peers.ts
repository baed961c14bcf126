// The receivers we compare ourselves with, both from Debian packages and started fresh (empty
// storage in a temporary directory) for every run:
//   VictoriaMetrics single node: remote write decoded with a zero-allocation protobuf parser, then
//     stored (indexing and compression included).
//   Prometheus with --web.enable-remote-write-receiver: decoded and appended to its TSDB head (WAL).
// Both store the samples; we only publish them (to Kafka, or the embedded log). That is the
// comparison the project cares about: what it costs to take remote write in.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startProcess, waitHttpOk } from './managed-process.ts';

export interface RunningTarget {
  /** Short key for the JSON line, e.g. "victoria_metrics". */
  readonly key: string;
  /** For the table. */
  readonly label: string;
  /** The process whose CPU and memory are measured. */
  readonly pid: number;
  readonly writeUrl: string;
  readonly version: string;
  /** Which runtime's GC metrics its /metrics carries (bench/receiver-metrics.ts). */
  readonly runtime: 'node' | 'go';
  /** CPU-seconds its garbage collector used so far, when the target reports it itself (Go's gctrace). */
  gcCpuSeconds?(): number;
  /** Stops the process and removes its data. */
  stop(): Promise<void>;
}

export const VICTORIA_METRICS_BIN = process.env.VICTORIA_METRICS_BIN ?? '/usr/bin/victoria-metrics';
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

/** The Debian package version (the Debian builds print an empty build version themselves). */
function debianVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Go's GC trace (GODEBUG=gctrace=1): one stderr line per collection, with the CPU it took, e.g.
 * "gc 12 @3.1s 4%: 0.02+1.3+0.01 ms clock, 0.05+0.4/1.1/0.2+0.02 ms cpu, ...". Of the five CPU
 * terms (stop-the-world start, assist / background / idle marking, stop-the-world end) all but
 * idle marking are summed: idle marking fills processors that had nothing else to do, and is
 * counted by the trace per processor whether or not the OS ran it. Whatever the process exposes
 * on /metrics (Prometheus 2.42 has no CPU figure for its GC), this is the same for both peers.
 */
function gcTrace(): { env: NodeJS.ProcessEnv; onStderrLine(line: string): void; cpuSeconds(): number } {
  let ms = 0;
  return {
    env: { ...process.env, GODEBUG: 'gctrace=1' },
    onStderrLine(line) {
      const m = /^gc \d+ @[\d.]+s \d+%: [^,]+, ([\d.]+)\+([\d.]+)\/([\d.]+)\/([\d.]+)\+([\d.]+) ms cpu/.exec(line);
      if (m) ms += Number(m[1]) + Number(m[2]) + Number(m[3]) + Number(m[5]);
    },
    cpuSeconds: () => ms / 1000,
  };
}

export async function startVictoriaMetrics(): Promise<RunningTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-vm-'));
  const port = await freePort();
  const gc = gcTrace();
  const proc = startProcess('victoria-metrics', VICTORIA_METRICS_BIN, [
    `-storageDataPath=${dir}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    // Samples are a couple of hours old at most; the default retention (1 month) keeps them all.
    '-loggerLevel=INFO',
  ], { env: gc.env, onStderrLine: gc.onStderrLine });
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/health`, proc);
  } catch (err) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    key: 'victoria_metrics',
    label: 'VictoriaMetrics',
    pid: proc.pid,
    writeUrl: `http://127.0.0.1:${port}/api/v1/write`,
    version: debianVersion('victoria-metrics'),
    runtime: 'go',
    gcCpuSeconds: gc.cpuSeconds,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startPrometheus(): Promise<RunningTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-prom-'));
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  const gc = gcTrace();
  // Nothing to scrape: the only samples are the ones written to it.
  writeFileSync(config, 'global:\n  scrape_interval: 1m\n');
  const proc = startProcess('prometheus', PROMETHEUS_BIN, [
    '--web.enable-remote-write-receiver',
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--config.file=${config}`,
    '--log.level=info',
  ], { env: gc.env, onStderrLine: gc.onStderrLine });
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/-/ready`, proc);
  } catch (err) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    key: 'prometheus',
    label: 'Prometheus (remote-write receiver)',
    pid: proc.pid,
    writeUrl: `http://127.0.0.1:${port}/api/v1/write`,
    version: debianVersion('prometheus'),
    runtime: 'go',
    gcCpuSeconds: gc.cpuSeconds,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
