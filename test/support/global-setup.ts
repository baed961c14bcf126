// Vitest global setup: makes sure a Kafka broker runs for the whole test run.
//
// - TEST_KAFKA_BROKERS already set: use those brokers, start nothing.
// - Something accepts connections on 127.0.0.1:9092 (e.g. `npm run kafka:start`): use it.
// - Otherwise start a fresh broker in data/test-kafka and stop it when the run ends.
//
// Tests read the list with testBrokers() from ./env.ts.
import net from 'node:net';
import type { TestProject } from 'vitest/node';
import { parseBrokerList } from './env.ts';
import { startBroker, type BrokerHandle } from './kafka-broker.ts';

const SHARED_PORT = 9092;
const SHARED_DIR = 'data/test-kafka';

function portAcceptsConnections(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let started: BrokerHandle | undefined;
  let brokers = parseBrokerList(process.env.TEST_KAFKA_BROKERS);

  if (brokers.length === 0) {
    if (await portAcceptsConnections(SHARED_PORT)) {
      brokers = [`127.0.0.1:${SHARED_PORT}`];
    } else {
      started = await startBroker({ port: SHARED_PORT, dir: SHARED_DIR, fresh: true });
      brokers = started.brokers;
    }
  }

  // Fork workers are spawned after this function returns and copy process.env then.
  process.env.TEST_KAFKA_BROKERS = brokers.join(',');
  project.provide('kafkaBrokers', brokers);

  return async () => {
    // Only stop what this run started; a developer's broker keeps running.
    if (started) await started.stop();
  };
}
