// A sender that pauses longer than IDLE_FINALIZE (a Kafka fail-over, a network partition, a
// Prometheus restart) and then goes on with the same hour: the hour was closed by wall clock and its
// rows written final; the new samples change it again, and once the cluster is silent again the
// hour's rows must be final again and hold every sample. Found by the broker-failure scenario, where
// the fail-over paused the stream for longer than IDLE_FINALIZE; reproduced here in embedded mode,
// with nothing but the pause.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, sqlUrl, tempDataDir } from '../../support/embedded.ts';
import { diffPodHours, podHours } from '../../support/expenses.ts';
import { modelPodHours } from '../../support/expected-rows.ts';
import { kubecostStream } from '../../support/kubecost-stream.ts';
import { finalRows } from '../../support/process-logs.ts';
import { startSender } from '../../support/remote-write-sender.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { waitFor } from '../../support/service.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
/** Twenty scrapes of one cluster from 10 past an hour 3 hours ago: the hour stays open by event time. */
const START = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR + 10 * MIN;

describe('an hour closed by IDLE_FINALIZE that gets samples again', () => {
  const dataDir = tempDataDir('idle-close');
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await startServiceProcess({ env: embeddedEnv(dataDir, { IDLE_FINALIZE: '3s' }) });
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is written final again, with every sample, once the cluster is silent again', async () => {
    const requests = kubecostStream({ tenants: ['acme'], startMs: START, scrapes: 20, seriesPerTenant: 100 });
    const send = async (from: number, to: number) => {
      const sender = startSender({ url: service.url, requests: requests.slice(from, to), ratePerSecond: 100 });
      await sender.done;
    };

    await send(0, 10);
    // Silent for longer than IDLE_FINALIZE: the open hour is closed by wall clock and written final.
    await waitFor(async () => {
      const rows = [...(await podHours(sqlUrl(service))).values()];
      return rows.length > 0 && rows.every((r) => r.is_final === 1);
    }, 30_000, 'the hour to be closed by IDLE_FINALIZE');

    // The sender goes on within the same hour, then stops for good.
    await send(10, 20);
    const stored = await finalRows('idle-close', [service], sqlUrl(service), 30_000);
    expect(diffPodHours(modelPodHours(requests), stored).slice(0, 10)).toEqual([]);
  }, 120_000);
});
