// A Kafka node dies under load and comes back: nothing acknowledged is lost or counted twice.
//
// A three-node KRaft cluster of its own (scripts/kafka-broker.sh --brokers 3), the topic created by
// the service with KAFKA_REPLICATION_FACTOR=3, and min.insync.replicas=2 from the brokers'
// configuration (where an operator sets it: the service does not set topic configs beyond
// max.message.bytes). One service process (ROLE=all) receives and processes into its embedded
// engine while a sender streams kubecost traffic and retries every refusal, as Prometheus does.
// The node leading the processor's consumer group (and some of the topic's partitions) is killed
// with SIGKILL mid-stream and started again later. Every hour the acknowledged requests imply is
// then stored exactly as the pure cost model computes it from them.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlUrl, tempDataDir } from '../../support/embedded.ts';
import { diffPodHours, totalsByCluster } from '../../support/expenses.ts';
import { modelPodHours } from '../../support/expected-rows.ts';
import { startCluster, type ClusterHandle, type ClusterNode } from '../../support/kafka-broker.ts';
import { kubecostStream } from '../../support/kubecost-stream.ts';
import { metricValue } from '../../support/net.ts';
import { finalRows, writeLogs } from '../../support/process-logs.ts';
import { FAULT_HOURS_ENV } from '../../support/processor-runs.ts';
import { faultFigures, formatFigures, startSender } from '../../support/remote-write-sender.ts';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.ts';
import { uniqueTopic, waitFor } from '../../support/service.ts';
import { kafkaAdmin, type KafkaAdmin } from '../../support/kafka.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
/** Client ports 19692-19694, controllers 19792-19794: clear of the shared broker and the other test brokers. */
const PORT = 19692;
const PARTITIONS = 6;
/** 3 h 20 min of scrapes of three clusters (two tenants), from half past an hour 6 hours ago. */
const START = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR + 30 * MIN;
const SCRAPES = 200;
const TENANTS = ['acme', 'acme', 'globex'];
/** About 50 s of steady load. */
const RATE = 12;

describe('a Kafka node killed under load', () => {
  const topic = uniqueTopic('broker-failure');
  const dataDir = tempDataDir('broker-failure');
  let cluster: ClusterHandle;
  let service: ServiceProcess;
  let admin: KafkaAdmin;

  beforeAll(async () => {
    cluster = await startCluster({ port: PORT, brokers: 3, fresh: true });
    admin = kafkaAdmin(cluster.brokers, 'broker-failure-test');
    service = await startServiceProcess({
      env: {
        ROLE: 'all',
        KAFKA_BROKERS: cluster.brokers.join(','),
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: `${topic}-group`,
        KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
        KAFKA_REPLICATION_FACTOR: '3',
        DATA_DIR: dataDir,
        PORT: '0',
        SQL_PORT: '0',
        ...FAULT_HOURS_ENV,
      },
      readyTimeoutMs: 120_000,
    });
  }, 360_000);

  afterAll(async () => {
    await service?.stop();
    await admin?.close();
    await cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  /** The node coordinating the processor's consumer group. */
  const groupCoordinator = async (): Promise<ClusterNode> => {
    const id = await admin.groupCoordinator(`${topic}-group`);
    return cluster.nodes.find((n) => n.id === id)!;
  };

  const fullyReplicated = async (): Promise<boolean> => {
    return (await admin.partitions(topic)).every((p) => p.isr.length === 3);
  };

  it('keeps every acknowledged sample exactly once, refusing writes only while partitions fail over', async () => {
    // The topic the service created: three replicas, two of them needed in sync.
    const partitions = await admin.partitions(topic);
    expect(partitions).toHaveLength(PARTITIONS);
    for (const p of partitions) expect(p.replicas).toHaveLength(3);
    expect(await admin.topicConfig(topic, 'min.insync.replicas')).toBe('2');

    const requests = kubecostStream({ tenants: TENANTS, startMs: START, scrapes: SCRAPES });
    const sender = startSender({ url: service.url, requests, ratePerSecond: RATE });
    await waitFor(() => sender.acknowledged.length >= requests.length / 5, 120_000, 'a fifth of the stream to be acknowledged');

    // The group coordinator of the processor: its death moves the group as well as partitions.
    const victim = await groupCoordinator();
    const led = (await admin.partitions(topic)).filter((p) => p.leader === victim.id).map((p) => p.partition);
    const killedAt = Date.now();
    await victim.kill();
    await new Promise((r) => setTimeout(r, 15_000));
    const restartAt = Date.now();
    await victim.start();
    const backAt = Date.now();
    await waitFor(fullyReplicated, 120_000, 'every partition to have three in-sync replicas again');
    const replicatedAt = Date.now();
    await sender.done;

    const duringOutage = faultFigures(sender.attempts, killedAt, restartAt);
    const afterRestart = faultFigures(sender.attempts, restartAt);
    console.info(
      [
        `broker failure: node ${victim.id} (coordinator of the group, leader of partitions ${led.join(',')}) killed ${Math.round((killedAt - sender.attempts[0].sentAt) / 1000)} s into the stream, started again after ${((restartAt - killedAt) / 1000).toFixed(1)} s (ready after ${((backAt - restartAt) / 1000).toFixed(1)} s more), fully replicated ${((replicatedAt - killedAt) / 1000).toFixed(1)} s after the kill`,
        `  while the node was down: ${formatFigures(duringOutage)}`,
        `  after it was started again: ${formatFigures(afterRestart)}`,
      ].join('\n'),
    );

    const expected = modelPodHours(sender.acknowledged);
    // The values are the point here: an hour closed during the fail-over pause may stay provisional.
    const stored = await finalRows('broker-failure', [service], sqlUrl(service), 180_000, false);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const samples = sender.acknowledged.reduce((n, r) => n + r.series.reduce((m, s) => m + s.samples.length, 0), 0);
    console.info(
      `  acknowledged ${samples} samples in ${sender.acknowledged.length} requests; processor counted ${metricValue(metrics, 'k8s_expenses_processor_samples_total', { result: 'accepted' })} accepted and ${metricValue(metrics, 'k8s_expenses_processor_samples_total', { result: 'duplicate' })} duplicate samples (records published again after a refused attempt); stored ${stored.size} pod-hours, expected ${expected.size}`,
    );
    const differences = diffPodHours(expected, stored);
    const logs = differences.length > 0 ? `logs in ${await writeLogs('broker-failure', [service])}` : '';
    expect(differences.slice(0, 20), `expected ${JSON.stringify(totalsByCluster(expected))}\nstored ${JSON.stringify(totalsByCluster(stored))}\n${logs}`).toEqual([]);
    // Three clusters, four hours each (the last one a partial hour).
    expect(new Set([...stored.values()].map((r) => `${r.tenant_id}/${r.cluster}/${r.hour}`)).size).toBe(TENANTS.length * 4);
  }, 600_000);
});
