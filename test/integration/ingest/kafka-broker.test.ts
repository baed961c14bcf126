// The broker support in scripts/kafka-broker.sh and test/support/kafka-broker.ts: a broker of
// its own (not the shared one) is stopped and started again on the same directory, and topics
// and a consumer group's committed offset must survive that.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Consumer, MessagesStreamModes, type Message } from '@platformatic/kafka';
import { startBroker, type BrokerHandle } from '../../support/kafka-broker.ts';
import { testBrokers } from '../../support/env.ts';
import { kafkaAdmin, options } from '../../support/kafka.ts';

const PORT = 19192;
const TOPIC = 'broker-restart-check';
const GROUP = 'broker-restart-check-group';

async function produce(brokers: string[], value: string): Promise<void> {
  const admin = kafkaAdmin(brokers, 'kafka-broker-test');
  try {
    await admin.produce(TOPIC, [{ value: Buffer.from(value) }]);
  } finally {
    await admin.close();
  }
}

/** Consumes `count` messages as GROUP, committing each offset explicitly, then leaves the group. */
async function consume(brokers: string[], count: number): Promise<string[]> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ ...options(brokers, 'kafka-broker-test'), groupId: GROUP, autocommit: false });
  const values: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [TOPIC], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamModes.EARLIEST, autocommit: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(values)}`)), 30_000);
      stream.on('error', reject);
      stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
        values.push(message.value?.toString() ?? '');
        consumer
          .commit({ offsets: [{ topic: message.topic, partition: message.partition, offset: message.offset + 1n, leaderEpoch: 0 }] })
          .then(() => {
            if (values.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          })
          .catch(reject);
      });
    });
  } finally {
    await consumer.close(true);
  }
  return values;
}

async function committedOffset(brokers: string[]): Promise<string | undefined> {
  const admin = kafkaAdmin(brokers, 'kafka-broker-test');
  try {
    return (await admin.committedOffsets(GROUP, TOPIC)).find((p) => p.partition === 0)?.offset;
  } finally {
    await admin.close();
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

    const before = handle.brokers;
    const admin = kafkaAdmin(before, 'kafka-broker-test');
    try {
      await admin.createTopic(TOPIC, 1);
    } finally {
      await admin.close();
    }
    await produce(before, 'first');
    expect(await consume(before, 1)).toEqual(['first']);
    expect(await committedOffset(before)).toBe('1');

    await handle.stop();
    await handle.start();

    const after = handle.brokers;
    const admin2 = kafkaAdmin(after, 'kafka-broker-test');
    try {
      expect(await admin2.listTopics()).toContain(TOPIC);
      const [partition] = await admin2.partitionEnds(TOPIC);
      expect(partition?.high).toBe('1');
    } finally {
      await admin2.close();
    }
    expect(await committedOffset(after)).toBe('1');

    // The group resumes after its committed offset: only the new message arrives.
    await produce(after, 'second');
    expect(await consume(after, 1)).toEqual(['second']);
    expect(await committedOffset(after)).toBe('2');
  }, 180_000);
});
