// What bench/receiver.ts prints: one paragraph per run, then the summary table (medians over
// rounds), ours relative to each peer (medians of the ratios within each round, so a change of
// machine load between rounds cancels out), the targets, and one JSON line with every figure.
import type { RunResult } from './receiver-measure.ts';

export interface TargetFigures {
  key: string;
  label: string;
  version: string;
  runs: RunResult[];
}

export interface ReportContext {
  decode?: { decodePerCore: number; decodeAndRecordsPerCore: number };
  mode: 'kafka' | 'embedded' | 'peers';
  cores: number;
  env: Record<string, string>;
  nodeArgs: readonly string[];
  receiverRoot: string | null;
  load: Record<string, number>;
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number | undefined, digits = 0) => (x !== undefined && Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);
const fmtInt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const fix = (x: number | undefined, digits: number) => (x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : '-');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '-');

export function printRun(label: string, r: RunResult): void {
  const bad = Object.entries(r.statuses).filter(([s]) => !s.startsWith('2'));
  console.log(
    `  ${label}: ${fmtInt(r.samplesPerSec)} samples/s over ${r.seconds.toFixed(1)} s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, ` +
      `${r.cpuSecondsPerMillion.toFixed(2)} CPU-s/M (${r.cpuSecondsPerMillionWindow.toFixed(2)} in the window at ${r.cores.toFixed(2)} cores, the rest in ${r.tailSeconds.toFixed(1)} s after it), ` +
      `GC ${pct(r.gcShare)}, peak RSS ${r.peakRssMB.toFixed(0)} MB; load generator ${r.loadgenCpuSecondsPerMillion.toFixed(2)} CPU-s/M` +
      (r.brokerCpuSecondsPerMillion !== undefined ? `, broker ${r.brokerCpuSecondsPerMillion.toFixed(2)} CPU-s/M` : '') +
      `, other processes ${r.otherCores.toFixed(2)} cores, load average ${r.loadAverage.toFixed(1)}` +
      (bad.length ? `; NON-2xx: ${JSON.stringify(Object.fromEntries(bad))} e.g. ${r.failures[0]}` : '') +
      (r.wrapped ? '; (bodies were re-sent: not enough distinct requests)' : ''),
  );
  console.log(`    receiver threads (CPU-s in window): ${Object.entries(r.threads).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (r.heap) console.log(`    receiver memory at the end (MB, from its /metrics): ${Object.entries(r.heap).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  if (r.processor) {
    const share = r.processor.consumed / r.processor.published;
    console.log(
      `    processor (same process): consumed ${fmtInt(r.processor.consumed)} of the ${fmtInt(r.processor.published)} samples published by the end of the window (${(share * 100).toFixed(0)}%)` +
        (share < 0.5 ? ' - it fell far behind or stopped, so this row does NOT show the cost of receiver + processor' : ''),
    );
  }
  if (r.errors?.length) console.log(`    the receiver logged ${r.errors.length} error line(s) over its life (start-up included); last: ${r.errors[r.errors.length - 1].slice(0, 300)}`);
}

interface Medians {
  samplesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuSecondsPerMillion: number;
  cpuSecondsPerMillionWindow: number;
  cores: number;
  peakRssMB: number;
  gcShare: number;
  loadgenCpuSecondsPerMillion: number;
  brokerCpuSecondsPerMillion: number;
  otherCores: number;
  loadAverage: number;
}

function medians(runs: RunResult[]): Medians {
  const med = (f: (r: RunResult) => number | undefined) => median(runs.map((r) => f(r) ?? NaN));
  return {
    samplesPerSec: med((r) => r.samplesPerSec),
    p50Ms: med((r) => r.p50Ms),
    p99Ms: med((r) => r.p99Ms),
    cpuSecondsPerMillion: med((r) => r.cpuSecondsPerMillion),
    cpuSecondsPerMillionWindow: med((r) => r.cpuSecondsPerMillionWindow),
    cores: med((r) => r.cores),
    peakRssMB: med((r) => r.peakRssMB),
    gcShare: med((r) => r.gcShare),
    loadgenCpuSecondsPerMillion: med((r) => r.loadgenCpuSecondsPerMillion),
    brokerCpuSecondsPerMillion: med((r) => r.brokerCpuSecondsPerMillion),
    otherCores: med((r) => r.otherCores),
    loadAverage: med((r) => r.loadAverage),
  };
}

interface Ratio {
  samples_per_s: number;
  cpu_per_sample: number;
  peak_rss: number;
  p99: number;
}

/** Medians over rounds of ours / peer within the same round. */
function ratioOf(o: TargetFigures, p: TargetFigures): Ratio {
  const rounds = Math.min(o.runs.length, p.runs.length);
  const per = (f: (r: RunResult) => number) => median(Array.from({ length: rounds }, (_, i) => f(o.runs[i]) / f(p.runs[i])));
  return {
    samples_per_s: per((r) => r.samplesPerSec),
    cpu_per_sample: per((r) => r.cpuSecondsPerMillion),
    peak_rss: per((r) => r.peakRssMB),
    p99: per((r) => r.p99Ms),
  };
}

export function printReport(targets: TargetFigures[], ctx: ReportContext): void {
  const rounds = Math.max(...targets.map((t) => t.runs.length));
  const m = new Map(targets.map((t) => [t.key, medians(t.runs)]));
  console.log('');
  console.log(
    `summary (${rounds > 1 ? `median of ${rounds} rounds` : 'one round'}; receiver CPU from /proc, every thread, the measured window plus the work done after ` +
      `the last answer until idle; broker CPU separately; GC: ours main-thread GC pauses / main-thread CPU, Go peers GC CPU from gctrace / process CPU; ` +
      `load generator and broker share the same ${ctx.cores} cores):`,
  );
  const header = ['target', 'samples/s', 'CPU-s/M', '(window)', 'broker CPU-s/M', 'p50 ms', 'p99 ms', 'peak RSS', 'GC', 'cores', 'loadgen CPU-s/M', 'others', 'load avg'];
  const widths = [44, 11, 9, 10, 16, 8, 8, 10, 6, 7, 17, 8, 10];
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('');
  console.log(row(header));
  for (const t of targets) {
    const x = m.get(t.key)!;
    console.log(
      row([
        t.label.slice(0, widths[0] - 1),
        fmtInt(x.samplesPerSec),
        fix(x.cpuSecondsPerMillion, 2),
        fix(x.cpuSecondsPerMillionWindow, 2),
        fix(x.brokerCpuSecondsPerMillion, 2),
        fix(x.p50Ms, 1),
        fix(x.p99Ms, 1),
        `${fix(x.peakRssMB, 0)} MB`,
        pct(x.gcShare),
        fix(x.cores, 2),
        fix(x.loadgenCpuSecondsPerMillion, 2),
        fix(x.otherCores, 2),
        fix(x.loadAverage, 1),
      ]),
    );
  }

  const ours = targets.filter((t) => t.key.startsWith('ours_'));
  const peers = targets.filter((t) => !t.key.startsWith('ours_'));
  const ratios: Record<string, Record<string, Record<keyof Ratio, number | null>>> = {};
  if (ours.length && peers.length) {
    console.log('');
    console.log('ours / peer, median of the ratios within each round (samples/s: above 1 is better; CPU per sample, peak RSS, p99: below 1 is better):');
    for (const o of ours) {
      ratios[o.key] = {};
      for (const p of peers) {
        const r = ratioOf(o, p);
        ratios[o.key][p.key] = { samples_per_s: round(r.samples_per_s, 2), cpu_per_sample: round(r.cpu_per_sample, 2), peak_rss: round(r.peak_rss, 2), p99: round(r.p99, 2) };
        console.log(`  ${o.label} vs ${p.label}: samples/s x${fix(r.samples_per_s, 2)}, CPU per sample x${fix(r.cpu_per_sample, 2)}, peak RSS x${fix(r.peak_rss, 2)}, p99 x${fix(r.p99, 2)}`);
      }
    }
  }

  const goals: Record<string, boolean | null> = {};
  console.log('');
  console.log('targets:');
  if (ctx.decode) {
    goals.decode_1m_per_core = ctx.decode.decodePerCore >= 1_000_000;
    console.log(
      `  decode >= 1,000,000 samples/s per core: ${fmtInt(ctx.decode.decodePerCore)} ${goals.decode_1m_per_core ? 'MET' : 'NOT MET'} ` +
        `(decode + records: ${fmtInt(ctx.decode.decodeAndRecordsPerCore)} samples/s per core)`,
    );
  }
  const vm = peers.find((p) => p.key === 'victoria_metrics');
  const kafka = ours.find((o) => o.key === 'ours_kafka');
  if (vm && kafka) {
    const r = ratioOf(kafka, vm);
    goals.kafka_rate_at_least_victoria_metrics = r.samples_per_s >= 1;
    goals.kafka_cpu_per_sample_at_most_victoria_metrics = r.cpu_per_sample <= 1;
    console.log(`  ours in Kafka mode >= VictoriaMetrics' rate in the same round: x${fix(r.samples_per_s, 2)} ${goals.kafka_rate_at_least_victoria_metrics ? 'MET' : 'NOT MET'}`);
    console.log(
      `  ours in Kafka mode <= VictoriaMetrics' CPU per sample: x${fix(r.cpu_per_sample, 2)} (${fix(m.get(kafka.key)!.cpuSecondsPerMillion, 2)} vs ${fix(m.get(vm.key)!.cpuSecondsPerMillion, 2)} CPU-s/M; ` +
        `the broker adds ${fix(m.get(kafka.key)!.brokerCpuSecondsPerMillion, 2)}) ${goals.kafka_cpu_per_sample_at_most_victoria_metrics ? 'MET' : 'NOT MET'}`,
    );
  }
  const embedded = ours.find((o) => o.key === 'ours_embedded_all');
  if (embedded) {
    const stopped = embedded.runs.some((r) => (r.errors ?? []).some((l) => /consumer stopped/.test(l)));
    const rate = m.get(embedded.key)!.samplesPerSec;
    goals.embedded_600k_per_s = stopped ? null : rate >= 600_000;
    console.log(
      `  ours embedded (npm start) >= 600,000 samples/s acknowledged: ${fmtInt(rate)} ` +
        (stopped ? "NOT MEASURABLE (the processor's consumer stopped during a run)" : goals.embedded_600k_per_s ? 'MET' : 'NOT MET'),
    );
  }
  const busy = targets.filter((t) => m.get(t.key)!.otherCores > 0.1);
  if (busy.length) {
    console.log(
      `  note: other processes used CPU during ${busy.map((t) => `${t.label} (${m.get(t.key)!.otherCores.toFixed(2)} cores)`).join(', ')}: ` +
        'the machine was not quiet, rates are pessimistic; CPU per sample and the ratios within a round are the firmer figures',
    );
  }

  const json = (t: TargetFigures) => {
    const x = m.get(t.key)!;
    return {
      label: t.label,
      version: t.version,
      runs: t.runs.length,
      samples_per_s: round(x.samplesPerSec),
      p50_ms: round(x.p50Ms, 1),
      p99_ms: round(x.p99Ms, 1),
      cpu_seconds_per_million_samples: round(x.cpuSecondsPerMillion, 3),
      cpu_seconds_per_million_samples_window_only: round(x.cpuSecondsPerMillionWindow, 3),
      broker_cpu_seconds_per_million_samples: round(x.brokerCpuSecondsPerMillion, 3),
      gc_share: round(x.gcShare, 3),
      cores: round(x.cores, 2),
      peak_rss_mb: round(x.peakRssMB, 1),
      loadgen_cpu_seconds_per_million_samples: round(x.loadgenCpuSecondsPerMillion, 3),
      other_processes_cores: round(x.otherCores, 2),
      load_average: round(x.loadAverage, 1),
      non_2xx: t.runs.reduce((n, r) => n + Object.entries(r.statuses).filter(([s]) => !s.startsWith('2')).reduce((a, [, c]) => a + c, 0), 0),
      samples_per_s_runs: t.runs.map((r) => round(r.samplesPerSec)),
      cpu_seconds_per_million_samples_runs: t.runs.map((r) => round(r.cpuSecondsPerMillion, 3)),
      ...(t.runs.some((r) => r.processor)
        ? { processor_consumed_share: t.runs.map((r) => (r.processor ? round(r.processor.consumed / r.processor.published, 2) : null)) }
        : {}),
      ...(t.runs[0]?.profile ? { profile_areas_self_pct: Object.fromEntries(t.runs[0].profile.areasSelf.slice(0, 14).map((a) => [a.area, a.pct])) } : {}),
    };
  };
  console.log(
    JSON.stringify({
      bench: 'receiver',
      mode: ctx.mode,
      node: process.version,
      cores: ctx.cores,
      env: ctx.env,
      node_args: ctx.nodeArgs,
      receiver_root: ctx.receiverRoot,
      load: ctx.load,
      decode: ctx.decode ? { decode_samples_per_s_per_core: round(ctx.decode.decodePerCore), decode_and_records_samples_per_s_per_core: round(ctx.decode.decodeAndRecordsPerCore) } : null,
      targets: Object.fromEntries(targets.map((t) => [t.key, json(t)])),
      ratios,
      goals,
    }),
  );
}
