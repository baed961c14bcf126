// Assembles the roles of one process from the configuration, and takes them down in order.
//
// Start-up order: what is local and can only fail by misconfiguration is claimed first (the
// embedded log, the embedded engine's directory, the SQL port), so such a mistake stops start-up
// before anything listens. Then the HTTP port opens: /healthz answers at once, and /ready says 503
// with a check per dependency until each is up. What waits for another server (Kafka, the
// migrations on a ClickHouse server) happens after, in the background, with backoff; a liveness
// probe therefore never kills a process that is only waiting. A role that fails for good rejects
// `started`, and the entry point stops the process with the reason.
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { errorMessage, ServiceError } from '../core/errors.ts';
import { openClickHouse, redactUrl } from '../processor/clickhouse/client.ts';
import { startProcessorRole, type ProcessorRole } from '../processor/index.ts';
import { registerReceiver, type ReceiverHandle } from '../receiver/index.ts';
import { listenError, type Config } from './config.ts';
import { createHttpServer, type ReadinessCheck } from './http-server.ts';
import { startQueryRole, type QueryRole } from './query-role.ts';
import { createReadAccess, type ReadAccess } from './read-access.ts';
import { roleParts } from './roles.ts';
import { openTransport, type Transport } from './transport.ts';

export interface RunningService {
  readonly app: FastifyInstance;
  /** The bound HTTP address, e.g. http://127.0.0.1:9201 */
  readonly url: string;
  readonly registry: Registry;
  /**
   * Resolves once every role is up (the processor: migrations applied, consuming); rejects when a
   * role failed for good. Waiting for a server that is not there yet is not failing.
   */
  readonly started: Promise<void>;
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

/** The readiness checks, named after what they wait for, so a 503 from /ready says where to look. */
function readinessChecks(
  config: Config,
  transport: Transport,
  processorUp: () => ProcessorRole | undefined,
  clickhouseWait: () => string | undefined,
): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [];
  const brokers = config.KAFKA_BROKERS;
  const { publisher, consumer } = transport;
  const kafkaReason = () => `not connected to Kafka ${brokers?.join(',')} (KAFKA_BROKERS), or topic ${config.KAFKA_TOPIC} missing; see the log`;
  if (publisher) {
    if (brokers) checks.push({ name: 'kafka', isReady: () => publisher.isReady(), reason: kafkaReason });
    else checks.push({ name: 'embedded-log', isReady: () => publisher.isReady(), reason: () => 'the embedded log is closed' });
  }
  if (consumer) {
    checks.push({ name: 'clickhouse', isReady: () => processorUp() !== undefined, reason: () => clickhouseWait() ?? 'applying the migrations' });
    // Without a publisher the consumer is this process's only view of Kafka; it connects once the
    // migrations are applied, and is not blamed before.
    if (brokers && !publisher) checks.push({ name: 'kafka', isReady: () => processorUp() === undefined || consumer.isReady(), reason: kafkaReason });
    checks.push({ name: 'processor', isReady: () => processorUp()?.isReady() ?? false, reason: () => processorUp()?.notReadyReason() ?? 'not started yet' });
  }
  return checks;
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let processor: ProcessorRole | undefined;
  const transport = await openTransport(config, logger);
  let clickhouseWait: string | undefined;
  const checks = readinessChecks(config, transport, () => processor, () => clickhouseWait);
  const app = createHttpServer({ logger, registry, readiness: () => checks, trustProxy: config.TRUST_PROXY, bodyTimeoutMs: config.BODY_TIMEOUT });

  let receiver: ReceiverHandle | undefined;
  let clickhouse: ClickHouseClient | undefined;
  let queryRole: QueryRole | undefined;
  let readAccess: ReadAccess | undefined;
  let clickhouseClosed = false;
  const closeClickHouse = async () => {
    if (clickhouseClosed) return;
    clickhouseClosed = true;
    await clickhouse?.close().catch(() => undefined);
  };
  const closeAll = async () => {
    await transport.publisher?.close().catch(() => undefined);
    await queryRole?.close().catch(() => undefined);
    await processor?.close().catch(() => undefined);
    await closeClickHouse();
    await transport.close().catch(() => undefined);
  };

  let url: string;
  try {
    if (transport.publisher) receiver = await registerReceiver(app, config, transport.publisher, registry, logger);
    // A server client connects lazily; the embedded engine opens its directory now.
    if (transport.consumer) clickhouse = await openClickHouse(config, logger);
    const parts = roleParts(config.ROLE, !config.CLICKHOUSE_URL);
    if (parts.queries) {
      const access = (readAccess = createReadAccess(config, logger, parts.receives));
      queryRole = await startQueryRole(app, config, registry, logger, { readTenant: (request) => access.tenantFromRequest(request) });
      checks.push(...queryRole.checks);
    }
    try {
      url = await app.listen({ port: config.PORT, host: config.HOST });
    } catch (err) {
      throw listenError(err, 'PORT', config.PORT);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  const description = transport.consumer || queryRole ? clickHouseDescription(config) : undefined;
  const sqlEndpoint = queryRole?.sqlEndpoint;
  const parts = [`k8s-expenses (${config.ROLE}) listening on ${url}`, `records via ${transport.description}`];
  if (description) parts.push(`${transport.consumer ? 'rows to' : 'reads from'} ${description}`);
  if (queryRole) parts.push(`allocation API ${url}/allocation/compute`);
  if (sqlEndpoint) parts.push(`SQL endpoint ${sqlEndpoint.url}`);
  parts.push(`data in ${path.resolve(config.DATA_DIR)}`);
  logger.info({ url, role: config.ROLE, transport: transport.description, clickhouse: description, sql: sqlEndpoint?.url }, parts.join('; '));

  const stopping = new AbortController();
  const started = (async () => {
    if (!transport.consumer || !clickhouse) return;
    try {
      const onWaiting = (reason: string) => (clickhouseWait = reason);
      processor = await startProcessorRole(config, clickhouse, transport.consumer, registry, logger, { signal: stopping.signal, onWaiting });
    } catch (err) {
      if (stopping.signal.aborted) return;
      throw new ServiceError('processor-start', `the processor could not start with ${description}: ${errorMessage(err)}`, { cause: err });
    }
    logger.info({ clickhouse: description }, `processor started: migrations applied to ${description}; reading records from ${transport.description}`);
  })();
  // Observed by the entry point; marked handled here so a test that never looks does not crash.
  started.catch(() => undefined);

  let stopped: Promise<void> | undefined;
  return {
    app,
    url,
    registry,
    started,
    reload() {
      receiver?.reloadTenants();
      readAccess?.reload();
    },
    stop() {
      stopped ??= (async () => {
        receiver?.beginShutdown();
        stopping.abort();
        // A request to a server that is not there may be in flight: closing the client ends it.
        if (!processor && config.CLICKHOUSE_URL) await closeClickHouse();
        await started.catch(() => undefined);
        // Running reads are stopped (their requests answered 503), so none holds the server open.
        await queryRole?.stopReads();
        // close() stops accepting connections and waits for in-flight requests to be answered.
        await app.close();
        await transport.publisher?.close();
        await queryRole?.close();
        await processor?.close();
        await closeClickHouse();
        await transport.close();
      })();
      return stopped;
    },
  };
}
