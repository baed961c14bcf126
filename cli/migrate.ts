// `npm run migrate`: applies the migrations to the configured ClickHouse (the service also does this
// at start-up). With the embedded engine it needs the data directory, so the service must be stopped.
import { ConfigError, loadConfig } from '../service/config.ts';
import { openClickHouse } from '../processor/clickhouse/client.ts';
import { cliLog } from './cli-log.ts';
import { migrate } from '../processor/clickhouse/migrations.ts';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const client = await openClickHouse(config, cliLog);
  try {
    const { applied, alreadyApplied } = await migrate(client, { database: config.CLICKHOUSE_DATABASE, ttl: config.CLICKHOUSE_TTL, billingCurrency: config.BILLING_CURRENCY, cluster: config.CLICKHOUSE_CLUSTER, logger: cliLog });
    const name = (m: { version: number; name: string }) => `${String(m.version).padStart(4, '0')}_${m.name}`;
    for (const m of applied) process.stdout.write(`applied ${name(m)}\n`);
    process.stdout.write(`database ${config.CLICKHOUSE_DATABASE}: ${applied.length} applied, ${alreadyApplied.length} already applied\n`);
    return 0;
  } finally {
    await client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
