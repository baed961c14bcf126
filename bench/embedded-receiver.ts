// The receiver half of `ROLE=all` with the embedded log, alone in its process, so that
// `npm run bench:receiver -- --embedded` can show what the receiver side costs without the
// processor (which shares the process in ROLE=all). It is wired exactly as service/service.ts
// wires it: the same HTTP server, receiver routes, embedded log and publisher, from the same
// environment variables; only the consumer and the processor are left out, so nothing reads or
// commits the log and its segments stay on disk until the benchmark removes DATA_DIR.
//
//   node --import tsx bench/embedded-receiver.ts     (the benchmark starts it; not for production)
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { openEmbeddedLog } from '../ingest/embedded/embedded-log.ts';
import { createEmbeddedPublisher } from '../ingest/embedded/embedded-transport.ts';
import { registerReceiver } from '../receiver/index.ts';
import { loadConfig } from '../service/config.ts';
import { createHttpServer, type ReadinessCheck } from '../service/http-server.ts';
import { createLogger } from '../service/logger.ts';

const config = loadConfig();
if (config.KAFKA_BROKERS) throw new Error('bench/embedded-receiver.ts runs the embedded log: unset KAFKA_BROKERS');
const logger = createLogger(config.LOG_LEVEL);
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const checks: ReadinessCheck[] = [];
const app = createHttpServer({ logger, registry, readiness: () => checks, trustProxy: config.TRUST_PROXY });
const log = await openEmbeddedLog({ dir: path.resolve(config.DATA_DIR, 'log'), segmentBytes: config.LOG_SEGMENT_BYTES, logger });
const publisher = createEmbeddedPublisher(log);
checks.push({ name: 'record-log', isReady: () => publisher.isReady() });
const receiver = await registerReceiver(app, config, publisher, registry, logger);
await app.listen({ port: config.PORT, host: config.HOST });

const shutdown = async () => {
  receiver.beginShutdown();
  await app.close();
  await publisher.close();
  await log.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
