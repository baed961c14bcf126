import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXPENSE_COLUMNS } from '../../../../processor/clickhouse/expense-row.ts';
import { loadMigrations, MIGRATIONS_DIR } from '../../../../processor/clickhouse/migration-files.ts';
import { migrate } from '../../../../processor/clickhouse/migrations.ts';
import { openTestEngine, queryRows, silentLog, type TestEngine } from '../../../support/clickhouse-engine.ts';

let engine: TestEngine;
let scratch: string;

beforeAll(async () => {
  engine = await openTestEngine('k8s');
  scratch = await mkdtemp(join(tmpdir(), 'k8s-expenses-migrations-'));
});

afterAll(async () => {
  await engine?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const recorded = (database: string) =>
  queryRows<{ version: number; name: string; checksum: string }>(engine.client, `SELECT version, name, checksum FROM ${database}.schema_migrations FINAL ORDER BY version`);

describe('migrate', () => {
  it('creates the database and the tables, and records each migration', async () => {
    const files = await loadMigrations();
    const result = await migrate(engine.client, { database: 'fresh', logger: silentLog });
    expect(result).toEqual({ applied: files.map(({ version, name }) => ({ version, name })), alreadyApplied: [] });
    expect(await recorded('fresh')).toEqual(files.map(({ version, name, checksum }) => ({ version, name, checksum })));

    const columns = await queryRows<{ name: string; type: string }>(engine.client, 'DESCRIBE TABLE fresh.k8s_expenses');
    expect(columns.map(({ name, type }) => [name, type])).toEqual(EXPENSE_COLUMNS.map(([name, type]) => [name, type]));
    const [table] = await queryRows<Record<string, string>>(
      engine.client,
      "SELECT engine_full, sorting_key, partition_key FROM system.tables WHERE database = 'fresh' AND name = 'k8s_expenses'",
    );
    expect(table.engine_full).toMatch(/^ReplacingMergeTree\(version\)/);
    expect(table.sorting_key).toBe('tenant_id, cluster, hour, namespace, pod');
    expect(table.partition_key).toBe('toYYYYMM(hour)');
    expect(table.engine_full).not.toMatch(/TTL/);
    expect(await queryRows(engine.client, 'SELECT count() AS n FROM fresh.k8s_expenses_final')).toEqual([{ n: '0' }]);
  });

  it('does nothing when run again', async () => {
    await migrate(engine.client, { database: 'again' });
    await engine.client.command({ query: "INSERT INTO again.k8s_expenses (tenant_id, hour, version) VALUES ('t', now(), 1)" });
    const result = await migrate(engine.client, { database: 'again' });
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied.map((m) => m.version)).toEqual([1, 2, 3]);
    expect(await queryRows(engine.client, 'SELECT count() AS n FROM again.k8s_expenses')).toEqual([{ n: '1' }]);
    expect(await queryRows(engine.client, 'SELECT count() AS n FROM again.schema_migrations FINAL')).toEqual([{ n: '3' }]);
  });

  it('survives two runs racing on the same database', async () => {
    const results = await Promise.allSettled([migrate(engine.client, { database: 'race' }), migrate(engine.client, { database: 'race' })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect((await recorded('race')).map((r) => r.version)).toEqual([1, 2, 3]);
    expect((await migrate(engine.client, { database: 'race' })).applied).toEqual([]);
  });

  it('applies CLICKHOUSE_TTL when it creates the table', async () => {
    await migrate(engine.client, { database: 'retention', ttl: '30 DAY' });
    const [{ statement }] = await queryRows<{ statement: string }>(engine.client, 'SHOW CREATE TABLE retention.k8s_expenses');
    expect(statement).toMatch(/TTL hour \+ toIntervalDay\(30\)/);
    expect(statement).toMatch(/ttl_only_drop_parts = 1/);
  });

  it('refuses a malformed TTL before touching anything', async () => {
    await expect(migrate(engine.client, { database: 'badttl', ttl: '30 DAYS; DROP TABLE x' })).rejects.toThrow(/CLICKHOUSE_TTL must be/);
    expect(await queryRows(engine.client, "SELECT name FROM system.databases WHERE name = 'badttl'")).toEqual([]);
  });

  it('fails when an applied migration was edited', async () => {
    const dir = join(scratch, 'edited');
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(engine.client, { database: 'edited', migrationsDir: dir });
    const file = join(dir, '0002_k8s_expenses_final.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);
    await expect(migrate(engine.client, { database: 'edited', migrationsDir: dir })).rejects.toThrow(
      /migration 0002_k8s_expenses_final\.sql was changed after it was applied/,
    );
  });

  it('applies a new migration and warns about recorded ones it does not know', async () => {
    const dir = join(scratch, 'newer');
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await writeFile(join(dir, '0099_extra.sql'), 'CREATE TABLE IF NOT EXISTS {database}.extra (a UInt8) ENGINE = MergeTree ORDER BY a;');
    expect((await migrate(engine.client, { database: 'newer', migrationsDir: dir })).applied.map((m) => m.version)).toEqual([1, 2, 3, 99]);
    const warn = vi.fn();
    const result = await migrate(engine.client, { database: 'newer', logger: { ...silentLog, warn } });
    expect(result.applied).toEqual([]);
    expect(warn).toHaveBeenCalledWith({ version: 99, name: 'extra' }, expect.stringMatching(/does not know/));
  });
});

describe('npm run migrate', () => {
  const run = (dataDir: string) =>
    spawnSync('npx', ['tsx', 'cli/migrate.ts'], {
      cwd: join(import.meta.dirname, '../../../..'),
      env: { ...process.env, DATA_DIR: dataDir, CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: 'cli' },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('applies the migrations to the embedded engine, then finds them applied', () => {
    const dataDir = join(scratch, 'cli-data');
    const first = run(dataDir);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/applied 0001_k8s_expenses\n/);
    expect(first.stdout).toMatch(/database cli: 3 applied, 0 already applied/);
    const second = run(dataDir);
    expect(second.stdout).toMatch(/database cli: 0 applied, 3 already applied/);
  });

  it('explains that another process owns the data directory', () => {
    const result = run(engine.dataDir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`is in use by another process (process ${process.pid}): one process at a time may own the embedded ClickHouse engine's directory`);
  });
});
