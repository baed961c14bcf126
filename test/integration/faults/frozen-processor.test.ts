// A processor frozen past its consumer-group session (SIGSTOP: a long GC pause, a starved or
// suspended VM, an event loop blocked by a slow write) loses its partition without being told;
// another member of the group takes it over, consumes and commits; the frozen one then wakes up
// (SIGCONT) and gets the partition back once the other leaves. The rows of both, read as one shared
// table holds them (the highest version of every pod-hour), must equal what the pure cost model
// computes from the acknowledged requests: the woken processor must not keep the state it had
// before it lost the partition, or it misses every record the other member consumed meanwhile and
// writes the hours they fed again without them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlUrl } from '../../support/embedded.ts';
import { testBrokers } from '../../support/env.ts';
import { diffPodHours, totalsByCluster } from '../../support/expenses.ts';
import { modelPodHours } from '../../support/expected-rows.ts';
import { kubecostStream } from '../../support/kubecost-stream.ts';
import { writeLogs } from '../../support/process-logs.ts';
import { currentRun, finalRowsOf, kafkaProcessor, kafkaReceiver, assignedPartitions, removeProcessors, startRun, type ProcessorRuns } from '../../support/processor-runs.ts';
import { startSender } from '../../support/remote-write-sender.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic, waitFor } from '../../support/service.ts';
import { sharedTablePodHours } from '../../support/shared-table.ts';
import type { StreamRequest } from '../../support/kubecost-stream.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
/** 5 hours of one cluster from half past an hour 7 hours ago. */
const START = Math.floor(Date.now() / HOUR) * HOUR - 7 * HOUR + 30 * MIN;
const SCRAPES = 300;

const assigned = assignedPartitions;

describe('a processor frozen past its session', () => {
  const topic = uniqueTopic('frozen');
  const brokers = testBrokers();
  const processors: ProcessorRuns[] = [];
  let receiver: ServiceProcess;

  beforeAll(async () => {
    receiver = await kafkaReceiver(brokers, topic, 1);
  });

  afterAll(async () => {
    for (const p of processors) currentRun(p).signal('SIGCONT');
    await receiver?.stop();
    await removeProcessors(processors);
  });

  it('does not keep the state of a partition it lost while frozen', async () => {
    const frozen = kafkaProcessor('frozen', { brokers, topic, groupId: `${topic}-group` });
    const other = kafkaProcessor('other', { brokers, topic, groupId: `${topic}-group` });
    processors.push(frozen, other);
    const requests = kubecostStream({ tenants: ['acme'], startMs: START, scrapes: SCRAPES });
    const acknowledged: StreamRequest[] = [];
    const send = async (part: readonly StreamRequest[]): Promise<void> => {
      const sender = startSender({ url: receiver.url, requests: part, ratePerSecond: 1_000 });
      await sender.done;
      acknowledged.push(...sender.acknowledged);
    };
    const lagZero = (run: ServiceProcess) => async () => /k8s_expenses_processor_consumer_lag_records\{[^}]*\} 0$/m.test(await (await fetch(`${run.url}/metrics`)).text());

    // The frozen-to-be processor owns the only partition and consumes the first half hour.
    const first = await startRun(frozen);
    await first.waitForLog((l) => assigned(l).length === 1, 60_000, 'the partition for the first processor');
    await send(requests.slice(0, 30));
    await waitFor(lagZero(first), 60_000, 'the first processor to consume the first half hour');

    // Frozen: the other member joins, the frozen one's session expires, the other takes the
    // partition over, consumes four hours and commits past everything the frozen one has seen
    // (hours settle 12 min after their end).
    first.signal('SIGSTOP');
    const second = await startRun(other);
    await second.waitForLog((l) => assigned(l).length === 1, 90_000, 'the partition for the other processor');
    await send(requests.slice(30, 270));
    await waitFor(lagZero(second), 60_000, 'the other processor to consume four hours');
    await second.waitForLog((l) => l.msg === 'partition state started', 10_000, 'the other processor to take the partition');
    await new Promise((r) => setTimeout(r, 3_000));

    // Woken up; the other leaves cleanly, so the partition goes back to the woken one.
    const assignments = () => first.logs.filter((l) => assigned(l).length === 1).length;
    const before = assignments();
    first.signal('SIGCONT');
    await second.stop();
    await waitFor(() => assignments() > before, 90_000, 'the partition back for the woken processor');
    await send(requests.slice(270));

    const fromFirst = await finalRowsOf(frozen);
    const reader = await startServiceProcess({ env: { DATA_DIR: other.dataDir, PORT: '0', SQL_PORT: '0' } });
    try {
      const merged = await sharedTablePodHours([sqlUrl(first), sqlUrl(reader)]);
      const expected = modelPodHours(acknowledged);
      const differences = diffPodHours(expected, merged);
      console.info(`frozen processor: ${acknowledged.length} requests; ${merged.size} pod-hours in the shared table (${fromFirst.size} from the woken processor), ${expected.size} from the cost model; ${differences.length} differences`);
      const logs = differences.length > 0 ? `logs in ${await writeLogs(frozen.name, frozen.runs)} and ${await writeLogs(other.name, other.runs)}` : '';
      expect(differences.slice(0, 20), `expected ${JSON.stringify(totalsByCluster(expected))}\nshared table ${JSON.stringify(totalsByCluster(merged))}\n${logs}`).toEqual([]);
    } finally {
      await reader.stop();
    }
  }, 600_000);
});
