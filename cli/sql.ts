// `npm run -s sql -- [--format <ClickHouse format>] "<query>"`: one read-only query of the project's
// tables, printed exactly as ClickHouse writes it in that format (its table by default; CSV for a
// spreadsheet, JSONEachRow for a program). With CLICKHOUSE_URL it asks the server
// directly, under the same read limits as the service; otherwise it goes through the running
// service's SQL endpoint (SQL_HOST:SQL_PORT), since only one process may own the embedded engine's
// data directory, with the endpoint's token (SQL_TOKEN, or DATA_DIR/sql-token, which the service
// writes at its first start). Errors go to stderr; the exit code is 1 for a refused or failed query
// and 2 for bad usage or configuration.
import { createServerClient } from '../processor/clickhouse/client.ts';
import { clickHouseErrorCode } from '../processor/clickhouse/errors.ts';
import { limitSettings, readLimits } from '../query/limits.ts';
import { DEFAULT_FORMAT, formatList, isSilentWhenEmpty, parseOutputFormat, runReadQuery, type OutputFormat } from '../query/read-query.ts';
import { checkReadOnlyQuery, READABLE_TABLES } from '../query/sql-guard.ts';
import { sqlToken, SqlTokenError } from '../query/sql-token.ts';
import { ConfigError, loadConfig, type Config } from '../service/config.ts';

const USAGE = `usage: npm run -s sql -- [--format <format>] "<query>"
  Runs one read-only query (SELECT, WITH ... SELECT, DESCRIBE, SHOW TABLES, EXPLAIN) of the tables
  ${READABLE_TABLES.join(', ')}. Without a query argument, reads it from stdin.
  --format <format>   how ClickHouse writes the result, by its own format names:
                      ${DEFAULT_FORMAT} (a table, the default), CSVWithNames or CSV (for a
                      spreadsheet), TSVWithNames, TSV, JSONEachRow (one JSON object per line), ...
                      all of: ${formatList()}`;

class UsageError extends Error {}
class QueryError extends Error {}

const UNKNOWN_DATABASE = 81;

function parseArgs(argv: string[]): { help: boolean; format: OutputFormat; sql: string | undefined } {
  let help = false;
  let formatText: string | undefined;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--format') formatText = argv[++i] ?? '';
    else if (arg.startsWith('--format=')) formatText = arg.slice('--format='.length);
    else if (arg === '-h' || arg === '--help') help = true;
    // A query may start with a comment ("-- Cost by namespace\nSELECT ..."): only --word is an option.
    else if (/^--[A-Za-z][\w-]*(?:=|$)/.test(arg)) throw new UsageError(`unknown option ${arg}`);
    else words.push(arg);
  }
  const format = parseOutputFormat(formatText);
  if (!format) throw new UsageError(`unknown format ${JSON.stringify(formatText)}: use one of ${formatList()}`);
  return { help, format, sql: words.length > 0 ? words.join(' ') : undefined };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function queryServer(config: Config, sql: string, format: OutputFormat): Promise<string> {
  const checked = checkReadOnlyQuery(sql, { database: config.CLICKHOUSE_DATABASE });
  if (!checked.ok) throw new QueryError(checked.message);
  const client = createServerClient(config, { scoped: true });
  try {
    // readonly=2: no writes, while the client may still send its own output settings. No colour
    // codes in the table, whatever the server decides about terminals. The read limits travel in
    // the query's own SETTINGS clause, as the service sends them.
    const sqlWithLimits = `${checked.sql}\n${limitSettings(readLimits(config), { resultRows: true })}`;
    return await runReadQuery(client, sqlWithLimits, format, { settings: { readonly: '2', output_format_pretty_color: 0 } });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (clickHouseErrorCode(err) === UNKNOWN_DATABASE) throw new QueryError(`${message} (create it with npm run migrate)`);
    throw new QueryError(message);
  } finally {
    await client.close();
  }
}

async function queryEndpoint(config: Config, sql: string, format: OutputFormat): Promise<string> {
  // A wildcard listen address is reached through loopback.
  const host = config.SQL_HOST === '0.0.0.0' ? '127.0.0.1' : config.SQL_HOST === '::' ? '::1' : config.SQL_HOST;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${config.SQL_PORT}`;
  // Without a token the request still goes: "nothing listens" is the more useful answer then.
  const token = await sqlToken(config, { create: false }).catch((err: unknown) => {
    if (err instanceof SqlTokenError) return err;
    throw err;
  });
  const authorization: Record<string, string> = token instanceof SqlTokenError ? {} : { authorization: `Bearer ${token.token}` };
  let response: Response;
  try {
    response = await fetch(`${base}/query?format=${format}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', ...authorization },
      body: sql,
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') {
      throw new QueryError(
        `no service is listening on ${base} (SQL_HOST, SQL_PORT): start the service with npm start, or set CLICKHOUSE_URL to query a ClickHouse server`,
      );
    }
    throw new QueryError(`cannot reach the service at ${base}: ${(err as Error).message}${code ? ` (${code})` : ''}`);
  }
  const text = await response.text();
  if (response.ok) return text;
  if (response.status === 401 && token instanceof SqlTokenError) throw new QueryError(token.message);
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not JSON: print as is
  }
  throw new QueryError(message);
}

async function main(argv: string[]): Promise<number> {
  try {
    const { help, format, sql: argSql } = parseArgs(argv);
    if (help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const config = loadConfig();
    const sql = argSql ?? (process.stdin.isTTY ? undefined : await readStdin());
    if (sql === undefined || sql.trim() === '') throw new UsageError('no query given');
    const output = config.CLICKHOUSE_URL ? await queryServer(config, sql, format) : await queryEndpoint(config, sql, format);
    process.stdout.write(output);
    // ClickHouse's table formats write nothing for no rows; say so where a person looks.
    if (output === '' && isSilentWhenEmpty(format)) process.stderr.write('0 rows\n');
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sql: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    process.stderr.write(`sql: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
