// Exactly once across restarts, with the real broker and the real embedded engine: a processor
// killed with SIGKILL at random moments mid-stream (and restarted on its data directory and group)
// ends with the same rows as one that ran without interruption, and so does a processor that
// replays the whole topic into a fresh group. Several hours of kubecost traffic for several
// tenants and clusters are streamed, with HOUR_GRACE and LATE_WINDOW short enough that hours
// settle and offsets are committed while it runs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWriteRequestV1, kubecostTenants, kubecostValue, seededRandom, snappyCompress, type SeriesSamples } from '../../../bench/kubecost-traffic.ts';
import type { RunningService } from '../../../service/service.ts';
import { testBrokers } from '../../support/env.ts';
import { kafkaAdmin } from '../../support/kafka.ts';
import { diffPodHours, totalsByCluster, waitAllFinal, type PodHour } from '../../support/expenses.ts';
import { freePort } from '../../support/net.ts';
import { RW1_HEADERS } from '../../support/remote-write-fixtures.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { startTestService, uniqueTopic, waitReady } from '../../support/service.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const PARTITIONS = 3;
/** 5 hours of scrapes every minute, starting half-way through an hour 6 hours ago. */
const START = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR + 30 * MIN;
const SCRAPES = 300;
/** Two clusters of one tenant and two other tenants. */
const TENANTS = ['acme', 'acme', 'globex', 'initech'];

/** Time the stream takes (the requests are paced so kills land mid-stream). */
const STREAM_MS = 30_000;
/** A restarted member waits for the killed one's session (30 s) to expire before it gets partitions. */
const READY_TIMEOUT_MS = 120_000;

interface Request {
  readonly tenant: string;
  readonly body: Uint8Array<ArrayBuffer>;
}

/** A short-lived pod: its series appear at scrape `from` and end with stale markers at scrape `to`. */
interface ChurnPod {
  name: string;
  node: string;
  from: number;
  to: number;
}

/**
 * Pods that come and go, as Jobs do: one starting in the last scrape interval of every hour (its
 * first sample stands for the interval to the next one, which lies in the next hour) and one
 * starting mid-hour, each running 12 to 31 scrapes and ending with stale markers.
 */
function churnPods(t: number, node: string): ChurnPod[] {
  const pods: ChurnPod[] = [];
  for (let scrape = 0; scrape < SCRAPES; scrape++) {
    const minute = (START / MIN + scrape) % 60;
    if (minute === 59 || minute === (17 + 11 * t) % 60) pods.push({ name: `report-${t}-${scrape}`, node, from: scrape, to: scrape + 12 + ((scrape * 7 + t) % 20) });
  }
  return pods;
}

function churnSeries(cluster: string, pod: ChurnPod, scrape: number, timestamp: number): SeriesSamples[] {
  const stale = scrape === pod.to;
  const labels = (name: string, extra: Record<string, string>) =>
    Object.entries({ __name__: name, cluster_id: cluster, namespace: 'batch', pod: pod.name, ...extra }).sort(([a], [b]) => (a < b ? -1 : 1));
  const sample = (value: number) => [{ value, timestamp, stale }];
  return [
    { labels: labels('container_cpu_allocation', { container: 'report', node: pod.node }), samples: sample(0.25 + (scrape % 3) / 10) },
    { labels: labels('container_memory_allocation_bytes', { container: 'report', node: pod.node }), samples: sample(256 * 2 ** 20) },
    { labels: labels('kube_pod_owner', { owner_kind: 'Job', owner_name: pod.name }), samples: sample(1) },
  ];
}

/**
 * Kubecost traffic as Prometheus sends it, with the irregularities that make a sample's interval
 * depend on its neighbours (so a rebuilt hour differs if its context is missing, and an hour's rows
 * depend on samples of the next hour): scrape times jitter by up to 20 s, a scrape is missed now
 * and then (a 2-minute gap), pods come and go (churnPods), and a request is now and then delivered
 * a few scrapes late (within LATE_WINDOW; always the first of an hour, after the hour before closed).
 */
function traffic(): Request[] {
  const tenants = kubecostTenants({ seed: 7, tenants: TENANTS.length, tenantNames: TENANTS, seriesPerTenant: 250 });
  const rand = seededRandom(11);
  const out: { due: number; request: Request }[] = [];
  const churn = tenants.map((tenant, t) => {
    const node = tenant.series.flatMap((s) => s.labels).find(([name]) => name === 'node')![1];
    return churnPods(t, node);
  });
  for (let scrape = 0; scrape < SCRAPES; scrape++) {
    for (const [t, tenant] of tenants.entries()) {
      if (rand() < 0.05) continue; // a missed scrape
      const timestamp = START + scrape * MIN + Math.floor(rand() * 20_000);
      const values = seededRandom(scrape * 7919 + t);
      const series: SeriesSamples[] = tenant.series.map((s) => ({ labels: s.labels, samples: [{ value: kubecostValue(s, scrape, values), timestamp }] }));
      for (const pod of churn[t]) if (scrape >= pod.from && scrape <= pod.to) series.push(...churnSeries(tenant.clusterId, pod, scrape, timestamp));
      // The first scrape of every hour comes 4 scrapes late, after the previous hour closed (HOUR_GRACE
      // is 2 min): the pod that started in that hour's last scrape interval gets its next sample then.
      const delay = (START / MIN + scrape) % 60 === 0 ? 4 : rand() < 0.05 ? 2 + Math.floor(rand() * 3) : 0;
      out.push({ due: scrape + delay + t / 10, request: { tenant: tenant.tenant, body: new Uint8Array(snappyCompress(encodeWriteRequestV1(series))) } });
    }
  }
  return out.sort((a, b) => a.due - b.due).map((x) => x.request);
}

interface Processor {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly sqlUrl: string;
  readonly dataDir: string;
  /** Every process started for it, the current one last. */
  readonly runs: ServiceProcess[];
}

/** Writes every log line of every run of `p` to a file, for a failure to be looked into. */
async function dumpLogs(p: Processor): Promise<string> {
  const file = path.join(tmpdir(), `processor-replay-${p.name}-${process.pid}.log`);
  await writeFile(file, p.runs.map((run, i) => run.logs.map((l) => `[run ${i}] ${JSON.stringify(l)}`).join('\n')).join('\n'));
  return file;
}

function errorLines(p: Processor): string[] {
  return p.runs.flatMap((run, i) => run.logs.filter((l) => (l.level ?? 0) >= 50).map((l) => `[${p.name} run ${i}] ${JSON.stringify(l)}`));
}

describe('processor restarts and replays', () => {
  const topic = uniqueTopic('processor-replay');
  const brokers = testBrokers();
  const dirs: string[] = [];
  const processors: Processor[] = [];
  let receiver: RunningService;
  let requests: Request[];

  const newProcessor = async (name: string): Promise<Processor> => {
    const dataDir = await mkdtemp(path.join(tmpdir(), `k8s-expenses-${name}-`));
    dirs.push(dataDir);
    const sqlPort = await freePort();
    const env = {
      ROLE: 'processor',
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${topic}-${name}`,
      DATA_DIR: dataDir,
      SQL_PORT: String(sqlPort),
      FLUSH_INTERVAL: '500ms',
      // An hour closes 2 min after its end (event time) and settles 10 min later: with five hours
      // streamed, four settle during the run and their records are committed.
      HOUR_GRACE: '2m',
      LATE_WINDOW: '10m',
      // The newest hour closes by wall clock once the stream has stopped.
      IDLE_FINALIZE: '5s',
    };
    const p: Processor = { name, env, sqlUrl: `http://127.0.0.1:${sqlPort}`, dataDir, runs: [] };
    processors.push(p);
    return p;
  };

  const start = async (p: Processor): Promise<ServiceProcess> => {
    const run = await startServiceProcess({ env: p.env, readyTimeoutMs: READY_TIMEOUT_MS });
    p.runs.push(run);
    return run;
  };

  const current = (p: Processor): ServiceProcess => p.runs[p.runs.length - 1];

  const finalRows = async (p: Processor): Promise<Map<string, PodHour>> => {
    try {
      return await waitAllFinal(current(p).url, p.sqlUrl, 180_000, `${p.name} to write everything final`);
    } catch (err) {
      throw new Error(`${(err as Error).message}; logs in ${await dumpLogs(p)}\n${errorLines(p).slice(0, 10).join('\n')}`, { cause: err });
    }
  };

  const send = async (req: Request): Promise<void> => {
    // As Prometheus does: retry until the receiver acknowledges.
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${receiver.url}/api/v1/write`, {
        method: 'POST',
        headers: { ...RW1_HEADERS, 'cloud-account-id': req.tenant },
        body: req.body,
      });
      if (res.status === 204) return;
      if (attempt > 20) throw new Error(`the receiver keeps answering ${res.status}: ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    requests = traffic();
    const admin = kafkaAdmin(brokers, 'processor-replay-test');
    await admin.createTopic(topic, PARTITIONS);
    await admin.close();
    receiver = await startTestService({ ROLE: 'receiver', KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC: topic });
    await waitReady(receiver);
  });

  afterAll(async () => {
    await receiver?.stop();
    for (const p of processors) for (const run of p.runs) await run.stop(5_000).catch(() => undefined);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  let uninterrupted: Map<string, PodHour>;

  it('ends with the same rows after SIGKILLs at random moments as without interruption', async () => {
    const steady = await newProcessor('steady');
    const killed = await newProcessor('killed');
    await Promise.all([start(steady), start(killed)]);

    // The first kill lands while requests stream in; the second soon after the restarted process
    // is ready, typically while it replays what piled up (records since its last commit).
    const firstKillMs = 5_000 + Math.random() * 15_000;
    const secondKillAfterReadyMs = Math.random() * 4_000;
    const kills: string[] = [];
    const killAndRestart = async (): Promise<void> => {
      await new Promise((r) => setTimeout(r, firstKillMs));
      const first = current(killed);
      first.signal('SIGKILL');
      await first.exited;
      kills.push(`SIGKILL ${first.pid} at ${Math.round(firstKillMs)} ms into the stream`);
      const second = await start(killed);
      await new Promise((r) => setTimeout(r, secondKillAfterReadyMs));
      second.signal('SIGKILL');
      await second.exited;
      kills.push(`SIGKILL ${second.pid} ${Math.round(secondKillAfterReadyMs)} ms after it was ready`);
      await start(killed);
    };
    const restarts = killAndRestart();

    const pause = STREAM_MS / requests.length;
    const began = Date.now();
    for (let i = 0; i < requests.length; i++) {
      await send(requests[i]);
      const due = began + (i + 1) * pause;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
    await restarts;

    uninterrupted = await finalRows(steady);
    const afterKills = await finalRows(killed);
    const differences = diffPodHours(uninterrupted, afterKills);
    if (differences.length > 0) console.info(`killed processor logs: ${await dumpLogs(killed)}`);
    expect(
      differences.slice(0, 20),
      `${kills.join('; ')}\nuninterrupted ${JSON.stringify(totalsByCluster(uninterrupted))}\nkilled ${JSON.stringify(totalsByCluster(afterKills))}\n${errorLines(killed).slice(0, 10).join('\n')}`,
    ).toEqual([]);
    // The restarts really did resume from committed offsets with a floor (not from the start).
    const resumed = killed.runs.slice(1).flatMap((run) => run.logs.filter((l) => l.msg === 'partition state started' && l.committed !== undefined));
    expect(resumed.length, 'partitions resumed from a commit').toBeGreaterThan(0);
    expect(resumed.some((l) => typeof l.contextFloor === 'number'), 'a restart rebuilt hours above a commit floor').toBe(true);
    console.info(`${kills.join('; ')}; resumed ${resumed.map((l) => `p${String(l.partition)}@${String(l.committed)} floor ${typeof l.contextFloor === 'number' ? new Date(l.contextFloor).toISOString().slice(11, 16) : '-'}`).join(', ')}`);
    // Every tenant/cluster and hour is there: 4 clusters x 6 hours.
    const hours = new Set([...uninterrupted.values()].map((r) => `${r.tenant_id}/${r.cluster}/${r.hour}`));
    expect(hours.size).toBe(TENANTS.length * 6);
    expect(errorLines(steady)).toEqual([]);
  }, 600_000);

  it('gives identical totals when the topic is replayed into a fresh group', async () => {
    expect(uninterrupted, 'the previous test ran').toBeDefined();
    const replay = await newProcessor('replay');
    await start(replay);
    const replayed = await finalRows(replay);
    const differences = diffPodHours(uninterrupted, replayed);
    expect(differences.slice(0, 20), `${JSON.stringify(totalsByCluster(uninterrupted))} vs ${JSON.stringify(totalsByCluster(replayed))}`).toEqual([]);
    expect(errorLines(replay)).toEqual([]);
  }, 300_000);
});
