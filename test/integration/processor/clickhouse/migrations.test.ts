import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deletionRow, EXPENSE_COLUMNS } from '../../../../processor/clickhouse/expense-row.ts';
import { createExpenseSink } from '../../../../processor/clickhouse/expense-sink.ts';
import { NODE_EXPENSE_COLUMNS } from '../../../../processor/clickhouse/node-expense-row.ts';
import { loadMigrations, MIGRATIONS_DIR, renderMigration } from '../../../../processor/clickhouse/migration-files.ts';
import { migrate } from '../../../../processor/clickhouse/migrations.ts';
import { rowVersion } from '../../../../processor/row-version.ts';
import { expenseRow, hourAgo, openTestEngine, queryRows, silentLog, type TestEngine } from '../../../support/clickhouse-engine.ts';

let engine: TestEngine;
let scratch: string;
/** The versions of the project's migrations, in order. */
const VERSIONS = (await loadMigrations()).map((m) => m.version);

beforeAll(async () => {
  engine = await openTestEngine('k8s');
  scratch = await mkdtemp(join(tmpdir(), 'k8s-expenses-migrations-'));
});

afterAll(async () => {
  await engine?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const conversionTables = async (database: string) =>
  (await queryRows<{ name: string }>(engine.client, `SELECT name FROM system.tables WHERE database = '${database}' AND name LIKE 'k8s_expenses_conversion_%'`)).map((r) => r.name);

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
    // Deletion rows (migration 0004): the table of 0001 was ReplacingMergeTree(version).
    expect(table.engine_full).toMatch(/^ReplacingMergeTree\(version, is_deleted\)/);
    expect(table.sorting_key).toBe('tenant_id, cluster, hour, namespace, pod');
    expect(table.partition_key).toBe('toYYYYMM(hour)');
    expect(table.engine_full).not.toMatch(/TTL/);
    expect(await queryRows(engine.client, 'SELECT count() AS n FROM fresh.k8s_expenses_final')).toEqual([{ n: '0' }]);

    // Node rows (migration 0006): versioned and deleted like k8s_expenses.
    const nodeColumns = await queryRows<{ name: string; type: string }>(engine.client, 'DESCRIBE TABLE fresh.k8s_node_expenses');
    expect(nodeColumns.map(({ name, type }) => [name, type])).toEqual(NODE_EXPENSE_COLUMNS.map(([name, type]) => [name, type]));
    const [nodes] = await queryRows<Record<string, string>>(
      engine.client,
      "SELECT engine_full, sorting_key, partition_key FROM system.tables WHERE database = 'fresh' AND name = 'k8s_node_expenses'",
    );
    expect(nodes.engine_full).toMatch(/^ReplacingMergeTree\(version, is_deleted\)/);
    expect(nodes.sorting_key).toBe('tenant_id, cluster, hour, node');
    expect(nodes.partition_key).toBe('toYYYYMM(hour)');
    expect(await queryRows(engine.client, 'SELECT count() AS n FROM fresh.k8s_node_expenses_final')).toEqual([{ n: '0' }]);
  });

  it('sets the column codecs of migration 0008 on both tables and keeps the columns\' types', async () => {
    const columns = await queryRows<{ name: string; type: string; compression_codec: string }>(
      engine.client,
      "SELECT name, type, compression_codec FROM system.columns WHERE database = 'fresh' AND table = 'k8s_expenses' ORDER BY position",
    );
    expect(columns.map((c) => [c.name, c.type])).toEqual(EXPENSE_COLUMNS.map(([name, type]) => [name, type]));
    const codec = Object.fromEntries(columns.map((c) => [c.name, c.compression_codec]));
    expect(codec).toMatchObject({ pod: 'CODEC(ZSTD(3))', labels: 'CODEC(ZSTD(3))', total_cost: 'CODEC(ZSTD(3))', cpu_usage_avg: 'CODEC(ZSTD(3))' });
    expect(codec.hour).toMatch(/^CODEC\(Delta(\(4\))?, ZSTD\(1\)\)$/);
    expect(codec.version).toMatch(/^CODEC\(Delta(\(8\))?, ZSTD\(1\)\)$/);
    expect(codec).toMatchObject({ tenant_id: '', is_final: '', is_deleted: '' });

    const nodeColumns = await queryRows<{ name: string; type: string; compression_codec: string }>(
      engine.client,
      "SELECT name, type, compression_codec FROM system.columns WHERE database = 'fresh' AND table = 'k8s_node_expenses' ORDER BY position",
    );
    expect(nodeColumns.map((c) => [c.name, c.type])).toEqual(NODE_EXPENSE_COLUMNS.map(([name, type]) => [name, type]));
    const nodeCodec = Object.fromEntries(nodeColumns.map((c) => [c.name, c.compression_codec]));
    expect(nodeCodec).toMatchObject({ minutes: 'CODEC(ZSTD(3))', cpu_cores: 'CODEC(ZSTD(3))', total_cost: 'CODEC(ZSTD(3))', idle_cost: 'CODEC(ZSTD(3))', cpu_idle_cost: 'CODEC(ZSTD(3))' });
    expect(nodeCodec.hour).toMatch(/^CODEC\(Delta(\(4\))?, ZSTD\(1\)\)$/);
    expect(nodeCodec.version).toMatch(/^CODEC\(Delta(\(8\))?, ZSTD\(1\)\)$/);
    expect(nodeCodec.updated_at).toMatch(/^CODEC\(Delta(\(8\))?, ZSTD\(1\)\)$/);
    expect(nodeCodec).toMatchObject({ tenant_id: '', node: '', spot: '', is_final: '', is_deleted: '' });
  });

  it('does nothing when run again', async () => {
    await migrate(engine.client, { database: 'again' });
    await engine.client.command({ query: "INSERT INTO again.k8s_expenses (tenant_id, hour, version) VALUES ('t', now(), 1)" });
    const result = await migrate(engine.client, { database: 'again' });
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied.map((m) => m.version)).toEqual(VERSIONS);
    expect(await queryRows(engine.client, 'SELECT count() AS n FROM again.k8s_expenses')).toEqual([{ n: '1' }]);
    expect(await queryRows(engine.client, 'SELECT count() AS n FROM again.schema_migrations FINAL')).toEqual([{ n: String(VERSIONS.length) }]);
  });

  it('survives two runs racing on the same database', async () => {
    const results = await Promise.allSettled([migrate(engine.client, { database: 'race' }), migrate(engine.client, { database: 'race' })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect((await recorded('race')).map((r) => r.version)).toEqual(VERSIONS);
    expect(await conversionTables('race')).toEqual([]);
    expect((await migrate(engine.client, { database: 'race' })).applied).toEqual([]);
  });

  it('applies CLICKHOUSE_TTL when it creates the table', async () => {
    await migrate(engine.client, { database: 'retention', ttl: '30 DAY' });
    const [{ statement }] = await queryRows<{ statement: string }>(engine.client, 'SHOW CREATE TABLE retention.k8s_expenses');
    expect(statement).toMatch(/TTL hour \+ toIntervalDay\(30\)/);
    expect(statement).toMatch(/ttl_only_drop_parts = 1/);
    const [{ statement: nodes }] = await queryRows<{ statement: string }>(engine.client, 'SHOW CREATE TABLE retention.k8s_node_expenses');
    expect(nodes).toMatch(/TTL hour \+ toIntervalDay\(30\)/);
    expect(nodes).toMatch(/ttl_only_drop_parts = 1/);
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
    expect((await migrate(engine.client, { database: 'newer', migrationsDir: dir })).applied.map((m) => m.version)).toEqual([...VERSIONS, 99]);
    const warn = vi.fn();
    const result = await migrate(engine.client, { database: 'newer', logger: { ...silentLog, warn } });
    expect(result.applied).toEqual([]);
    expect(warn).toHaveBeenCalledWith({ version: 99, name: 'extra' }, expect.stringMatching(/does not know/));
  });
});

describe('the conversion to deletion rows (migration 0004) of a table of earlier releases', () => {
  const HOUR = hourAgo(3);
  /** Microseconds of wall time: the versions earlier releases stored. */
  const OLD_VERSION = 1_790_000_000_000_000;

  /** A database as the releases before 0004 left it: migrations 0001 to 0003, and rows in it. */
  const earlierRelease = async (database: string, ttl?: string): Promise<void> => {
    const dir = join(scratch, `earlier-${database}`);
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    for (const m of await loadMigrations(dir)) if (m.version >= 4) await rm(join(dir, m.file));
    expect((await migrate(engine.client, { database, ttl, migrationsDir: dir })).applied.map((m) => m.version)).toEqual([1, 2, 3]);
    const rows = [];
    for (const [i, pod] of ['a', 'b', 'c'].entries()) {
      for (const hour of [HOUR, HOUR + 3_600_000]) {
        const base = { tenant_id: 'acme', cluster: 'prod', namespace: 'shop', pod, hour: hour / 1000, workload: 'web', updated_at: '2026-01-01 00:00:00.000' };
        rows.push({ ...base, total_cost: i + 0.5, is_final: 0, version: OLD_VERSION });
        rows.push({ ...base, total_cost: i + 1, is_final: 1, version: OLD_VERSION + 60_000_000 });
      }
    }
    // Separate inserts: within one insert block, equal keys are already collapsed.
    for (const row of rows) await engine.client.insert({ table: `${database}.k8s_expenses`, values: [row], format: 'JSONEachRow' });
  };

  const latest = (database: string, from = 'k8s_expenses FINAL') =>
    queryRows(engine.client, `SELECT pod, toUnixTimestamp(hour) AS hour, total_cost, is_final, version FROM ${database}.${from} ORDER BY pod, hour`);
  const byArgMax = (database: string) =>
    queryRows(
      engine.client,
      `SELECT pod, hour, total_cost, is_final, latest AS version FROM (
         SELECT pod, toUnixTimestamp(hour) AS hour, argMax(total_cost, version) AS total_cost, argMax(is_final, version) AS is_final, max(version) AS latest
         FROM ${database}.k8s_expenses GROUP BY tenant_id, cluster, hour, namespace, pod HAVING argMax(is_deleted, version) = 0
       ) ORDER BY pod, hour`,
    );
  const engineOf = async (database: string) =>
    (await queryRows<{ engine_full: string }>(engine.client, `SELECT engine_full FROM system.tables WHERE database = '${database}' AND name = 'k8s_expenses'`))[0].engine_full;

  it('replaces the table in place, keeping its rows, after which deletion rows leave keys out', async () => {
    await earlierRelease('upgrade', '400 DAY');
    const before = await latest('upgrade');
    expect(before).toHaveLength(6);
    expect(await engineOf('upgrade')).toMatch(/^ReplacingMergeTree\(version\) /);

    const result = await migrate(engine.client, { database: 'upgrade', ttl: '400 DAY' });
    expect(result.applied.map((m) => m.version)).toEqual(VERSIONS.filter((v) => v >= 4));
    expect(await engineOf('upgrade')).toMatch(/^ReplacingMergeTree\(version, is_deleted\) .*TTL hour \+ toIntervalDay\(400\) SETTINGS .*ttl_only_drop_parts = 1/);
    const columns = await queryRows<{ name: string; type: string }>(engine.client, 'DESCRIBE TABLE upgrade.k8s_expenses');
    expect(columns.map(({ name, type }) => [name, type])).toEqual(EXPENSE_COLUMNS.map(([name, type]) => [name, type]));
    expect(await latest('upgrade')).toEqual(before);
    expect(await byArgMax('upgrade')).toEqual(before);
    expect(await latest('upgrade', 'k8s_expenses_final')).toEqual(before);
    expect(await conversionTables('upgrade')).toEqual([]);

    // The first rows of this release replace those of earlier releases, and a deletion row hides its key.
    const version = rowVersion(0n, false);
    const sink = createExpenseSink(engine.client, { database: 'upgrade' });
    await sink.write([expenseRow({ namespace: 'shop', pod: 'b', hour: HOUR, total_cost: 9, is_final: false, version }), deletionRow('acme', 'prod', HOUR, '4:shopa', false, version, Date.now())]);
    const after = (await latest('upgrade')).filter((r) => r.hour === HOUR / 1000).map((r) => [r.pod, r.total_cost]);
    expect(after).toEqual([
      ['b', 9],
      ['c', 3],
    ]);
    expect((await byArgMax('upgrade')).filter((r) => r.hour === HOUR / 1000).map((r) => [r.pod, r.total_cost])).toEqual(after);
    const view = await queryRows<Record<string, unknown>>(engine.client, `SELECT * FROM upgrade.k8s_expenses_final WHERE hour = toDateTime(${HOUR / 1000}) ORDER BY pod`);
    expect(view.map((r) => r.pod)).toEqual(['b', 'c']);
    expect(Object.keys(view[0])).not.toContain('is_deleted');
  });

  it('keeps every row when two processes upgrade at once', async () => {
    await earlierRelease('upgrade_race');
    const before = await latest('upgrade_race');
    const results = await Promise.allSettled([migrate(engine.client, { database: 'upgrade_race' }), migrate(engine.client, { database: 'upgrade_race' })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await engineOf('upgrade_race')).toMatch(/^ReplacingMergeTree\(version, is_deleted\)/);
    expect(await latest('upgrade_race')).toEqual(before);
    expect(await conversionTables('upgrade_race')).toEqual([]);
    expect((await recorded('upgrade_race')).map((r) => r.version)).toEqual(VERSIONS);
  });

  /** The new definition under a temporary name, as a conversion creates it. */
  const createStaging = async (database: string, name: string) => {
    const file = (await loadMigrations()).find((m) => m.version === 4)!;
    const [create] = renderMigration(file.sql, { database });
    await engine.client.command({ query: create.replace(`CREATE TABLE IF NOT EXISTS ${database}.k8s_expenses`, `CREATE TABLE ${database}.${name}`) });
  };

  it('takes up an upgrade interrupted before its exchange', async () => {
    await earlierRelease('upgrade_early');
    const before = await latest('upgrade_early');
    await createStaging('upgrade_early', 'k8s_expenses_conversion_0a1b2c3d4e5f');
    await engine.client.command({ query: "INSERT INTO upgrade_early.k8s_expenses_conversion_0a1b2c3d4e5f SELECT * EXCEPT (updated_at), 0, updated_at FROM upgrade_early.k8s_expenses WHERE pod = 'a'" });
    await migrate(engine.client, { database: 'upgrade_early' });
    expect(await engineOf('upgrade_early')).toMatch(/^ReplacingMergeTree\(version, is_deleted\)/);
    expect(await latest('upgrade_early')).toEqual(before);
    expect(await conversionTables('upgrade_early')).toEqual([]);
  });

  it('takes up an upgrade interrupted after its exchange, with a row written to the old table meanwhile', async () => {
    await earlierRelease('upgrade_late');
    await createStaging('upgrade_late', 'k8s_expenses_conversion_0a1b2c3d4e5f');
    await engine.client.command({ query: 'INSERT INTO upgrade_late.k8s_expenses_conversion_0a1b2c3d4e5f SELECT * EXCEPT (updated_at), 0, updated_at FROM upgrade_late.k8s_expenses' });
    await engine.client.command({ query: 'EXCHANGE TABLES upgrade_late.k8s_expenses AND upgrade_late.k8s_expenses_conversion_0a1b2c3d4e5f' });
    // An earlier release's processor wrote once more to the table it knew, now the old one.
    const late = { tenant_id: 'acme', cluster: 'prod', namespace: 'shop', pod: 'd', hour: HOUR / 1000, total_cost: 4, is_final: 1, version: OLD_VERSION, updated_at: '2026-01-01 00:00:00.000' };
    await engine.client.insert({ table: 'upgrade_late.k8s_expenses_conversion_0a1b2c3d4e5f', values: [late], format: 'JSONEachRow' });
    await migrate(engine.client, { database: 'upgrade_late' });
    expect((await latest('upgrade_late')).map((r) => r.pod)).toEqual(['a', 'a', 'b', 'b', 'c', 'c', 'd']);
    expect(await conversionTables('upgrade_late')).toEqual([]);
    // Found again after the upgrade was recorded (a racing run that was killed): folded in on the next start.
    await createStaging('upgrade_late', 'k8s_expenses_conversion_ffffffffffff');
    await engine.client.insert({ table: 'upgrade_late.k8s_expenses_conversion_ffffffffffff', values: [{ ...late, pod: 'e' }], format: 'JSONEachRow' });
    expect((await migrate(engine.client, { database: 'upgrade_late' })).applied).toEqual([]);
    expect((await latest('upgrade_late')).map((r) => r.pod)).toContain('e');
    expect(await conversionTables('upgrade_late')).toEqual([]);
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
    expect(first.stdout).toMatch(new RegExp(`database cli: ${VERSIONS.length} applied, 0 already applied`));
    const second = run(dataDir);
    expect(second.stdout).toMatch(new RegExp(`database cli: 0 applied, ${VERSIONS.length} already applied`));
  });

  it('explains that another process owns the data directory', () => {
    const result = run(engine.dataDir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`is in use by another process (process ${process.pid}): one process at a time may own the embedded ClickHouse engine's directory`);
  });
});
