// The demo exporter: the simulated cluster (cluster.ts) as Prometheus text on GET /metrics, for the
// demo sender, a real Prometheus or vmagent to scrape. GET /healthz answers "ok".
//
//   const exporter = await startDemoExporter({ port: 9003 });   // http://127.0.0.1:9003/metrics
//   await exporter.close();
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clusterAt } from './cluster.ts';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition.ts';
import { DEMO_FAMILIES, seriesOf } from './series.ts';

export const DEFAULT_DEMO_SEED = 42;
/** The port Kubecost's cost-model serves its metrics on. */
export const DEFAULT_EXPORTER_PORT = 9003;

export interface DemoExporterOptions {
  /** Same seed and clock, same exposition. Default 42. */
  seed?: number;
  /** The clock (milliseconds since the epoch). Default Date.now. */
  now?: () => number;
}

/** The exposition text of the simulated cluster at `nowMs`. */
export function demoExposition(seed: number, nowMs: number): string {
  return renderExposition(seriesOf(seed, clusterAt(seed, nowMs)), DEMO_FAMILIES);
}

export type MetricsHandler = ((req: http.IncomingMessage, res: http.ServerResponse) => void) & {
  /** Scrapes of /metrics answered so far. */
  readonly scrapes: number;
};

/** A request handler for node:http serving /metrics and /healthz. */
export function createMetricsHandler(options: DemoExporterOptions = {}): MetricsHandler {
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const now = options.now ?? Date.now;
  let scrapes = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      scrapes++;
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : demoExposition(seed, now()));
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('the demo exporter serves /metrics\n');
  };
  Object.defineProperty(handler, 'scrapes', { get: () => scrapes });
  return handler as MetricsHandler;
}

export interface DemoExporter {
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:9003; the series are at `${url}/metrics`. */
  readonly url: string;
  readonly scrapes: number;
  close(): Promise<void>;
}

/** Starts the exporter on `port` (0: a free one) of `host` (default 127.0.0.1). */
export async function startDemoExporter(options: DemoExporterOptions & { port?: number; host?: string } = {}): Promise<DemoExporter> {
  const handler = createMetricsHandler(options);
  const server = http.createServer(handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_EXPORTER_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `http://${shown}:${port}`,
    get scrapes() {
      return handler.scrapes;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
