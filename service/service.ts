// Assembles the roles of one process from the configuration, and takes them down in order.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createKafka } from '../ingest/kafka/kafka-client.ts';
import { createKafkaPublisher } from '../ingest/kafka/kafka-publisher.ts';
import type { RecordPublisher } from '../ingest/record-log.ts';
import { registerReceiver } from '../receiver/index.ts';
import { ConfigError, type Config } from './config.ts';
import { createHttpServer, type ReadinessCheck } from './http-server.ts';

export interface RunningService {
  readonly app: FastifyInstance;
  /** The bound HTTP address, e.g. http://127.0.0.1:9201 */
  readonly url: string;
  readonly registry: Registry;
  /** Stops accepting, finishes in-flight requests, flushes the producer. */
  stop(): Promise<void>;
  /** SIGHUP: re-reads the tenants file without dropping requests. */
  reload(): void;
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  if (!config.KAFKA_BROKERS) {
    throw new ConfigError('KAFKA_BROKERS is not set: point it at your Kafka brokers (e.g. KAFKA_BROKERS=127.0.0.1:9092; `npm run kafka:start` runs one locally)');
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const checks: ReadinessCheck[] = [];
  const closers: (() => Promise<void>)[] = [];
  const app = createHttpServer({ logger, registry, readiness: () => checks, trustProxy: config.TRUST_PROXY });

  const kafka = createKafka(
    { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, requestTimeoutMs: Math.min(config.KAFKA_PRODUCE_TIMEOUT, 30_000), retries: config.KAFKA_RETRIES },
    logger,
  );

  let receiver: Awaited<ReturnType<typeof registerReceiver>> | undefined;
  if (config.ROLE === 'all' || config.ROLE === 'receiver') {
    const publisher = createKafkaPublisher(
      kafka,
      {
        topic: config.KAFKA_TOPIC,
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        produceTimeoutMs: config.KAFKA_PRODUCE_TIMEOUT,
        compression: config.KAFKA_COMPRESSION,
        maxGroupBytes: 8 * 1024 * 1024,
      },
      logger,
    );
    publisher.start();
    checks.push({ name: 'kafka-producer', isReady: () => publisher.isReady() });
    closers.push(() => publisher.close());
    receiver = await registerReceiver(app, config, publisher as RecordPublisher, registry, logger);
  }

  const url = await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    { url, role: config.ROLE, transport: `kafka ${config.KAFKA_BROKERS.join(',')} topic ${config.KAFKA_TOPIC}` },
    `k8s-expenses listening on ${url} (role ${config.ROLE}, Kafka ${config.KAFKA_BROKERS.join(',')}, topic ${config.KAFKA_TOPIC})`,
  );

  let stopping: Promise<void> | undefined;
  return {
    app,
    url,
    registry,
    reload() {
      receiver?.reloadTenants();
    },
    stop() {
      stopping ??= (async () => {
        receiver?.beginShutdown();
        // close() stops accepting connections and waits for in-flight requests to be answered.
        await app.close();
        for (const close of closers.reverse()) await close();
      })();
      return stopping;
    },
  };
}
