// Assembles the roles of one process from the configuration, and takes them down in order.
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { openClickHouse, redactUrl } from '../processor/clickhouse/client.ts';
import { startProcessorRole, type ProcessorRole } from '../processor/index.ts';
import { startSqlEndpoint, type SqlEndpoint } from '../query/sql-endpoint.ts';
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

function clickHouseDescription(config: Config): string {
  return config.CLICKHOUSE_URL
    ? `ClickHouse ${redactUrl(config.CLICKHOUSE_URL)} database ${config.CLICKHOUSE_DATABASE}`
    : `embedded ClickHouse at ${path.resolve(config.DATA_DIR, 'clickhouse')}`;
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const checks: ReadinessCheck[] = [];
  const app = createHttpServer({ logger, registry, readiness: () => checks, trustProxy: config.TRUST_PROXY });

  const transport = await openTransport(config, logger);
  let receiver: ReceiverHandle | undefined;
  let clickhouse: ClickHouseClient | undefined;
  let processor: ProcessorRole | undefined;
  let sqlEndpoint: SqlEndpoint | undefined;
  const closeRoles = async () => {
    await sqlEndpoint?.close().catch(() => undefined);
    await processor?.close().catch(() => undefined);
    await clickhouse?.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
  };
  try {
    if (transport.publisher) {
      const publisher = transport.publisher;
      checks.push({ name: 'record-log', isReady: () => publisher.isReady() });
      receiver = await registerReceiver(app, config, publisher, registry, logger);
    }
    if (transport.consumer) {
      clickhouse = await openClickHouse(config, logger);
      processor = await startProcessorRole(config, clickhouse, transport.consumer, registry, logger);
      const role = processor;
      checks.push({ name: 'processor', isReady: () => role.isReady(), reason: () => role.notReadyReason() });
      // Only one process may open the embedded engine's directory, so users query through this one.
      if (!config.CLICKHOUSE_URL) {
        try {
          sqlEndpoint = await startSqlEndpoint(clickhouse, config, logger);
        } catch (err) {
          throw listenError(err, 'SQL_PORT', config.SQL_PORT);
        }
      }
    }
  } catch (err) {
    await closeRoles();
    throw err;
  }

  let url: string;
  try {
    url = await app.listen({ port: config.PORT, host: config.HOST });
  } catch (err) {
    await transport.publisher?.close().catch(() => undefined);
    await closeRoles();
    throw listenError(err, 'PORT', config.PORT);
  }
  const description = processor ? clickHouseDescription(config) : undefined;
  const parts = [`k8s-expenses (${config.ROLE}) listening on ${url}`, `records via ${transport.description}`];
  if (description) parts.push(`rows to ${description}`);
  if (sqlEndpoint) parts.push(`SQL endpoint ${sqlEndpoint.url}`);
  parts.push(`data in ${path.resolve(config.DATA_DIR)}`);
  logger.info({ url, role: config.ROLE, transport: transport.description, clickhouse: description, sql: sqlEndpoint?.url }, parts.join('; '));

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
        await sqlEndpoint?.close();
        await processor?.close();
        await clickhouse?.close();
        await transport.close();
      })();
      return stopping;
    },
  };
}
