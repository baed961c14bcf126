// The ClickHouse client of the service: a server client when CLICKHOUSE_URL is set, otherwise the
// embedded engine (chdb, an optional dependency loaded on demand) under DATA_DIR/clickhouse. Both
// are @clickhouse/client clients, so the rest of the code does not know which one it talks to.
//
// Project code qualifies every table with the database (`db.k8s_expenses`) and does not depend on a
// client's default database: a server client scoped to a database that does not exist yet fails
// every query, including the CREATE DATABASE of the migrations.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import type { ClickHouseConfig } from './config.ts';
import { clientLogOption } from './client-log.ts';
import { clickHouseErrorCode } from './errors.ts';
import { checkIdentifier } from './identifier.ts';
import type { Log } from '../../core/log.ts';

/** What opening a client needs: the ClickHouse slice, and DATA_DIR for the embedded engine. */
export type ClickHouseOpenConfig = Pick<ClickHouseConfig, 'CLICKHOUSE_URL' | 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_DATABASE'> & {
  readonly DATA_DIR: string;
};

type ChdbConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;
export interface ChdbConnectionModule {
  createChdbConnection(options: { path: string }): ChdbConnection;
}

/**
 * UInt64 / Int64 come back from JSON formats as quoted strings from both backends (lossless above
 * 2^53; a server's default differs between versions and the embedded engine's is 0).
 */
const QUOTE_64BIT_INTEGERS = 1;

const APPLICATION = 'k8s-expenses';
const CHDB_MODULE = 'chdb/connection';
const CANNOT_LOCK = 76;

export class ClickHouseOpenError extends Error {
  override readonly name = 'ClickHouseOpenError';
}

export async function openClickHouse(config: ClickHouseOpenConfig, logger: Log): Promise<ClickHouseClient> {
  if (config.CLICKHOUSE_URL) {
    logger.info({ url: redactUrl(config.CLICKHOUSE_URL), database: config.CLICKHOUSE_DATABASE }, 'using the ClickHouse server');
    return createServerClient(config, { scoped: false, log: logger });
  }
  return openEmbedded(config, logger);
}

/**
 * A client of the ClickHouse server at CLICKHOUSE_URL. `scoped` makes CLICKHOUSE_DATABASE the
 * default database (for users' unqualified table names; the database must exist). The client's own
 * messages go to `log` (default: dropped, the caller reports every failure it sees).
 */
export function createServerClient(
  config: Pick<ClickHouseOpenConfig, 'CLICKHOUSE_URL' | 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_DATABASE'>,
  options: { scoped: boolean; log?: Log },
): ClickHouseClient {
  if (!config.CLICKHOUSE_URL) throw new ClickHouseOpenError('CLICKHOUSE_URL is not set');
  // Credentials in the URL win (the client warns when both are given, even for the defaults).
  const inUrl = new URL(config.CLICKHOUSE_URL).username !== '';
  return createClient({
    url: config.CLICKHOUSE_URL,
    username: inUrl ? undefined : config.CLICKHOUSE_USER,
    password: inUrl ? undefined : config.CLICKHOUSE_PASSWORD,
    database: options.scoped ? config.CLICKHOUSE_DATABASE : undefined,
    application: APPLICATION,
    clickhouse_settings: { output_format_json_quote_64bit_integers: QUOTE_64BIT_INTEGERS },
    log: options.log ? clientLogOption(options.log) : { level: ClickHouseLogLevel.OFF },
  });
}

async function openEmbedded(config: ClickHouseOpenConfig, logger: Log): Promise<ClickHouseClient> {
  const path = resolve(config.DATA_DIR, 'clickhouse');
  const chdb = await loadChdb();
  await mkdir(path, { recursive: true });
  let connection: ChdbConnection;
  try {
    connection = chdb.createChdbConnection({ path });
  } catch (err) {
    throw new ClickHouseOpenError(await describeOpenFailure(path, err), { cause: err });
  }
  const client = createClient({ connection, application: APPLICATION, log: clientLogOption(logger) });
  // Session state of the embedded engine, set once: it keeps SETs and USE for the life of the
  // process (which is also why no query may pass per-query settings through this client).
  const database = checkIdentifier(config.CLICKHOUSE_DATABASE, 'CLICKHOUSE_DATABASE');
  await client.command({ query: `SET output_format_json_quote_64bit_integers = ${QUOTE_64BIT_INTEGERS}` });
  // The engine chooses colours and the table's charset by this process's stdout and locale, not by
  // where the text goes: a service started in a terminal would send escape codes (or ASCII borders
  // under LANG=C) to \`npm run sql\`. A server answering over HTTP writes neither.
  await client.command({ query: 'SET output_format_pretty_color = 0' });
  await client.command({ query: "SET output_format_pretty_grid_charset = 'UTF-8'" });
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({ query: `USE ${database}` });
  logger.info({ path, database }, 'using the embedded ClickHouse engine');
  return client;
}

/**
 * Why the engine could not open `path`. A directory owned by another process fails with "Cannot
 * lock file .../status" (code 76), but chdb does not always put that in the error (the engine may
 * only print it to stderr), so the status file, which names the owner's PID, is consulted too.
 */
async function describeOpenFailure(path: string, err: unknown): Promise<string> {
  const status = await readFile(join(path, 'status'), 'utf8').catch(() => '');
  const pid = Number(/^PID: (\d+)$/m.exec(status)?.[1]);
  const owner = pid > 0 && pid !== process.pid && processExists(pid) ? ` (process ${pid})` : '';
  if (owner || clickHouseErrorCode(err) === CANNOT_LOCK) {
    return (
      `${path} is in use by another process${owner}: one process at a time may own the embedded ClickHouse engine's directory ` +
      '(stop the other process, set another DATA_DIR, or set CLICKHOUSE_URL)'
    );
  }
  return `cannot open the embedded ClickHouse engine at ${path}: ${err instanceof Error ? err.message : String(err)}`;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Loads the optional chdb package; `importModule` is for tests. */
export async function loadChdb(importModule: (specifier: string) => Promise<unknown> = (s) => import(s)): Promise<ChdbConnectionModule> {
  let mod: unknown;
  try {
    mod = await importModule(CHDB_MODULE);
  } catch (err) {
    const missing = (err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
    throw new ClickHouseOpenError(
      missing
        ? 'the embedded ClickHouse engine is not installed (optional dependency chdb): install it with `npm install chdb`, or set CLICKHOUSE_URL to use a ClickHouse server'
        : `the embedded ClickHouse engine (chdb) failed to load: ${(err as Error).message}; reinstall chdb, or set CLICKHOUSE_URL to use a ClickHouse server`,
      { cause: err },
    );
  }
  const m = mod as Partial<ChdbConnectionModule> & { default?: Partial<ChdbConnectionModule> };
  const create = m.createChdbConnection ?? m.default?.createChdbConnection;
  if (typeof create !== 'function') throw new ClickHouseOpenError('the installed chdb package has no createChdbConnection: install chdb 3.4 or later');
  return { createChdbConnection: create };
}

/** The URL without credentials, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
