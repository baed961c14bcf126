// Assembles the roles of one process from the configuration, and takes them down in order.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startProcessorRole, type ProcessorRole } from '../processor/index.ts';
import { registerReceiver, type ReceiverHandle } from '../receiver/index.ts';
import { listenError, type Config } from './config.ts';
import { createHttpServer, type ReadinessCheck } from './http-server.ts';
import { openTransport } from './transport.ts';

export interface RunningService {
  readonly app: FastifyInstance;
  /** The bound HTTP address, e.g. http://127.0.0.1:9201 */
  readonly url: string;
  readonly registry: Registry;
  /** Stops accepting, finishes in-flight requests, flushes the producer, stores and commits what was consumed. */
  stop(): Promise<void>;
  /** SIGHUP: re-reads the tenants file without dropping requests. */
  reload(): void;
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const checks: ReadinessCheck[] = [];
  const app = createHttpServer({ logger, registry, readiness: () => checks, trustProxy: config.TRUST_PROXY });

  const transport = await openTransport(config, logger);
  let receiver: ReceiverHandle | undefined;
  let processor: ProcessorRole | undefined;
  try {
    if (transport.publisher) {
      const publisher = transport.publisher;
      checks.push({ name: 'record-log', isReady: () => publisher.isReady() });
      receiver = await registerReceiver(app, config, publisher, registry, logger);
    }
    if (transport.consumer) {
      processor = await startProcessorRole(config, transport.consumer, registry, logger);
      const role = processor;
      checks.push({ name: 'processor', isReady: () => role.isReady() });
    }
  } catch (err) {
    await processor?.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
    throw err;
  }

  let url: string;
  try {
    url = await app.listen({ port: config.PORT, host: config.HOST });
  } catch (err) {
    await transport.publisher?.close().catch(() => undefined);
    await processor?.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
    throw listenError(err, 'PORT', config.PORT);
  }
  const parts = [`k8s-expenses (${config.ROLE}) listening on ${url}`, `records via ${transport.description}`];
  if (processor) parts.push(`rows to ${processor.clickhouse}`);
  if (processor?.sqlEndpoint) parts.push(`SQL endpoint ${processor.sqlEndpoint}`);
  parts.push(`data in ${path.resolve(config.DATA_DIR)}`);
  logger.info({ url, role: config.ROLE, transport: transport.description, clickhouse: processor?.clickhouse, sql: processor?.sqlEndpoint }, parts.join('; '));

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
        await transport.publisher?.close();
        await processor?.close();
        await transport.close();
      })();
      return stopping;
    },
  };
}
