// The broker support in scripts/kafka-broker.sh and test/support/kafka-broker.ts: a broker of
// its own (not the shared one) is stopped and started again on the same directory, and topics
// and a consumer group's committed offset must survive that.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Consumer } from 'kafkajs';
import { startBroker, type BrokerHandle } from '../../support/kafka-broker.ts';
import { testBrokers } from '../../support/env.ts';

const PORT = 19192;
const TOPIC = 'broker-restart-check';
const GROUP = 'broker-restart-check-group';

function client(brokers: string[]): Kafka {
  return new Kafka({
    clientId: 'kafka-broker-test',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  });
}

async function produce(kafka: Kafka, value: string): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic: TOPIC, messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
}

/** Consumes `count` messages as GROUP, committing each offset explicitly, then leaves the group. */
async function consume(kafka: Kafka, count: number): Promise<string[]> {
  const consumer: Consumer = kafka.consumer({ groupId: GROUP });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(values)}`)), 30_000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            values.push(message.value?.toString() ?? '');
            await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
            if (values.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

async function committedOffset(kafka: Kafka): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return entry?.partitions.find((p) => p.partition === 0)?.offset;
  } finally {
    await admin.disconnect();
  }
}

describe('Kafka broker for tests', () => {
  let broker: BrokerHandle | undefined;

  beforeAll(async () => {
    broker = await startBroker({ port: PORT, dir: 'data/test-kafka-restart', fresh: true });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('exposes the shared broker to test files, by environment and by inject()', () => {
    const shared = testBrokers();
    expect(shared).not.toHaveLength(0);
    expect(shared).not.toContain(`127.0.0.1:${PORT}`);
    // Fork workers inherit the variable the global setup set, so child processes see it too.
    expect(process.env.TEST_KAFKA_BROKERS).toBe(shared.join(','));
    expect(inject('kafkaBrokers')).toEqual(shared);
  });

  it('keeps topics and committed offsets across a restart', async () => {
    const handle = broker!;
    expect(handle.brokers).toEqual([`127.0.0.1:${PORT}`]);

    const before = client(handle.brokers);
    const admin = before.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    await produce(before, 'first');
    expect(await consume(before, 1)).toEqual(['first']);
    expect(await committedOffset(before)).toBe('1');

    await handle.stop();
    await handle.start();

    const after = client(handle.brokers);
    const admin2 = after.admin();
    await admin2.connect();
    try {
      expect(await admin2.listTopics()).toContain(TOPIC);
      const [partition] = await admin2.fetchTopicOffsets(TOPIC);
      expect(partition?.high).toBe('1');
    } finally {
      await admin2.disconnect();
    }
    expect(await committedOffset(after)).toBe('1');

    // The group resumes after its committed offset: only the new message arrives.
    await produce(after, 'second');
    expect(await consume(after, 1)).toEqual(['second']);
    expect(await committedOffset(after)).toBe('2');
  }, 180_000);
});
