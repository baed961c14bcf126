// What an expensive user query costs ingest: the compiled service in its default mode (embedded log,
// embedded engine) under steady remote-write traffic, FLUSH_INTERVAL=1s, while the SQL endpoint runs
// (1) a CPU-bound query of about 10 s alone and (2) a groupArray query of several GiB. Printed per
// phase (baseline, cpu query, memory query): the flushes that completed and the longest time
// without one (k8s_expenses_processor_flush_duration_seconds_count sampled every 100 ms: a flush
// waiting behind a query shows as a gap as long as the wait, one second being the norm), the
// slowest remote-write acknowledgement, the service's largest RSS, and the query's answer and time.
//
//   npm run bench:read-isolation
//   BENCH_QUERY_K=55000 BENCH_MEMORY_K=8000 npm run bench:read-isolation
//
// K sets the size of each query: the CPU query hashes K x K pairs, the memory query collects
// BENCH_MEMORY_K x BENCH_MEMORY_K strings. Figures depend on the machine and its load.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_ARGS } from '../service/node-flags.ts';
import { kubecostRequests, type KubecostRequest } from './kubecost-traffic.ts';
import { freePort, startProcess, stopAll, waitHttpOk } from './managed-process.ts';
import { processMemory } from './proc-stats.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'bench-read-isolation-token';
const QUERY_K = Number(process.env.BENCH_QUERY_K ?? 55_000);
const MEMORY_K = Number(process.env.BENCH_MEMORY_K ?? 8_000);
const numbers = (k: number, name: string) => `(SELECT arrayJoin(range(${k})) AS ${name} FROM k8s_expenses LIMIT ${k})`;
const CPU_QUERY = `SELECT sum(cityHash64(a.x, b.y)) AS h FROM ${numbers(QUERY_K, 'x')} AS a, ${numbers(QUERY_K, 'y')} AS b`;
const MEMORY_QUERY = `SELECT length(groupArray(concat(toString(a.x), '-', toString(b.y)))) AS n FROM ${numbers(MEMORY_K, 'x')} AS a, ${numbers(MEMORY_K, 'y')} AS b`;

interface Phase {
  name: string;
  started: number;
  /** When each flush was seen completed (ms). */
  flushes: number[];
  slowestWriteMs: number;
  maxRssBytes: number;
  query?: { ms: number; status: number; answer: string };
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'k8s-expenses-read-isolation-'));
  const port = await freePort();
  const sqlPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess('service', process.execPath, SERVICE_ARGS, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), SQL_PORT: String(sqlPort), SQL_TOKEN: TOKEN, FLUSH_INTERVAL: '1s', LOG_LEVEL: 'warn' },
  });
  const phases: Phase[] = [];
  let current: Phase = { name: 'warm-up', started: Date.now(), flushes: [], slowestWriteMs: 0, maxRssBytes: 0 };
  let running = true;
  try {
    await waitHttpOk(`${url}/ready`, proc, 120_000);

    // One scrape a second of two clusters, timestamped as sent.
    const sender = (async () => {
      for (let scrape = 0; running; scrape++) {
        const due = Date.now();
        const requests: KubecostRequest[] = [...kubecostRequests({ seed: 5, tenants: 2, seriesPerTenant: 400, samplesPerRequest: 400, startMs: due, scrapes: 1 })];
        for (const r of requests) {
          const started = performance.now();
          const res = await fetch(`${url}/api/v1/write`, {
            method: 'POST',
            headers: { 'content-type': r.contentType, 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0', 'cloud-account-id': r.tenant },
            body: new Uint8Array(r.body),
          });
          await res.arrayBuffer();
          current.slowestWriteMs = Math.max(current.slowestWriteMs, performance.now() - started);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, due + 1000 - Date.now())));
      }
    })();

    // When flushes complete, from the histogram's count.
    let lastCount = 0;
    const sampler = setInterval(() => {
      void fetch(`${url}/metrics`)
        .then((r) => r.text())
        .then((text) => {
          const count = metric(text, 'k8s_expenses_processor_flush_duration_seconds_count');
          for (let i = lastCount; i < count; i++) current.flushes.push(Date.now());
          lastCount = count;
        })
        .catch(() => undefined);
      current.maxRssBytes = Math.max(current.maxRssBytes, processMemory(proc.pid)?.rssBytes ?? 0);
    }, 100);

    // A phase lasts minMs, and 3 s past its query: a flush the query held up ends within it.
    const phase = async (name: string, work: () => Promise<Phase['query'] | void>, minMs: number) => {
      const started = Date.now();
      current = { name, started, flushes: [], slowestWriteMs: 0, maxRssBytes: 0 };
      const query = await work();
      await new Promise((r) => setTimeout(r, Math.max(query ? 3000 : 0, started + minMs - Date.now())));
      if (query) current.query = query;
      current.flushes.push(Date.now());
      current.flushes.unshift(started);
      phases.push(current);
      process.stderr.write(`${name} done\n`);
    };
    const sql = async (text: string) => {
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${sqlPort}/query?format=TSV`, { method: 'POST', body: text, headers: { authorization: `Bearer ${TOKEN}` } });
      const answer = (await res.text()).trim().slice(0, 160);
      return { ms: Math.round(performance.now() - started), status: res.status, answer };
    };

    await phase('warm-up', async () => undefined, 15_000);
    phases.pop();
    await phase('baseline', async () => undefined, 10_000);
    await phase('cpu query', () => sql(CPU_QUERY), 12_000);
    await phase('memory query', () => sql(MEMORY_QUERY), 12_000);
    clearInterval(sampler);
    running = false;
    await sender;
  } finally {
    running = false;
    await proc.stop(20_000);
    rmSync(dataDir, { recursive: true, force: true });
  }

  const gib = (b: number) => (b / 1024 ** 3).toFixed(2);
  // The phase's start and end bound the first and last gap.
  const longestGap = (times: number[]) => Math.max(...times.slice(1).map((t, i) => t - times[i]));
  const rows = phases.map((p) => ({
    phase: p.name,
    flushes: p.flushes.length - 2,
    longestGapWithoutFlushMs: longestGap(p.flushes),
    slowestWriteMs: Math.round(p.slowestWriteMs),
    maxRssGiB: gib(p.maxRssBytes),
    query: p.query ? `${p.query.status} in ${p.query.ms} ms: ${p.query.answer}` : '',
  }));
  for (const r of rows) {
    process.stdout.write(
      `${r.phase.padEnd(13)} flushes ${String(r.flushes).padStart(3)}  longest without a flush ${String(r.longestGapWithoutFlushMs).padStart(6)} ms  ` +
        `slowest write ${String(r.slowestWriteMs).padStart(6)} ms  max RSS ${r.maxRssGiB} GiB  ${r.query}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ queryK: QUERY_K, memoryK: MEMORY_K, phases: rows })}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
