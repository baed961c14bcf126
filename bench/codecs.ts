// Column codecs of k8s_expenses and k8s_node_expenses, measured on the embedded engine: bytes on
// disk per row of realistic tables (the cost model's pod and node rows for kubecost traffic of
// several clusters over many hours), with the codecs of the migrations and without them, and the
// compressed bytes of every column under each candidate codec (the figures that chose
// migrations/0008). Sizes, not speed: the figures do not depend on the machine's load.
//
//   npm run bench:codecs            (BENCH_HOURS=12 BENCH_PODS=300 BENCH_NODES=20 to change the shape)
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse } from '../processor/clickhouse/client.ts';
import { encodeExpenseRow, EXPENSE_COLUMNS, toExpenseRow } from '../processor/clickhouse/expense-row.ts';
import { encodeNodeExpenseRow, NODE_EXPENSE_COLUMNS, toNodeExpenseRow } from '../processor/clickhouse/node-expense-row.ts';
import { MIGRATIONS_DIR } from '../processor/clickhouse/migration-files.ts';
import { migrate } from '../processor/clickhouse/migrations.ts';
import { createCostModel, newSampleCounts } from '../processor/cost-model/index.ts';
import { VERSION_BASE } from '../processor/row-version.ts';
import { buildClusters, recordsAt, rng, type TrafficShape } from './cost-model-traffic.ts';

const CODEC_MIGRATION = 8;
const shape: TrafficShape = {
  tenants: 3,
  clustersPerTenant: 2,
  podsPerCluster: Number(process.env.BENCH_PODS ?? 300),
  nodesPerCluster: Number(process.env.BENCH_NODES ?? 20),
  hours: Number(process.env.BENCH_HOURS ?? 12),
  scrapeIntervalMs: 60_000,
  startMs: Date.UTC(2024, 2, 1, 0),
  seed: 42,
};

/** Candidates by column type; the first is the engine's default (no CODEC clause). */
const CANDIDATES: Record<string, string[]> = {
  number: ['default', 'ZSTD(1)', 'ZSTD(3)', 'Gorilla, ZSTD(1)', 'FPC, ZSTD(1)'],
  integer: ['default', 'ZSTD(1)', 'Delta, ZSTD(1)', 'DoubleDelta, ZSTD(1)', 'T64, ZSTD(1)'],
  text: ['default', 'ZSTD(1)', 'ZSTD(3)'],
};
const kindOf = (type: string): keyof typeof CANDIDATES =>
  /Float64/.test(type) ? 'number' : /^(UInt|DateTime)/.test(type) ? 'integer' : 'text';

interface TableRows {
  table: string;
  columns: readonly (readonly [string, string])[];
  rows: Record<string, unknown>[];
}

/** The cost model's pod and node rows of every hour, stored as the processor stores final rows. */
function generateRows(): TableRows[] {
  const clusters = buildClusters(shape);
  const random = rng(7);
  const model = createCostModel();
  const counts = newSampleCounts();
  const scrapes = (shape.hours * 3_600_000) / shape.scrapeIntervalMs;
  for (let i = 0; i < scrapes; i++) {
    for (const r of recordsAt(clusters, shape, i, random)) {
      for (let s = 0; s < r.keys.length; s++) {
        const labels = r.labels[s];
        model.addSeries(r.tenant, r.cluster, r.keys[s], () => labels, r.timestamps, r.values, null, s, s + 1, counts);
      }
    }
  }
  const pods: Record<string, unknown>[] = [];
  const nodes: Record<string, unknown>[] = [];
  let offset = 0;
  for (const { tenant, cluster, hourStartMs } of model.hours()) {
    offset += 5_000;
    const version = VERSION_BASE + offset * 2 + 1;
    const writtenAt = hourStartMs + 3_600_000 + 120_000;
    const hour = model.hourRows(tenant, cluster, hourStartMs);
    for (const row of hour.pods) {
      const stored = toExpenseRow(row, true, version, writtenAt);
      if (stored) pods.push(encodeExpenseRow(stored));
    }
    for (const row of hour.nodes) {
      const stored = toNodeExpenseRow(row, true, version, writtenAt);
      if (stored) nodes.push(encodeNodeExpenseRow(stored));
    }
  }
  return [
    { table: 'k8s_expenses', columns: EXPENSE_COLUMNS, rows: pods },
    { table: 'k8s_node_expenses', columns: NODE_EXPENSE_COLUMNS, rows: nodes },
  ];
}

async function query<T>(client: ClickHouseClient, sql: string): Promise<T[]> {
  return (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
}

/**
 * Fills a table in wide parts (one file per column, as every part of a production-sized table past
 * 10 MB is; small tables get compact parts, which report no per-column sizes) and merges it.
 */
async function fill(client: ClickHouseClient, table: string, rows: Record<string, unknown>[]): Promise<void> {
  await client.command({ query: `ALTER TABLE ${table} MODIFY SETTING min_bytes_for_wide_part = 0` });
  for (let i = 0; i < rows.length; i += 50_000) await client.insert({ table, values: rows.slice(i, i + 50_000), format: 'JSONEachRow' });
  await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
}

interface PartSizes {
  rows: number;
  /** bytes_on_disk: the columns, marks, primary index and the part's own files. */
  bytes: number;
  /** data_compressed_bytes: the columns' data alone. */
  data: number;
}

async function partsOf(client: ClickHouseClient, database: string, table: string): Promise<PartSizes> {
  const [p] = await query<{ rows: string; bytes: string; data: string }>(
    client,
    `SELECT sum(rows) AS rows, sum(bytes_on_disk) AS bytes, sum(data_compressed_bytes) AS data
     FROM system.parts WHERE database = '${database}' AND table = '${table}' AND active`,
  );
  return { rows: Number(p.rows), bytes: Number(p.bytes), data: Number(p.data) };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Every candidate on every column of its kind, one database per candidate set: compressed bytes per column and codec. */
async function measureCandidates(client: ClickHouseClient, before: string, t: TableRows): Promise<Map<string, Map<string, number>>> {
  const width = Math.max(...Object.values(CANDIDATES).map((c) => c.length));
  const perColumn = new Map<string, Map<string, number>>();
  for (let i = 0; i < width; i++) {
    const database = `codecs_candidate_${i}`;
    await migrate(client, { database, migrationsDir: before });
    // is_deleted is the engine's own column: its codec cannot be changed.
    const changes = t.columns.filter(([name]) => name !== 'is_deleted').map(([name, type]) => [name, CANDIDATES[kindOf(type)][i]] as const);
    const applied = new Map<string, string>();
    for (const [name, codec] of changes) {
      if (!codec) continue;
      if (codec === 'default') {
        applied.set(name, codec);
        continue;
      }
      await client.command({ query: `ALTER TABLE ${database}.${t.table} MODIFY COLUMN ${name} CODEC(${codec})` }).then(
        () => applied.set(name, codec),
        (err: Error) => console.log(`(${t.table}.${name}: CODEC(${codec}) refused: ${err.message.split('\n')[0].slice(0, 100)})`),
      );
    }
    await fill(client, `${database}.${t.table}`, t.rows);
    const columns = await query<{ name: string; bytes: string }>(
      client,
      `SELECT column AS name, sum(column_data_compressed_bytes) AS bytes FROM system.parts_columns
       WHERE database = '${database}' AND table = '${t.table}' AND active GROUP BY column`,
    );
    for (const c of columns) {
      const codec = applied.get(c.name);
      if (codec === undefined) continue;
      if (!perColumn.has(c.name)) perColumn.set(c.name, new Map());
      perColumn.get(c.name)!.set(codec, Number(c.bytes));
    }
  }
  return perColumn;
}

async function measureTable(client: ClickHouseClient, before: string, t: TableRows): Promise<Record<string, number>> {
  await fill(client, `codecs_before.${t.table}`, t.rows);
  await fill(client, `codecs_after.${t.table}`, t.rows);
  const b = await partsOf(client, 'codecs_before', t.table);
  const a = await partsOf(client, 'codecs_after', t.table);
  console.log(`\n${t.table}, after OPTIMIZE FINAL, system.parts of the active parts (bytes on disk: data, marks, index and the part's files; column data: data_compressed_bytes):`);
  console.log('| table | rows | bytes on disk | bytes per row | column data per row | bytes per million rows |');
  console.log('|---|---|---|---|---|---|');
  const last = String(CODEC_MIGRATION - 1).padStart(4, '0');
  for (const [name, p] of [[`without codecs (migrations 0001-${last})`, b], [`with the codecs of migration ${String(CODEC_MIGRATION).padStart(4, '0')}`, a]] as const) {
    console.log(`| ${name} | ${fmt(p.rows)} | ${fmt(p.bytes)} | ${fmt(p.bytes / p.rows, 1)} | ${fmt(p.data / p.rows, 1)} | ${fmt(p.bytes / p.rows, 0)} MB |`);
  }
  const perColumn = await measureCandidates(client, before, t);
  console.log(`\n${t.table}: compressed bytes per row of each column (system.parts_columns column_data_compressed_bytes / rows), by codec; * = smallest:`);
  for (const [name, type] of t.columns) {
    const byCodec = perColumn.get(name);
    if (!byCodec) continue;
    const best = Math.min(...byCodec.values());
    const cells = [...byCodec].map(([codec, bytes]) => `${codec} ${fmt(bytes / a.rows, 2)}${bytes === best ? '*' : ''}`);
    console.log(`${name} (${type}): ${cells.join(' | ')}`);
  }
  return { rows: a.rows, bytesPerRowBefore: b.bytes / b.rows, bytesPerRowAfter: a.bytes / a.rows, dataPerRowBefore: b.data / b.rows, dataPerRowAfter: a.data / a.rows };
}

async function main(): Promise<void> {
  const started = performance.now();
  const tables = generateRows();
  const [pods, nodes] = tables;
  console.log(
    `rows: ${fmt(pods.rows.length)} pod rows, ${fmt(nodes.rows.length)} node rows (${shape.tenants * shape.clustersPerTenant} clusters x ${shape.podsPerCluster} pods on ${shape.nodesPerCluster} nodes x ${shape.hours} hours, the cost model's rows, ${fmt((performance.now() - started) / 1000, 1)} s)`,
  );

  const dir = await mkdtemp(join(tmpdir(), 'k8s-expenses-codecs-'));
  const before = join(dir, 'migrations-before');
  await cp(MIGRATIONS_DIR, before, { recursive: true });
  for (const file of await readdir(before)) if (Number(file.slice(0, 4)) >= CODEC_MIGRATION) await rm(join(before, file));
  const logger = pino({ level: 'error' });
  const client = await openClickHouse({ DATA_DIR: dir, CLICKHOUSE_URL: undefined, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'default' }, logger);
  try {
    await migrate(client, { database: 'codecs_before', migrationsDir: before });
    await migrate(client, { database: 'codecs_after' });
    const figures: Record<string, Record<string, number>> = {};
    for (const t of tables) figures[t.table] = await measureTable(client, before, t);
    console.log(JSON.stringify(figures));
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
