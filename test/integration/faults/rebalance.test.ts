// Two processors in one consumer group on a six-partition topic, under steady load: the second
// joins mid-stream (the partitions are shared out again), the first is killed with SIGKILL later
// (the second takes its partitions over once the first's session expires). The rows both wrote,
// read as one shared table would hold them (the highest version of every pod-hour), equal what an
// uninterrupted processor in another group stored, and what the pure cost model computes from the
// acknowledged requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlUrl } from '../../support/embedded.ts';
import { testBrokers } from '../../support/env.ts';
import { diffPodHours, totalsByCluster } from '../../support/expenses.ts';
import { modelPodHours } from '../../support/expected-rows.ts';
import { kubecostStream } from '../../support/kubecost-stream.ts';
import { errorLines, writeLogs } from '../../support/process-logs.ts';
import { currentRun, finalRowsOf, kafkaProcessor, kafkaReceiver, assignedPartitions, removeProcessors, startRun, type ProcessorRuns } from '../../support/processor-runs.ts';
import { faultFigures, formatFigures, startSender } from '../../support/remote-write-sender.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic, waitFor } from '../../support/service.ts';
import { sharedTablePodHours } from '../../support/shared-table.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const PARTITIONS = 6;
/** 3 h 20 min of scrapes from half past an hour 6 hours ago. */
const START = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR + 30 * MIN;
const SCRAPES = 200;
/** Eight clusters of five tenants, so that most partitions carry some. */
const TENANTS = ['acme', 'acme', 'acme', 'globex', 'globex', 'initech', 'umbrella', 'hooli'];
/** About 75 s of steady load. */
const RATE = 20;

const assigned = assignedPartitions;

describe('two processors sharing a group, one joining and one dying mid-stream', () => {
  const topic = uniqueTopic('rebalance');
  const brokers = testBrokers();
  const processors: ProcessorRuns[] = [];
  let receiver: ServiceProcess;
  let reader: ServiceProcess | undefined;

  const processor = (name: string, groupId: string): ProcessorRuns => {
    const p = kafkaProcessor(`rebalance-${name}`, { brokers, topic, groupId });
    processors.push(p);
    return p;
  };

  beforeAll(async () => {
    receiver = await kafkaReceiver(brokers, topic, PARTITIONS);
  });

  afterAll(async () => {
    await reader?.stop();
    await receiver?.stop();
    await removeProcessors(processors);
  });

  it('stores every pod-hour exactly once across the two', async () => {
    const reference = processor('reference', `${topic}-reference`);
    const first = processor('first', `${topic}-pair`);
    const second = processor('second', `${topic}-pair`);
    await Promise.all([startRun(reference), startRun(first)]);

    const requests = kubecostStream({ tenants: TENANTS, startMs: START, scrapes: SCRAPES, seriesPerTenant: 150 });
    const began = Date.now();
    const sender = startSender({ url: receiver.url, requests, ratePerSecond: RATE });

    await waitFor(() => sender.acknowledged.length >= requests.length * 0.3, 120_000, 'a third of the stream');
    const joinAt = Date.now();
    const secondRun = await startRun(second);
    const shared = await secondRun.waitForLog((l) => assigned(l).length > 0, 60_000, 'partitions for the second processor');
    const joinedAt = Date.now();

    await waitFor(() => sender.acknowledged.length >= requests.length * 0.65, 120_000, 'two thirds of the stream');
    const firstRun = currentRun(first);
    const killAt = Date.now();
    await firstRun.kill();
    await secondRun.waitForLog((l) => assigned(l).length === PARTITIONS, 120_000, 'all partitions for the second processor');
    const takenOverAt = Date.now();
    await sender.done;

    const fromReference = await finalRowsOf(reference);
    const fromSecond = await finalRowsOf(second);
    // The first processor's engine, read by a service on its data directory in embedded mode
    // (nothing to consume there), as an operator would look at a dead processor's data.
    reader = await startServiceProcess({ env: { DATA_DIR: first.dataDir, PORT: '0', SQL_PORT: '0' } });
    const merged = await sharedTablePodHours([sqlUrl(reader), sqlUrl(secondRun)]);
    const expected = modelPodHours(sender.acknowledged);

    const revoked = firstRun.logs.filter((l) => l.msg === 'partitions assigned' && Array.isArray(l.revoked) && l.revoked.length > 0);
    console.info(
      [
        `rebalance: second processor started ${((joinAt - began) / 1000).toFixed(0)} s into the stream, got partitions ${assigned(shared).join(',')} after ${((joinedAt - joinAt) / 1000).toFixed(1)} s (the first gave up ${revoked.map((l) => (l.revoked as number[]).join(',')).join(' / ') || 'nothing'})`,
        `  first processor killed ${((killAt - began) / 1000).toFixed(0)} s into the stream; the second had all ${PARTITIONS} partitions ${((takenOverAt - killAt) / 1000).toFixed(1)} s later`,
        `  ${requests.length} requests: ${formatFigures(faultFigures(sender.attempts, began))}`,
        `  pod-hours: ${merged.size} in the shared table (${fromSecond.size} written last by the second), ${fromReference.size} by the reference, ${expected.size} from the cost model`,
      ].join('\n'),
    );

    expect(revoked.length, 'the first processor gave partitions up when the second joined').toBeGreaterThan(0);
    expect(assigned(shared).length).toBeLessThan(PARTITIONS);
    expect(diffPodHours(expected, fromReference).slice(0, 20), 'the reference against the cost model').toEqual([]);
    const differences = diffPodHours(fromReference, merged);
    const logs = differences.length > 0 ? `logs in ${await writeLogs(first.name, first.runs)} and ${await writeLogs(second.name, second.runs)}` : '';
    expect(
      differences.slice(0, 20),
      `reference ${JSON.stringify(totalsByCluster(fromReference))}\nshared table ${JSON.stringify(totalsByCluster(merged))}\n${logs}\n${errorLines(second.name, second.runs).slice(0, 10).join('\n')}`,
    ).toEqual([]);
    expect(new Set([...merged.values()].map((r) => `${r.tenant_id}/${r.cluster}/${r.hour}`)).size).toBe(TENANTS.length * 4);
    expect(errorLines(reference.name, reference.runs)).toEqual([]);
  }, 600_000);
});
