// Exactly once across processor crashes, with the real broker and the real embedded engine: a
// processor killed with SIGKILL ten times at random moments while requests stream in (and
// restarted each time on its data directory and group, as an orchestrator would) ends with the
// same rows as one that ran without interruption, and both equal what the pure cost model computes
// from the acknowledged requests; so does a processor that replays the whole topic into a fresh
// group. The node rows (k8s_node_expenses) are compared the same way. Several hours of kubecost traffic for several tenants and clusters are streamed, with
// HOUR_GRACE and LATE_WINDOW short enough that hours settle and offsets are committed while it runs.
//
// FAULT_PROCESSOR_KILLS sets the number of kills (default 10).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBrokers } from '../../support/env.ts';
import { diffNodeHours, diffPodHours, sqlRows, totalsByCluster, type NodeHour, type PodHour } from '../../support/expenses.ts';
import { sqlUrl } from '../../support/embedded.ts';
import { billQuery } from '../../support/node-bill.ts';
import { modelHours } from '../../support/expected-rows.ts';
import { kubecostStream } from '../../support/kubecost-stream.ts';
import { errorLines, writeLogs } from '../../support/process-logs.ts';
import { assignedPartitions, currentRun, finalRowsOf, kafkaProcessor, kafkaReceiver, nodeRowsOf, removeProcessors, startRun, type ProcessorRuns } from '../../support/processor-runs.ts';
import { faultFigures, formatFigures, startSender, type Sender } from '../../support/remote-write-sender.ts';
import type { ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic } from '../../support/service.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const PARTITIONS = 3;
/** 5 hours of scrapes every minute, starting half-way through an hour 6 hours ago. */
const START = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR + 30 * MIN;
const SCRAPES = 300;
/** Two clusters of one tenant and two other tenants. */
const TENANTS = ['acme', 'acme', 'globex', 'initech'];
const KILLS = Number(process.env.FAULT_PROCESSOR_KILLS ?? 10);
/**
 * Requests per second: the stream lasts about as long as the kills (each restart of a member that
 * had joined waits for the killed one's 30 s session to expire), so every kill lands under load.
 */
const RATE = 5;

/** A uniformly random whole number of milliseconds in [from, to). */
const randomMs = (from: number, to: number): number => Math.round(from + Math.random() * (to - from));

describe('processor restarts and replays', () => {
  const topic = uniqueTopic('processor-replay');
  const brokers = testBrokers();
  const processors: ProcessorRuns[] = [];
  let receiver: ServiceProcess;
  let sender: Sender;
  let uninterrupted: Map<string, PodHour>;
  let uninterruptedNodes: Map<string, NodeHour>;

  const processor = (name: string): ProcessorRuns => {
    const p = kafkaProcessor(`replay-${name}`, { brokers, topic, groupId: `${topic}-${name}` });
    processors.push(p);
    return p;
  };

  beforeAll(async () => {
    receiver = await kafkaReceiver(brokers, topic, PARTITIONS);
  });

  afterAll(async () => {
    await receiver?.stop();
    await removeProcessors(processors);
  });

  /**
   * Kills `p` KILLS times and starts it again after each kill. The moments alternate between two
   * kinds, each at a random delay: 0-8 s after a run became ready (it is replaying what piled up
   * since its last commit, consuming, flushing or committing), and 0.5-12 s after a run was spawned
   * (loading, opening the engine, migrating, connecting, or waiting to join the group).
   */
  const killRepeatedly = async (p: ProcessorRuns): Promise<string[]> => {
    const kills: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const serving = k % 2 === 0;
      const run = currentRun(p);
      const delay = serving ? randomMs(0, 8_000) : randomMs(500, 12_000);
      await new Promise((r) => setTimeout(r, delay));
      const lastLine = run.logs[run.logs.length - 1]?.msg ?? '(nothing logged yet)';
      await run.kill();
      kills.push(`#${k + 1} ${delay} ms after ${serving ? 'ready' : 'spawn'} (last line: ${lastLine})`);
      // The next kill waits for the restarted run to be ready when it is of the first kind.
      await startRun(p, k + 1 < KILLS ? (k + 1) % 2 === 0 : true);
    }
    return kills;
  };

  it(`ends with the same rows after ${KILLS} SIGKILLs at random moments as without interruption`, async () => {
    const steady = processor('steady');
    const killed = processor('killed');
    await Promise.all([startRun(steady), startRun(killed)]);

    const requests = kubecostStream({ tenants: TENANTS, startMs: START, scrapes: SCRAPES });
    const began = Date.now();
    sender = startSender({ url: receiver.url, requests, ratePerSecond: RATE });
    const kills = await killRepeatedly(killed);
    const killsDone = Date.now();
    const underLoad = sender.acknowledged.length < requests.length;
    sender.hurry();
    await sender.done;

    const expected = modelHours(sender.acknowledged);
    uninterrupted = await finalRowsOf(steady);
    uninterruptedNodes = await nodeRowsOf(steady);
    // A run killed after it joined the group keeps its partitions until its session expires: the
    // last run may start with only some of them, and its rows are complete only once it holds all.
    await currentRun(killed).waitForLog((l) => assignedPartitions(l).length === PARTITIONS, 120_000, 'all partitions for the last run');
    const afterKills = await finalRowsOf(killed);
    const nodesAfterKills = await nodeRowsOf(killed);
    const resumed = killed.runs.slice(1).flatMap((run) => run.logs.filter((l) => l.msg === 'partition state started' && l.committed !== undefined));
    console.info(
      [
        `processor crashes: ${kills.length} SIGKILLs in ${((killsDone - began) / 1000).toFixed(0)} s ${underLoad ? 'under load' : '(the stream ended before the last kill)'}; ${requests.length} requests, ${formatFigures(faultFigures(sender.attempts, began))}`,
        ...kills.map((k) => `  ${k}`),
        `  partitions resumed from a commit: ${resumed.map((l) => `p${String(l.partition)}@${String(l.committed)} floor ${typeof l.contextFloor === 'number' ? new Date(l.contextFloor).toISOString().slice(11, 16) : '-'}`).join(', ')}`,
        `  ${afterKills.size} pod-hours after the kills, ${uninterrupted.size} uninterrupted, ${expected.pods.size} from the cost model; ${uninterruptedNodes.size} node-hours`,
      ].join('\n'),
    );

    expect(diffPodHours(expected.pods, uninterrupted).slice(0, 20), 'the uninterrupted processor against the cost model').toEqual([]);
    expect(diffNodeHours(expected.nodes, uninterruptedNodes).slice(0, 20), 'node rows of the uninterrupted processor against the cost model').toEqual([]);
    expect(diffNodeHours(uninterruptedNodes, nodesAfterKills).slice(0, 20), 'node rows after the kills').toEqual([]);
    // Every cluster-hour's rows add up to its node costs plus the rest, as ClickHouse sums them.
    const bill = await sqlRows<{ hour: number; rows: number; bill: number }>(sqlUrl(currentRun(steady)), billQuery());
    expect(bill.length).toBe(TENANTS.length * 6);
    for (const h of bill) expect(Math.abs(h.rows - h.bill), `hour ${h.hour}: rows ${h.rows}, bill ${h.bill}`).toBeLessThanOrEqual(1e-9 * h.rows);
    const differences = diffPodHours(uninterrupted, afterKills);
    const logs = differences.length > 0 ? `logs in ${await writeLogs(killed.name, killed.runs)}` : '';
    expect(
      differences.slice(0, 20),
      `uninterrupted ${JSON.stringify(totalsByCluster(uninterrupted))}\nkilled ${JSON.stringify(totalsByCluster(afterKills))}\n${logs}\n${errorLines(killed.name, killed.runs).slice(0, 10).join('\n')}`,
    ).toEqual([]);
    // The restarts really did resume from committed offsets with a floor (not from the start).
    expect(resumed.length, 'partitions resumed from a commit').toBeGreaterThan(0);
    expect(resumed.some((l) => typeof l.contextFloor === 'number'), 'a restart rebuilt hours above a commit floor').toBe(true);
    // Every tenant/cluster and hour is there: 4 clusters x 6 hours.
    const hours = new Set([...uninterrupted.values()].map((r) => `${r.tenant_id}/${r.cluster}/${r.hour}`));
    expect(hours.size).toBe(TENANTS.length * 6);
    expect(errorLines(steady.name, steady.runs)).toEqual([]);
  }, 900_000);

  it('gives identical totals when the topic is replayed into a fresh group', async () => {
    expect(uninterrupted, 'the previous test ran').toBeDefined();
    const replay = processor('replay');
    await startRun(replay);
    const replayed = await finalRowsOf(replay);
    expect(diffNodeHours(uninterruptedNodes, await nodeRowsOf(replay)).slice(0, 20), 'node rows of the replay').toEqual([]);
    const differences = diffPodHours(uninterrupted, replayed);
    expect(differences.slice(0, 20), `${JSON.stringify(totalsByCluster(uninterrupted))} vs ${JSON.stringify(totalsByCluster(replayed))}`).toEqual([]);
    expect(errorLines(replay.name, replay.runs)).toEqual([]);
  }, 300_000);
});
