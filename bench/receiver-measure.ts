// One measured run of bench/receiver.ts against one running receiver: warm-up, then the measured
// window, then the receiver's CPU followed until it goes idle (work deferred past the last answer,
// such as VictoriaMetrics' background merges or our processor catching up, counts too).
import os from 'node:os';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { summariseProfile, type ProfileSummary } from './cpu-profile.ts';
import { LoadClient, quantile, type LoadBody } from './load-client.ts';
import type { RunningTarget } from './peers.ts';
import { machineCpu, processCpuSeconds, processMemory, threadCpuDelta, threadCpuSeconds } from './proc-stats.ts';
import { fetchMetrics, nodeGcSeconds, oursMetrics } from './receiver-metrics.ts';
import type { StartedOurs } from './receiver-targets.ts';

const MB = 1024 * 1024;
const TAIL_MAX_SECONDS = 15;

export interface LoadPlan {
  bodies: readonly LoadBody[];
  tenantHeader: string;
  concurrency: number;
  warmupSamples: number;
  warmupSeconds: number;
  measureSamples: number;
  measureSeconds: number;
}

export interface RunResult {
  samplesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Receiver CPU over the measured window plus the tail after it, per million 2xx samples. */
  cpuSecondsPerMillion: number;
  /** The same over the measured window only. */
  cpuSecondsPerMillionWindow: number;
  /** How long the target kept working after the last answer. */
  tailSeconds: number;
  /** Receiver CPU-seconds per second of the window: cores in use. */
  cores: number;
  peakRssMB: number;
  /**
   * Garbage collection in the window: ours, the main thread's GC pauses over its CPU time; a Go
   * peer, its GC's CPU (gctrace) over the process' CPU. NaN when unknown.
   */
  gcShare: number;
  loadgenCpuSecondsPerMillion: number;
  brokerCpuSecondsPerMillion: number | undefined;
  /** Cores busy with processes other than the receiver, this load generator and the broker. */
  otherCores: number;
  /** 1-minute load average when the window ended. */
  loadAverage: number;
  okSamples: number;
  seconds: number;
  requests: number;
  statuses: Record<string, number>;
  failures: string[];
  wrapped: boolean;
  threads: Record<string, number>;
  /** Our receiver's own view of its memory at the end of the window (prom-client default metrics), MB. */
  heap?: Record<string, number>;
  /** npm start: samples published by the receiver and consumed by the processor by the end of the window (warm-up included). */
  processor?: { published: number; consumed: number };
  /** Error lines the receiver logged over its life. */
  errors?: string[];
  /** The measured window in CLOCK_MONOTONIC microseconds (the clock of V8's CPU profiles). */
  windowUs: [number, number];
  profile?: ProfileSummary;
}

export async function measureRun(target: StartedOurs | RunningTarget, plan: LoadPlan, brokerPid: number | undefined): Promise<RunResult> {
  const client = new LoadClient({ writeUrl: target.writeUrl, tenantHeader: plan.tenantHeader }, plan.bodies, plan.concurrency);
  let result: RunResult;
  try {
    const warm = await client.run({ concurrency: plan.concurrency, startIndex: 0, maxSamples: plan.warmupSamples, maxSeconds: plan.warmupSeconds });
    if (warm.okRequests === 0) throw new Error(`${target.label}: no 2xx answer during the warm-up: ${JSON.stringify(warm.statuses)} ${warm.failures.join(' | ')}`);

    const gcNow = async (text?: string) => (target.gcCpuSeconds ? target.gcCpuSeconds() : nodeGcSeconds(text ?? (await fetchMetrics(target.writeUrl))));
    const gc0 = await gcNow();
    const cpu0 = processCpuSeconds(target.pid)!;
    const threads0 = threadCpuSeconds(target.pid);
    const broker0 = brokerPid ? processCpuSeconds(brokerPid) : undefined;
    const self0 = process.cpuUsage();
    const machine0 = machineCpu();
    const t0 = process.hrtime.bigint();

    const m = await client.run({ concurrency: plan.concurrency, startIndex: warm.nextIndex, maxSamples: plan.measureSamples, maxSeconds: plan.measureSeconds });

    const t1 = process.hrtime.bigint();
    const cpu1 = processCpuSeconds(target.pid)!;
    const threads1 = threadCpuSeconds(target.pid);
    const broker1 = brokerPid ? processCpuSeconds(brokerPid) : undefined;
    const self1 = process.cpuUsage(self0);
    const machine1 = machineCpu();
    const [loadAverage] = os.loadavg();
    const text = await fetchMetrics(target.writeUrl);
    const gc1 = await gcNow(text);
    const metrics = target.key.startsWith('ours_') ? oursMetrics(text) : undefined;

    // Followed until the target uses under 5% of a core over half a second, for at most TAIL_MAX_SECONDS.
    const tailStart = performance.now();
    let last = processCpuSeconds(target.pid) ?? cpu1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const now = processCpuSeconds(target.pid) ?? last;
      const used = now - last;
      last = now;
      if (used < 0.025 || performance.now() - tailStart > TAIL_MAX_SECONDS * 1000) break;
    }
    const tailSeconds = (performance.now() - tailStart) / 1000;
    const tailCpu = last - cpu1;
    const mem = processMemory(target.pid);

    const wall = Number(t1 - t0) / 1e9;
    const millions = m.okSamples / 1e6;
    const receiverCpu = cpu1 - cpu0;
    const selfCpu = (self1.user + self1.system) / 1e6;
    const brokerCpu = broker0 !== undefined && broker1 !== undefined ? broker1 - broker0 : undefined;
    const busy = machine1.busy - machine0.busy;
    const threads = threadCpuDelta(threads0, threads1);
    const mainCpu = threads['main thread'] ?? NaN;
    result = {
      samplesPerSec: m.okSamples / m.seconds,
      p50Ms: quantile(m.latenciesMs, 0.5),
      p99Ms: quantile(m.latenciesMs, 0.99),
      cpuSecondsPerMillion: (receiverCpu + tailCpu) / millions,
      cpuSecondsPerMillionWindow: receiverCpu / millions,
      tailSeconds,
      cores: receiverCpu / wall,
      peakRssMB: (mem?.peakRssBytes ?? NaN) / MB,
      gcShare: (gc1 - gc0) / (target.runtime === 'node' ? mainCpu : receiverCpu),
      loadgenCpuSecondsPerMillion: selfCpu / millions,
      brokerCpuSecondsPerMillion: brokerCpu === undefined ? undefined : brokerCpu / millions,
      otherCores: Math.max(0, (busy - receiverCpu - selfCpu - (brokerCpu ?? 0)) / wall),
      loadAverage,
      okSamples: m.okSamples,
      seconds: m.seconds,
      requests: m.requests,
      statuses: m.statuses,
      failures: m.failures,
      wrapped: m.wrapped,
      threads: Object.fromEntries(
        Object.entries(threads)
          .filter(([, s]) => s > 0.005)
          .sort((a, b) => b[1] - a[1])
          .map(([k, s]) => [k, Math.round(s * 100) / 100]),
      ),
      windowUs: [Number(t0 / 1000n), Number(t1 / 1000n)],
      heap: metrics?.memory,
      processor: metrics && Number.isFinite(metrics.consumed) ? { published: metrics.published, consumed: metrics.consumed } : undefined,
    };
  } finally {
    client.close();
    await target.stop();
  }
  const ours = target as Partial<StartedOurs>;
  result.errors = ours.logErrors?.();
  if (ours.profileDir) {
    // The main thread's profile is CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile (thread id 0); a
    // tsx loader thread, when there is one, writes its own.
    const files = readdirSync(ours.profileDir).filter((f) => f.endsWith('.cpuprofile'));
    const file = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
    if (file) {
      const [from, to] = result.windowUs;
      result.profile = summariseProfile(path.join(ours.profileDir, file), from, to);
      console.log(`    cpu profile kept in ${path.join(ours.profileDir, file)}`);
    } else {
      console.log(`    no .cpuprofile was written in ${ours.profileDir} (the process did not exit cleanly?)`);
    }
  }
  return result;
}
