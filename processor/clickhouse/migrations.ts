// Applies the migrations in migrations/ and records them in <database>.schema_migrations. Safe to
// run again and from several processes at once:
//  - every statement is idempotent (CREATE ... IF NOT EXISTS), so two processes that both see a
//    migration as pending both apply it without harm;
//  - schema_migrations is a ReplacingMergeTree ordered by version: both records of such a race
//    collapse into one, and reads use FINAL;
//  - a recorded checksum that differs from the file is an error: an applied migration was edited
//    (add a new migration instead);
//  - a migration that replaces a table (`-- convert-table:`) is applied by table-conversion.ts,
//    which is safe to interrupt and to race; its leftovers are folded in on every run;
//  - a migration of views that follow the configuration (`-- recreate: on every run`) is run again
//    by every run, so they always show the current setting.
// With a cluster (CLICKHOUSE_CLUSTER) every statement runs ON CLUSTER as cluster-ddl.ts rewrites
// it, and schema_migrations is replicated to every node.
import type { ClickHouseClient } from '@clickhouse/client';
import { checkIdentifier } from './identifier.ts';
import type { Log } from '../../core/log.ts';
import { clusterStatements, createDatabaseDdl, schemaMigrationsDdl, type ClusterTarget } from './cluster-ddl.ts';
import { replaceEmptyClusterTable } from './cluster-conversion.ts';
import { billingCurrency, loadMigrations, MigrationError, renderMigration, ttlClause, type MigrationFile } from './migration-files.ts';
import { convertTable, foldLeftovers } from './table-conversion.ts';

export interface MigrateOptions {
  database: string;
  /** CLICKHOUSE_TTL, e.g. "395 DAY" (applies when k8s_expenses and k8s_node_expenses are created). */
  ttl?: string;
  /** BILLING_CURRENCY (default USD): the currency the FOCUS view k8s_expenses_focus names. */
  billingCurrency?: string;
  /** CLICKHOUSE_CLUSTER: run the migrations ON CLUSTER with replicated tables (unset: one server). */
  cluster?: string;
  /** Defaults to the project's migrations/ directory. */
  migrationsDir?: string;
  logger?: Log;
}

export interface MigrationRef {
  version: number;
  name: string;
}

export interface MigrateResult {
  /** Applied by this run, in order. */
  applied: MigrationRef[];
  /** Found already applied. */
  alreadyApplied: MigrationRef[];
}

interface Recorded {
  version: number;
  name: string;
  checksum: string;
}

const ref = ({ version, name }: MigrationRef): MigrationRef => ({ version, name });

export async function migrate(client: ClickHouseClient, options: MigrateOptions): Promise<MigrateResult> {
  const database = checkIdentifier(options.database, 'CLICKHOUSE_DATABASE');
  ttlClause(options.ttl); // a bad TTL or currency fails before anything is touched
  billingCurrency(options.billingCurrency);
  const migrations = await loadMigrations(options.migrationsDir);
  const target: ClusterTarget | undefined = options.cluster === undefined ? undefined : { database, cluster: options.cluster };
  // Every statement must have its cluster form before anything runs on any node.
  if (target) for (const m of migrations) for (const statement of renderMigration(m.sql, { database, ttl: options.ttl, billingCurrency: options.billingCurrency })) clusterStatements(statement, target);
  await ensureDatabase(client, database, options.cluster);
  await client.command({ query: schemaMigrationsDdl(database, options.cluster) });
  const recorded = await readRecorded(client, database);
  checkRecorded(migrations, recorded, options.logger);

  /** Runs a migration's statements, each in its cluster form when there is a cluster. */
  const runStatements = async (statements: readonly string[]): Promise<void> => {
    for (const statement of statements) {
      for (const query of target ? clusterStatements(statement, target) : [statement]) await client.command({ query });
    }
  };
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    const values = { database, ttl: options.ttl, billingCurrency: options.billingCurrency };
    if (recorded.has(migration.version)) {
      // A conversion interrupted in another process may have left a table behind: fold it in.
      if (migration.convertsTable && !target) await foldLeftovers(client, database, migration.convertsTable, options.logger);
      if (migration.recreated) await runStatements(renderMigration(migration.sql, values));
      result.alreadyApplied.push(ref(migration));
      continue;
    }
    const statements = renderMigration(migration.sql, values);
    if (migration.convertsTable) {
      if (statements.length !== 1) throw new MigrationError(`${migration.file} converts ${migration.convertsTable}: it must hold exactly one statement, its CREATE TABLE`);
      if (target) {
        await replaceEmptyClusterTable(client, { ...target, table: migration.convertsTable, create: clusterStatements(statements[0], target), migration: migration.file });
      } else {
        await convertTable(client, { database, table: migration.convertsTable, create: statements[0], logger: options.logger });
      }
    } else {
      await runStatements(statements);
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    });
    options.logger?.info({ version: migration.version, migration: migration.file }, 'applied migration');
    result.applied.push(ref(migration));
  }
  return result;
}

/**
 * Creates the database unless it exists. Checked first so that a user without the right to create
 * databases can still migrate one that an administrator created.
 */
export async function ensureDatabase(client: ClickHouseClient, database: string, cluster?: string): Promise<void> {
  checkIdentifier(database, 'CLICKHOUSE_DATABASE');
  const result = await client.query({
    query: 'SELECT name FROM system.databases WHERE name = {database:String}',
    query_params: { database },
    format: 'JSONEachRow',
  });
  if ((await result.json()).length === 0) await client.command({ query: createDatabaseDdl(database, cluster) });
}

async function readRecorded(client: ClickHouseClient, database: string): Promise<Map<number, Recorded>> {
  const result = await client.query({
    query: `SELECT version, name, checksum FROM ${database}.schema_migrations FINAL ORDER BY version`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ version: number | string; name: string; checksum: string }>();
  return new Map(rows.map((r) => [Number(r.version), { version: Number(r.version), name: r.name, checksum: r.checksum }]));
}

function checkRecorded(migrations: MigrationFile[], recorded: Map<number, Recorded>, logger: Log | undefined): void {
  for (const m of migrations) {
    const r = recorded.get(m.version);
    if (r && r.checksum !== m.checksum) {
      throw new MigrationError(
        `migration ${m.file} was changed after it was applied (recorded checksum ${r.checksum.slice(0, 12)}, ` +
          `file ${m.checksum.slice(0, 12)}): restore it and add a new migration instead`,
      );
    }
  }
  const known = new Set(migrations.map((m) => m.version));
  for (const r of recorded.values()) {
    if (!known.has(r.version)) {
      // A newer release applied it (rolling deploy): not an error for this one.
      logger?.warn({ version: r.version, name: r.name }, 'the database has a migration this release does not know');
    }
  }
}
