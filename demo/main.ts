// `npm run demo`: a simulated Kubecost/OpenCost cluster without a cluster. Starts the demo exporter
// and a sender that scrapes it every 15 s and remote-writes to the local service as tenant `demo`,
// cluster `demo-cluster`. With `--exporter-only` it serves the exporter alone (docker-compose, or a
// real Prometheus / vmagent scraping it).
//
//   npm run demo [-- --interval 15s] [--seed 42] [--port 9003] [--write-url URL] [--tenant demo]
//   npm run demo -- --exporter-only --host 0.0.0.0 --port 9003
//
// The receiver's address comes from PORT (default 9201) and its tenant header from TENANT_HEADER,
// as for the service. When the service runs with TENANTS_FILE, pass a token of the demo tenant in
// DEMO_TOKEN (create one with `npm run -s tenants -- add demo`).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, parseDuration } from '../service/config.ts';
import { DEFAULT_DEMO_SEED, DEFAULT_EXPORTER_PORT, startDemoExporter } from './exporter.ts';
import { DEFAULT_SCRAPE_INTERVAL_MS, startSender } from './sender.ts';

const USAGE = `usage: npm run demo -- [options]
  --interval DURATION  scrape and send interval (default 15s; env DEMO_SCRAPE_INTERVAL)
  --seed N             the simulated cluster's seed (default ${DEFAULT_DEMO_SEED})
  --host HOST          exporter address (default 127.0.0.1)
  --port N             exporter port (default ${DEFAULT_EXPORTER_PORT})
  --write-url URL      where to remote-write (default http://127.0.0.1:$PORT/api/v1/write)
  --tenant ID          tenant sent in the tenant header (default demo)
  --cluster ID         external label cluster_id (default demo-cluster)
  --exporter-only      serve the exporter, send nothing
env: DEMO_TOKEN (bearer token, when the service uses TENANTS_FILE), PORT, TENANT_HEADER`;

const FIRST_QUERY = 'npm run -s sql -- "SELECT namespace, round(sum(total_cost), 6) AS cost FROM k8s_expenses FINAL GROUP BY namespace ORDER BY cost DESC"';

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      options: {
        interval: { type: 'string' },
        seed: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'write-url': { type: 'string' },
        tenant: { type: 'string' },
        cluster: { type: 'string' },
        'exporter-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
}

function integer(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) fail(`${what} must be a non-negative integer, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const args = parse();
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const seed = integer(args.seed, DEFAULT_DEMO_SEED, '--seed');
  const port = integer(args.port, DEFAULT_EXPORTER_PORT, '--port');
  if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
  const intervalText = args.interval ?? process.env.DEMO_SCRAPE_INTERVAL;
  const intervalMs = intervalText === undefined || intervalText === '' ? DEFAULT_SCRAPE_INTERVAL_MS : parseDuration(intervalText);
  if (intervalMs === undefined || intervalMs < 100) fail(`the interval must be a duration of at least 100ms, such as 15s, got "${intervalText}"`);

  let exporter;
  try {
    exporter = await startDemoExporter({ seed, port, host: args.host ?? '127.0.0.1' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    fail(code === 'EADDRINUSE' ? `port ${port} is in use: pick another with --port` : (err as Error).message);
  }
  process.stdout.write(`demo exporter: ${exporter.url}/metrics (seed ${seed}): 3 nodes, one without prices; Deployments, a Rollout, a StatefulSet with a PVC, a DaemonSet, CronJobs, a bare pod, a load balancer\n`);

  let sender: ReturnType<typeof startSender> | undefined;
  if (!args['exporter-only']) {
    let config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message);
      throw err;
    }
    const token = process.env.DEMO_TOKEN?.trim() || undefined;
    if (config.TENANTS_FILE && !token) {
      process.stderr.write('demo: TENANTS_FILE is set, so the service wants credentials: create a token with `npm run -s tenants -- add demo` and pass it in DEMO_TOKEN\n');
    }
    const writeUrl = args['write-url'] ?? `http://127.0.0.1:${config.PORT}/api/v1/write`;
    const tenant = args.tenant ?? 'demo';
    const cluster = args.cluster ?? 'demo-cluster';
    sender = startSender({
      scrapeUrl: `${exporter.url}/metrics`,
      writeUrl,
      intervalMs,
      tenant,
      tenantHeader: config.TENANT_HEADER,
      token,
      externalLabels: { cluster_id: cluster },
    });
    process.stdout.write(
      `demo sender: scraping every ${intervalMs / 1000}s and remote-writing to ${writeUrl} ${token ? 'with DEMO_TOKEN' : `as tenant ${tenant}`}, cluster ${cluster}\n` +
        `costs appear within a minute (the service writes open hours every FLUSH_INTERVAL); then try:\n  ${FIRST_QUERY}\n`,
    );
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    await sender?.stop();
    await exporter.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
