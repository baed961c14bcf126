// Replaces a table by one of another definition, keeping its rows: what ClickHouse cannot alter in
// place (a table's engine). Used by the migrations marked `-- convert-table: <table>`.
//
//   1. the new definition is created under a temporary name (<table>_conversion_<random>);
//   2. if the table does not have that definition yet, its rows are copied into the new one, and
//      the two are exchanged (EXCHANGE TABLES: atomic, needs an Atomic database);
//   3. every temporary table is then copied into the table and dropped: after an exchange that is
//      the old table (whatever was written to it between the copy and the exchange comes along),
//      otherwise a copy that is not needed.
//
// Safe to interrupt and to run from two processes at once, because:
// - an exchange only ever puts a table of the new definition in place, so once converted the
//   table stays converted, and the definition is checked again right before exchanging;
// - a temporary table is dropped only after its rows were copied into the table, so a leftover of
//   an interrupted run (or the old table a racing run exchanged out) is folded in by the next run
//   (migrate() looks for leftovers on every start); rows copied twice are identical rows (same key
//   and version), which FINAL and the merges collapse into one;
// - a run that finds a table it works with gone (another run folded it in) starts over.
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Log } from '../../core/log.ts';
import { clickHouseErrorCode } from './errors.ts';
import { MigrationError } from './migration-files.ts';

export interface TableConversion {
  database: string;
  table: string;
  /** The new definition: CREATE TABLE IF NOT EXISTS <database>.<table> ... (placeholders filled in). */
  create: string;
  logger?: Log;
}

type Client = Pick<ClickHouseClient, 'command' | 'query'>;

const UNKNOWN_TABLE = 60;
const NOT_IMPLEMENTED = 48;
const ATTEMPTS = 5;

/** The prefix of the temporary tables of a conversion of `table`. */
export function conversionPrefix(table: string): string {
  return `${table}_conversion_`;
}

/** Replaces the table by the new definition unless it has it already; resolves once no temporary table is left. */
export async function convertTable(client: Client, conversion: TableConversion): Promise<'converted' | 'unchanged'> {
  const { database, table } = conversion;
  for (let attempt = 1; ; attempt++) {
    const staging = `${conversionPrefix(table)}${randomBytes(6).toString('hex')}`;
    try {
      await client.command({ query: renameCreate(conversion, staging) });
      let outcome: 'converted' | 'unchanged' = 'unchanged';
      const current = await definition(client, database, table);
      if (current === undefined) {
        // Nothing to convert (the table was dropped by hand): the new definition takes its place.
        await client.command({ query: `RENAME TABLE ${database}.${staging} TO ${database}.${table}` });
        return 'converted';
      }
      if (current !== (await definition(client, database, staging))) {
        await copyRows(client, database, table, staging);
        if ((await definition(client, database, table)) !== (await definition(client, database, staging))) {
          await exchange(client, database, table, staging);
          outcome = 'converted';
          conversion.logger?.info({ database, table }, `${table} replaced by its new definition; folding the old table in`);
        }
      }
      await foldLeftovers(client, database, table, conversion.logger);
      return outcome;
    } catch (err) {
      if (clickHouseErrorCode(err) === UNKNOWN_TABLE && attempt < ATTEMPTS) continue;
      throw err;
    }
  }
}

/**
 * Copies every temporary table of a conversion of `table` into it and drops it. Run after a
 * conversion, and on every later start for leftovers of a run that was interrupted.
 */
export async function foldLeftovers(client: Client, database: string, table: string, logger?: Log): Promise<number> {
  const result = await client.query({
    query: 'SELECT name FROM system.tables WHERE database = {database:String} AND startsWith(name, {prefix:String}) ORDER BY name',
    query_params: { database, prefix: conversionPrefix(table) },
    format: 'JSONEachRow',
  });
  const leftovers = (await result.json<{ name: string }>()).map((r) => r.name);
  for (const name of leftovers) {
    await copyRows(client, database, name, table);
    await client.command({ query: `DROP TABLE IF EXISTS ${database}.${name}` });
    logger?.info({ database, table, folded: name }, `folded ${name} into ${table}`);
  }
  return leftovers.length;
}

/** The statement creating the new definition under another name. */
function renameCreate({ database, table, create }: TableConversion, name: string): string {
  const head = `CREATE TABLE IF NOT EXISTS ${database}.${table}`;
  if (!create.startsWith(head) || !/^\s*\(/.test(create.slice(head.length))) {
    throw new MigrationError(`a conversion of ${table} must be one statement starting "CREATE TABLE IF NOT EXISTS {database}.${table} (", got ${JSON.stringify(create.slice(0, 80))}`);
  }
  return `CREATE TABLE ${database}.${name}${create.slice(head.length)}`;
}

/**
 * What makes two tables alike here: their columns (names and types, in order) and their engine
 * with its keys. Retention (TTL) and settings may differ: an operator may have changed them.
 * Undefined when the table does not exist.
 */
async function definition(client: Client, database: string, table: string): Promise<string | undefined> {
  const columns = await rows<{ name: string; type: string }>(
    client,
    'SELECT name, type FROM system.columns WHERE database = {database:String} AND table = {table:String} ORDER BY position',
    { database, table },
  );
  const [engine] = await rows<{ engine_full: string }>(client, 'SELECT engine_full FROM system.tables WHERE database = {database:String} AND name = {table:String}', {
    database,
    table,
  });
  if (!engine) return undefined;
  return JSON.stringify([columns.map((c) => `${c.name} ${c.type}`), engine.engine_full.replace(/ (TTL|SETTINGS) [\s\S]*$/, '')]);
}

/** Copies the rows of `from` into `to`, the columns they have in common (others take their defaults). */
async function copyRows(client: Client, database: string, from: string, to: string): Promise<void> {
  const columns = await rows<{ name: string }>(
    client,
    `SELECT name FROM system.columns WHERE database = {database:String} AND table = {from:String}
       AND name IN (SELECT name FROM system.columns WHERE database = {database:String} AND table = {to:String})
     ORDER BY position`,
    { database, from, to },
  );
  if (columns.length === 0) throw Object.assign(new Error(`${database}.${from} or ${database}.${to} is gone`), { code: String(UNKNOWN_TABLE) });
  const list = columns.map((c) => `\`${c.name}\``).join(', ');
  await client.command({ query: `INSERT INTO ${database}.${to} (${list}) SELECT ${list} FROM ${database}.${from}` });
}

async function exchange(client: Client, database: string, table: string, staging: string): Promise<void> {
  try {
    await client.command({ query: `EXCHANGE TABLES ${database}.${table} AND ${database}.${staging}` });
  } catch (err) {
    if (clickHouseErrorCode(err) !== NOT_IMPLEMENTED) throw err;
    throw new MigrationError(
      `cannot replace ${database}.${table}: EXCHANGE TABLES needs an Atomic database (${database} is not one); ` +
        'move the data to an Atomic database (the default since ClickHouse 20.10) and set CLICKHOUSE_DATABASE to it',
      { cause: err },
    );
  }
}

async function rows<T>(client: Client, query: string, query_params: Record<string, string>): Promise<T[]> {
  const result = await client.query({ query, query_params, format: 'JSONEachRow' });
  return result.json<T>();
}
