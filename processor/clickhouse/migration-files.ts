// The migration files (migrations/NNNN_name.sql): reading, checksums and templating. Pure apart from
// reading the directory; applying them is migrations.ts.
//
// Placeholders: {database} (CLICKHOUSE_DATABASE) and {ttl} ("TTL hour + INTERVAL 395 DAY" from
// CLICKHOUSE_TTL="395 DAY", or nothing). Every statement must be safe to run twice (CREATE ... IF NOT
// EXISTS, ADD COLUMN IF NOT EXISTS, ...): two processes starting together may both apply a migration.
//
// A migration whose first line is `-- convert-table: <table>` holds one statement, the new
// definition of that existing table (CREATE TABLE IF NOT EXISTS {database}.<table> ...): what cannot
// be altered in place (the engine). The runner replaces the table by it, keeping its rows
// (table-conversion.ts).
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkIdentifier } from './identifier.ts';
import { splitStatements } from './sql-tokens.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface MigrationFile {
  version: number;
  /** The file name without version and extension: "k8s_expenses". */
  name: string;
  file: string;
  /** The file's text, templates unexpanded. */
  sql: string;
  /** sha256 of the text (line endings normalized), recorded when applied. */
  checksum: string;
  /** The table this migration replaces by its one CREATE TABLE (`-- convert-table: <table>`). */
  convertsTable?: string;
}

export interface TemplateValues {
  database: string;
  /** CLICKHOUSE_TTL, e.g. "395 DAY"; undefined keeps rows forever. */
  ttl?: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const TTL = /^([1-9]\d{0,4}) (DAY|WEEK|MONTH|YEAR)$/i;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const CONVERTS = /^-- convert-table: ([A-Za-z_][A-Za-z0-9_]*)\r?\n/;

export function parseMigrationFileName(file: string): { version: number; name: string } | undefined {
  const m = FILE_NAME.exec(file);
  return m ? { version: Number(m[1]), name: m[2] } : undefined;
}

export function migrationChecksum(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

/** The migrations of `dir` in version order. Other .sql names and duplicate versions are errors. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: MigrationFile[] = [];
  for (const file of files) {
    const parsed = parseMigrationFileName(file);
    if (!parsed) throw new MigrationError(`${file}: migration files are named NNNN_name.sql (four digits, lower-case name)`);
    const clash = migrations.find((m) => m.version === parsed.version);
    if (clash) throw new MigrationError(`${file} and ${clash.file} have the same version ${parsed.version}`);
    const sql = await readFile(join(dir, file), 'utf8');
    const convertsTable = CONVERTS.exec(sql)?.[1];
    migrations.push({ ...parsed, file, sql, checksum: migrationChecksum(sql), ...(convertsTable ? { convertsTable } : {}) });
  }
  return migrations;
}

/** "TTL hour + INTERVAL 395 DAY" for "395 DAY"; "" when unset. Anything else is an error. */
export function ttlClause(ttl: string | undefined): string {
  if (ttl === undefined || ttl.trim() === '') return '';
  const m = TTL.exec(ttl.trim());
  if (!m) {
    throw new MigrationError(`CLICKHOUSE_TTL must be a number and DAY, WEEK, MONTH or YEAR, such as "395 DAY"; got ${JSON.stringify(ttl)}`);
  }
  return `TTL hour + INTERVAL ${m[1]} ${m[2].toUpperCase()}`;
}

/** The statements of a migration with its placeholders filled in. */
export function renderMigration(sql: string, values: TemplateValues): string[] {
  const vars: Record<string, string> = {
    database: checkIdentifier(values.database, 'the database'),
    ttl: ttlClause(values.ttl),
  };
  const text = sql.replace(PLACEHOLDER, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new MigrationError(`unknown placeholder ${whole} (known: {database}, {ttl})`);
    return value;
  });
  return splitStatements(text);
}
