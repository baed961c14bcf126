// The service's HTTP server: health, readiness and metrics for every role; the receiver adds its routes.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  isReady(): boolean;
  /** Why it is not ready, shown in /ready so an operator sees the cause without reading logs. */
  reason?(): string | undefined;
}

export interface HttpServerOptions {
  logger: Logger;
  registry: Registry;
  readiness: () => readonly ReadinessCheck[];
  trustProxy?: boolean;
  /** The receiver's body deadline (BODY_TIMEOUT): Node's own request timeout must come later. */
  bodyTimeoutMs?: number;
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger at run time; the declared types differ only in generics.
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    trustProxy: options.trustProxy ?? false,
    // Bounds on slow or stuck clients. The receiver ends a slow body itself with a 503 the sender
    // retries; Node's request timeout answers 408, which Prometheus drops, so it comes later.
    requestTimeout: Math.max(60_000, (options.bodyTimeoutMs ?? 0) + 30_000),
    connectionTimeout: 120_000,
    keepAliveTimeout: 65_000,
    // One log line per request would dominate at thousands of requests per second; failures are logged by the routes.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });

  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));

  app.get('/ready', async (_req, reply) => {
    const checks = options.readiness().map((c) => {
      const ready = c.isReady();
      const reason = ready ? undefined : c.reason?.();
      return reason === undefined ? { name: c.name, ready } : { name: c.name, ready, reason };
    });
    const ready = checks.every((c) => c.ready);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });

  return app;
}
