import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadMigrations,
  migrationChecksum,
  MigrationError,
  parseMigrationFileName,
  renderMigration,
  ttlClause,
} from '../../../../processor/clickhouse/migration-files.ts';

describe('parseMigrationFileName', () => {
  it.each([
    ['0001_k8s_expenses.sql', { version: 1, name: 'k8s_expenses' }],
    ['0042_add_index.sql', { version: 42, name: 'add_index' }],
    ['1_x.sql', undefined],
    ['0001-x.sql', undefined],
    ['0001_X.sql', undefined],
    ['0001_x.txt', undefined],
  ])('%s', (file, expected) => {
    expect(parseMigrationFileName(file)).toEqual(expected);
  });
});

describe('ttlClause', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['395 DAY', 'TTL hour + INTERVAL 395 DAY'],
    ['13 month', 'TTL hour + INTERVAL 13 MONTH'],
    [' 2 YEAR ', 'TTL hour + INTERVAL 2 YEAR'],
    ['52 WEEK', 'TTL hour + INTERVAL 52 WEEK'],
  ])('%j gives %j', (ttl, clause) => {
    expect(ttlClause(ttl)).toBe(clause);
  });

  it.each(['395', 'DAY', '395 DAYS', '0 DAY', '-1 DAY', '395  DAY', '1 DAY; DROP TABLE x', '1 HOUR', '1.5 DAY', '395 DAY DELETE'])(
    'refuses %j',
    (ttl) => {
      expect(() => ttlClause(ttl)).toThrow(MigrationError);
      expect(() => ttlClause(ttl)).toThrow(/CLICKHOUSE_TTL must be/);
    },
  );
});

describe('renderMigration', () => {
  it('fills {database} and {ttl} and splits statements', () => {
    const sql = 'CREATE TABLE IF NOT EXISTS {database}.t (hour DateTime) ENGINE = MergeTree ORDER BY hour {ttl};\nCREATE VIEW IF NOT EXISTS {database}.v AS SELECT * FROM {database}.t;';
    expect(renderMigration(sql, { database: 'k8s', ttl: '30 DAY' })).toEqual([
      'CREATE TABLE IF NOT EXISTS k8s.t (hour DateTime) ENGINE = MergeTree ORDER BY hour TTL hour + INTERVAL 30 DAY',
      'CREATE VIEW IF NOT EXISTS k8s.v AS SELECT * FROM k8s.t',
    ]);
    expect(renderMigration(sql, { database: 'k8s' })[0]).toBe('CREATE TABLE IF NOT EXISTS k8s.t (hour DateTime) ENGINE = MergeTree ORDER BY hour');
  });

  it('refuses unknown placeholders and odd database names', () => {
    expect(() => renderMigration('SELECT {datbase}', { database: 'k8s' })).toThrow(/unknown placeholder \{datbase\}/);
    expect(() => renderMigration('SELECT 1', { database: 'k8s; DROP' })).toThrow(/plain identifier/);
  });
});

describe('migrationChecksum', () => {
  it('ignores CRLF line endings and sees any other change', () => {
    expect(migrationChecksum('a\r\nb\r\n')).toBe(migrationChecksum('a\nb\n'));
    expect(migrationChecksum('a\nb\n')).not.toBe(migrationChecksum('a\nb \n'));
  });
});

describe('loadMigrations', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads the project migrations in order, each statement safe to run twice', async () => {
    const migrations = await loadMigrations();
    expect(migrations.map((m) => m.file).slice(0, 2)).toEqual(['0001_k8s_expenses.sql', '0002_k8s_expenses_final.sql']);
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort((a, b) => a - b));
    for (const m of migrations) {
      expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
      for (const statement of renderMigration(m.sql, { database: 'db', ttl: '1 DAY' })) {
        // Two processes may apply a migration at once: only idempotent statements.
        expect(statement, m.file).toMatch(
          /^(CREATE (TABLE|VIEW|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS|CREATE OR REPLACE VIEW|ALTER TABLE \S+ ((ADD|DROP|MODIFY|COMMENT) \w+ IF (NOT )?EXISTS|MODIFY SETTING|MODIFY TTL))\b/,
        );
      }
    }
  });

  it('knows the migrations that replace a table by their first line', async () => {
    const migrations = await loadMigrations();
    expect(migrations.filter((m) => m.convertsTable).map((m) => [m.file, m.convertsTable])).toEqual([['0004_k8s_expenses_deletion_rows.sql', 'k8s_expenses']]);
    for (const m of migrations.filter((x) => x.convertsTable)) expect(renderMigration(m.sql, { database: 'db' })).toHaveLength(1);
  });

  it('refuses badly named files and duplicate versions', async () => {
    dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    await writeFile(join(dir, 'README.md'), 'ignored');
    await writeFile(join(dir, '0001_a.sql'), 'SELECT 1');
    expect((await loadMigrations(dir)).map((m) => m.name)).toEqual(['a']);
    await writeFile(join(dir, '0001_b.sql'), 'SELECT 1');
    await expect(loadMigrations(dir)).rejects.toThrow(/same version 1/);
    await rm(join(dir, '0001_b.sql'));
    await writeFile(join(dir, '2-b.sql'), 'SELECT 1');
    await expect(loadMigrations(dir)).rejects.toThrow(/2-b\.sql: migration files are named NNNN_name\.sql/);
  });
});
