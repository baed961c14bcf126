import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpenseSink } from '../../../processor/clickhouse/expense-sink.ts';
import { migrate } from '../../../processor/clickhouse/migrations.ts';
import { TABLE_FUNCTIONS } from '../../../query/sql-guard-lists.ts';
import { checkReadOnlyQuery } from '../../../query/sql-guard.ts';
import { openReadClients, type ReadClients } from '../../../query/read-clients.ts';
import { createReader } from '../../../query/reader.ts';
import { startSqlEndpoint, type SqlEndpoint } from '../../../query/sql-endpoint.ts';
import { expenseRow, openTestEngine, queryRows, silentLog, type TestEngine } from '../../support/clickhouse-engine.ts';
import { GUARD_BYPASSES } from '../../support/guard-bypasses.ts';

let engine: TestEngine;
let endpoint: SqlEndpoint;
let readClients: ReadClients;
const DATABASE = 'k8s';
const TOKEN = 'test-token-0123456789';
const LIMITS = { timeoutMs: 30_000, maxMemoryBytes: 2 * 1024 ** 3, maxResultRows: 1_000_000, concurrency: 2 };

beforeAll(async () => {
  engine = await openTestEngine(DATABASE);
  await migrate(engine.client, { database: DATABASE });
  const sink = createExpenseSink(engine.client, { database: DATABASE });
  await sink.write([
    expenseRow({ namespace: 'shop', pod: 'web-1', total_cost: 1.5 }),
    expenseRow({ namespace: 'kube-system', pod: 'dns-1', total_cost: 0.25 }),
  ]);
  // As the service opens them: read-only connections of their own to the engine's directory.
  const config = { DATA_DIR: engine.dataDir, CLICKHOUSE_URL: undefined, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: DATABASE };
  readClients = await openReadClients({ ...config, QUERY_CONCURRENCY: 2, QUERY_TIMEOUT: 30_000 }, silentLog, { slots: 2 });
  const reader = createReader({ clients: readClients.clients, control: readClients.control, limits: LIMITS, log: silentLog });
  endpoint = await startSqlEndpoint({ reader, database: DATABASE, token: TOKEN, host: '127.0.0.1', port: 0, log: silentLog });
});

afterAll(async () => {
  await endpoint?.close();
  await readClients?.close();
  await engine?.close();
});

const COST_BY_NAMESPACE = 'SELECT namespace, sum(total_cost) AS cost FROM k8s_expenses FINAL GROUP BY namespace ORDER BY cost DESC';

async function post(sql: string, query = '', headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; body: string; headers: Headers }> {
  const response = await fetch(`${endpoint.url}/query${query}`, {
    method: 'POST',
    body: sql,
    headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}`, ...headers },
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text(), headers: response.headers };
}

describe('SQL endpoint', () => {
  it("answers ClickHouse's own table (PrettyCompactMonoBlock) by default, without colour codes", async () => {
    const { status, type, body } = await post(COST_BY_NAMESPACE);
    expect(status).toBe(200);
    expect(type).toBe('text/plain; charset=utf-8');
    expect(body).toBe(
      ['   ┌─namespace───┬─cost─┐', '1. │ shop        │  1.5 │', '2. │ kube-system │ 0.25 │', '   └─────────────┴──────┘', ''].join('\n'),
    );
    expect(body).not.toContain('\u001b');
  });

  it.each([
    ['CSV', 'text/csv', '"shop",1.5\n"kube-system",0.25\n'],
    ['CSVWithNames', 'text/csv', '"namespace","cost"\n"shop",1.5\n"kube-system",0.25\n'],
    ['TSV', 'text/tab-separated-values', 'shop\t1.5\nkube-system\t0.25\n'],
    ['TSVWithNames', 'text/tab-separated-values', 'namespace\tcost\nshop\t1.5\nkube-system\t0.25\n'],
    ['csvwithnames', 'text/csv', '"namespace","cost"\n"shop",1.5\n"kube-system",0.25\n'],
  ])('answers ?format=%s exactly as ClickHouse writes it', async (format, type, expected) => {
    const answer = await post(COST_BY_NAMESPACE, `?format=${format}`);
    expect(answer.status).toBe(200);
    expect(answer.type).toBe(`${type}; charset=utf-8`);
    expect(answer.body).toBe(expected);
  });

  it('leaves no format behind in the engine: the next query without one gets the table again', async () => {
    await post('SELECT 1 AS x', '?format=CSV');
    expect((await post('SELECT 1 AS x')).body).toBe(['   ┌─x─┐', '1. │ 1 │', '   └───┘', ''].join('\n'));
  });

  it('answers JSON lines with ?format=JSONEachRow, 64-bit integers quoted', async () => {
    const { status, type, body } = await post(`SELECT namespace, count() AS pods FROM k8s_expenses GROUP BY namespace ORDER BY namespace`, '?format=JSONEachRow');
    expect(status).toBe(200);
    expect(type).toBe('application/x-ndjson; charset=utf-8');
    expect(body.trim().split('\n').map((line) => JSON.parse(line))).toEqual([
      { namespace: 'kube-system', pods: '1' },
      { namespace: 'shop', pods: '1' },
    ]);
  });

  it('reads unqualified names from the configured database', async () => {
    expect((await post('SHOW TABLES')).body).toMatch(
      /k8s_expenses\s.*\n.*k8s_expenses_final.*\n.*k8s_expenses_focus.*\n.*k8s_node_expenses\s.*\n.*k8s_node_expenses_final.*\n.*schema_migrations/,
    );
    expect((await post('SELECT count() AS n FROM k8s.k8s_expenses', '?format=JSONEachRow')).body).toBe('{"n":"2"}\n');
  });

  it.each([
    ['a write', "INSERT INTO k8s_expenses (pod) VALUES ('x')", /INSERT is not allowed/],
    ['a second statement', 'SELECT 1; DROP TABLE k8s_expenses', /only one statement is allowed/],
    ['SETTINGS', 'SELECT 1 SETTINGS readonly = 0', /SETTINGS is not allowed/],
    ['a table function', "SELECT * FROM file('/etc/hostname', 'LineAsString')", /table function file\(\) is not allowed/],
    ['a file-reading function', "SELECT file('/etc/hostname')", /function file\(\) is not allowed/],
    ['a system table', 'SELECT * FROM system.tables', /the system database is not readable/],
    ['a FORMAT clause', 'SELECT 1 FORMAT CSV', /FORMAT is not allowed/],
  ])('refuses %s with 400 and a message', async (_what, sql, message) => {
    const { status, type, body } = await post(sql);
    expect(status).toBe(400);
    expect(type).toMatch(/^application\/json/);
    const parsed = JSON.parse(body) as { error: string; message: string };
    expect(parsed.error).toBe('query-refused');
    expect(parsed.message).toMatch(message);
  });

  it('passes on what ClickHouse says about a wrong query', async () => {
    const { status, body } = await post('SELECT no_such_column FROM k8s_expenses');
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ error: 'query-failed', message: expect.stringMatching(/no_such_column/) });
  });

  it('refuses an unknown format, listing the known ones, and an empty body', async () => {
    const unknown = await post('SELECT 1', '?format=XML');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'bad-parameter', message: expect.stringMatching(/^unknown format "XML": use one of PrettyCompactMonoBlock, .*CSVWithNames, .*JSONEachRow/) });
    expect(JSON.parse((await post('')).body)).toEqual({ error: 'query-refused', message: 'the query is empty' });
  });

  it('leaves the engine writable after refusing and running queries', async () => {
    await post('SELECT 1 SETTINGS readonly = 1');
    await post(COST_BY_NAMESPACE);
    await createExpenseSink(engine.client, { database: DATABASE }).write([expenseRow({ pod: 'late', version: 5 })]);
    expect(await queryRows(engine.client, "SELECT pod FROM k8s.k8s_expenses WHERE pod = 'late'")).toEqual([{ pod: 'late' }]);
    await engine.client.command({ query: "ALTER TABLE k8s.k8s_expenses DELETE WHERE pod = 'late' SETTINGS mutations_sync = 1" });
  });
});

/** A POST with exactly these headers (fetch would add or refuse some, such as Host). */
function rawPost(headers: Record<string, string>, sql = 'SELECT 1 AS x'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${endpoint.url}/query?format=CSV`);
    const request = httpRequest({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'POST', headers: { 'content-type': 'text/plain', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    request.on('error', reject);
    request.end(sql);
  });
}

describe('SQL endpoint access', () => {
  const host = () => `127.0.0.1:${new URL(endpoint.url).port}`;

  it('answers a request with the token, addressed to a loopback name', async () => {
    for (const name of [host(), `localhost:${new URL(endpoint.url).port}`, 'localhost']) {
      const res = await rawPost({ host: name, authorization: `Bearer ${TOKEN}` });
      expect([res.status, res.body], name).toEqual([200, '1\n']);
    }
  });

  it.each([
    ['no token', {}, 'auth-missing'],
    ['another token', { authorization: 'Bearer not-the-token-0123456' }, 'auth-invalid'],
    ['the token as basic credentials', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, 'auth-invalid'],
  ])('refuses a request with %s: 401', async (_what, headers, code) => {
    const res = await rawPost({ host: host(), ...headers });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="k8s-expenses SQL endpoint"');
    expect(JSON.parse(res.body)).toMatchObject({ error: code, message: expect.stringMatching(/SQL_TOKEN|sql-token/) });
  });

  it.each([
    ['another Host (DNS rebinding)', { host: 'rebind.example:9202' }, 'host-refused'],
    ['another Host by IP', { host: '10.0.0.5:9202' }, 'host-refused'],
    ['a cross-site browser request', { 'sec-fetch-site': 'cross-site' }, 'cross-origin'],
    ['a same-site browser request of another origin', { 'sec-fetch-site': 'same-site' }, 'cross-origin'],
    ['an Origin of another site', { origin: 'http://evil.example' }, 'cross-origin'],
    ['a null Origin', { origin: 'null' }, 'cross-origin'],
  ])('refuses %s: 403, even with the token', async (_what, headers, code) => {
    const res = await rawPost({ host: host(), authorization: `Bearer ${TOKEN}`, ...headers });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: code });
  });

  it('answers a same-origin page (its own Origin, Sec-Fetch-Site same-origin)', async () => {
    const res = await rawPost({ host: host(), authorization: `Bearer ${TOKEN}`, origin: `http://${host()}`, 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(200);
  });

  it('answers a 40,000-table FROM list with 400, not 500', async () => {
    const { status, body } = await post(`WITH t AS (SELECT 1) SELECT 1 FROM t${',t'.repeat(40_000)}`);
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ error: 'query-refused', message: expect.stringMatching(/more than 100 tables/) });
  });

  it.each(GUARD_BYPASSES)('refuses %s with 400', async (_what, sql) => {
    const { status, body } = await post(sql);
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ error: 'query-refused', message: expect.stringMatching(/table users is not readable/) });
  });
});

describe('the guard and the engine agree', () => {
  // Each was let through by the guard once: on the engine, each reads the table users.
  it.each(GUARD_BYPASSES)('%s reads the table on the engine', async (_what, sql) => {
    await engine.client.command({ query: `CREATE TABLE IF NOT EXISTS ${DATABASE}.users (pod String, s String) ENGINE = Memory` });
    await engine.client.command({ query: `TRUNCATE TABLE ${DATABASE}.users` });
    await engine.client.command({ query: `INSERT INTO ${DATABASE}.users VALUES ('web-1', 'SECRET')` });
    const read = await queryRows(engine.client, sql).then(
      (rows) => JSON.stringify(rows),
      (err: Error) => err.message,
    );
    // Rows of users, or IN complaining that users has two columns: either way the table was read.
    expect(read).toMatch(/SECRET|Number of columns in section IN doesn't match\. 1 at left, 2 at right/);
  });

  it("refuses every table function the engine has", async () => {
    const names = (await queryRows<{ name: string }>(engine.client, 'SELECT name FROM system.table_functions')).map((r) => r.name);
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((name) => !TABLE_FUNCTIONS.has(name.toLowerCase()))).toEqual([]);
  });

  it.each([
    ['a nested comment hiding a statement', 'SELECT 1 AS x /* /* */ ; DROP TABLE k8s_expenses */', [{ x: 1 }]],
    ['a string hiding a table function', "SELECT 'a'', file(''/etc/hostname'')' AS x", [{ x: "a', file('/etc/hostname')" }]],
    ['an escaped quote hiding one', "SELECT 'a\\', file(''/etc/hostname'')' AS x", [{ x: "a', file('/etc/hostname')" }]],
    ['a hash comment', "SELECT 1 AS x # , file('/etc/hostname')\n", [{ x: 1 }]],
    ['a -- comment through U+2028', 'SELECT 1 AS x -- c\u2028, 2 AS y\n, 3 AS z', [{ x: 1, z: 3 }]],
    ['a -- comment through NEL', 'SELECT 1 AS x -- c\u0085, 2 AS y\n, 3 AS z', [{ x: 1, z: 3 }]],
    ['a -- comment through a lone CR', 'SELECT 1 AS x -- c\r, 2 AS y\n, 3 AS z', [{ x: 1, z: 3 }]],
  ])('reads %s as the guard does', async (_what, sql, rows) => {
    const checked = checkReadOnlyQuery(sql);
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(await queryRows(engine.client, checked.sql)).toEqual(rows);
  });
});

describe('npm run sql', () => {
  const root = join(import.meta.dirname, '../../..');

  function sqlCli(args: string[], port: number, stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      // The compiled tool, as `npm run sql` runs it (test/support/build-setup.ts builds dist/).
      const child = spawn(process.execPath, ['dist/cli/sql.js', ...args], {
        cwd: root,
        env: { ...process.env, CLICKHOUSE_URL: '', SQL_HOST: '127.0.0.1', SQL_PORT: String(port), SQL_TOKEN: TOKEN },
        stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      child.stdin?.end(stdin);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const port = () => Number(new URL(endpoint.url).port);

  it("prints ClickHouse's table by default", async () => {
    const result = await sqlCli([COST_BY_NAMESPACE], port());
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(['   ┌─namespace───┬─cost─┐', '1. │ shop        │  1.5 │', '2. │ kube-system │ 0.25 │', '   └─────────────┴──────┘', ''].join('\n'));
  });

  it('prints CSV with a header for a spreadsheet, and TSV', async () => {
    const csv = await sqlCli(['--format', 'CSVWithNames', COST_BY_NAMESPACE], port());
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toBe('"namespace","cost"\n"shop",1.5\n"kube-system",0.25\n');
    const tsv = await sqlCli(['--format=TSV', COST_BY_NAMESPACE], port());
    expect(tsv.stdout).toBe('shop\t1.5\nkube-system\t0.25\n');
  });

  it('says "0 rows" on stderr when the table is empty (ClickHouse writes nothing)', async () => {
    const result = await sqlCli(["SELECT pod FROM k8s_expenses WHERE pod = 'none'"], port());
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('0 rows\n');
  });

  it('prints JSON lines', async () => {
    const result = await sqlCli(['--format', 'JSONEachRow', COST_BY_NAMESPACE], port());
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').map((line) => JSON.parse(line))).toEqual([
      { namespace: 'shop', cost: 1.5 },
      { namespace: 'kube-system', cost: 0.25 },
    ]);
  });

  it("runs a query given as an argument that starts with a comment, as the cookbook's do", async () => {
    // Regression: "-- Cost by namespace ..." was taken for an unknown option.
    const result = await sqlCli(['--format', 'CSV', `-- Cost by namespace\n${COST_BY_NAMESPACE}`], port());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('"shop",1.5\n"kube-system",0.25\n');
    expect((await sqlCli(['--colour', 'SELECT 1'], port())).stderr).toMatch(/^sql: unknown option --colour/);
  });

  it('reads the query from stdin', async () => {
    const result = await sqlCli(['--format=JSONEachRow'], port(), 'SELECT count() AS n\nFROM k8s_expenses FINAL;\n');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"n":"2"}\n');
  });

  it('exits non-zero with the reason on stderr for a refused query', async () => {
    const result = await sqlCli(["SELECT * FROM url('http://example.com')"], port());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^sql: table function url\(\) is not allowed/m);
  });

  it('says how to start the service when nothing listens', async () => {
    const free = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const result = await sqlCli(['SELECT 1'], free);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no service is listening on http:\/\/127\.0\.0\.1:\d+ .*start the service with npm start, or set CLICKHOUSE_URL/);
  });

  it('explains its usage', async () => {
    const result = await sqlCli(['--format', 'XML', 'SELECT 1'], port());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/unknown format "XML": use one of PrettyCompactMonoBlock, .*CSV, CSVWithNames, .*TSV, TSVWithNames, .*JSONEachRow[\s\S]*usage: npm run -s sql/);
  });
});
