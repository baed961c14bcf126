// The statements of the migrations in both modes: one server (the files as they are) and a cluster
// (CLICKHOUSE_CLUSTER: ON CLUSTER, replicated local tables, Distributed tables under the names users
// query). No ClickHouse server runs here, so the cluster statements are pinned as text; the
// integration test cluster-ddl-parse.test.ts passes every one through the engine's own parser.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkClusterName,
  clusterStatements,
  createDatabaseDdl,
  dropTableDdl,
  schemaMigrationsDdl,
  tableShape,
} from '../../../../processor/clickhouse/cluster-ddl.ts';
import { loadMigrations, MigrationError, renderMigration } from '../../../../processor/clickhouse/migration-files.ts';
import { CLUSTER_STATEMENTS_FILE, renderClusterStatements } from '../../../../scripts/cluster-statements.ts';

const target = { database: 'billing', cluster: 'prod' };
const squash = (sql: string) =>
  sql
    .split('\n')
    .map((line) => line.replace(/--.*$/, '').trim())
    .filter((line) => line !== '')
    .join(' ')
    .replace(/\s+/g, ' ');

/** Every migration's statements in both modes, comments and column lists folded for reading. */
async function bothModes(): Promise<Record<string, { server: string[]; cluster: string[] }>> {
  const out: Record<string, { server: string[]; cluster: string[] }> = {};
  for (const m of await loadMigrations()) {
    const server = renderMigration(m.sql, { database: 'billing', ttl: '2 YEAR' });
    out[m.file] = {
      server: server.map(squash),
      cluster: server.flatMap((s) => clusterStatements(s, target)).map(squash),
    };
  }
  return out;
}

const fold = (sql: string) => sql.replace(/\( ?tenant_id LowCardinality\(String\),.*?updated_at DateTime64\(3, 'UTC'\) ?\)/, '(<columns>)');

// Migration 0008 sets codecs on both tables: on a cluster they belong to the parts, so only the local tables.
const zstd3 = ['pod', 'workload', 'labels'];
const delta = ['hour', 'version', 'updated_at'];
const numbers = ['minutes', 'cpu_core_hours', 'cpu_cost', 'ram_byte_hours', 'ram_cost', 'gpu_hours', 'gpu_cost', 'pv_byte_hours', 'pv_cost', 'network_cost', 'load_balancer_cost', 'total_cost'];
const averages = ['cpu_request_avg', 'cpu_usage_avg', 'ram_request_avg', 'ram_usage_avg', 'cpu_efficiency', 'ram_efficiency', 'total_efficiency'];
const codecActions = [
  ...zstd3.map((c) => `MODIFY COLUMN ${c} CODEC(ZSTD(3))`),
  ...delta.map((c) => `MODIFY COLUMN ${c} CODEC(Delta, ZSTD(1))`),
  ...[...numbers, ...averages].map((c) => `MODIFY COLUMN ${c} CODEC(ZSTD(3))`),
].join(', ');
const nodeNumbers = ['minutes', 'cpu_cores', 'ram_bytes', 'gpu_count', 'cpu_cost', 'ram_cost', 'gpu_cost', 'total_cost'];
const nodeCosts = ['cpu_allocated_cost', 'ram_allocated_cost', 'gpu_allocated_cost', 'cpu_idle_cost', 'ram_idle_cost', 'gpu_idle_cost', 'idle_cost'];
const nodeCodecActions = [
  ...delta.map((c) => `MODIFY COLUMN ${c} CODEC(Delta, ZSTD(1))`),
  ...[...nodeNumbers, ...nodeCosts].map((c) => `MODIFY COLUMN ${c} CODEC(ZSTD(3))`),
].join(', ');
const codecMigration = {
  '0008_k8s_expenses_codecs.sql': {
    server: [`ALTER TABLE billing.k8s_expenses ${codecActions}`, `ALTER TABLE billing.k8s_node_expenses ${nodeCodecActions}`],
    cluster: [
      `ALTER TABLE billing.k8s_expenses_local ON CLUSTER \`prod\` ${codecActions}`,
      `ALTER TABLE billing.k8s_node_expenses_local ON CLUSTER \`prod\` ${nodeCodecActions}`,
    ],
  },
};

describe('the migrations on one server and on a cluster', () => {
  it('every statement of every migration has its cluster form', async () => {
    const modes = await bothModes();
    const shown = Object.fromEntries(Object.entries(modes).map(([file, m]) => [file, { server: m.server.map(fold), cluster: m.cluster.map(fold) }]));
    expect(shown).toEqual({
      '0001_k8s_expenses.sql': {
        server: [
          'CREATE TABLE IF NOT EXISTS billing.k8s_expenses (<columns>) ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMM(hour) ORDER BY (tenant_id, cluster, hour, namespace, pod) TTL hour + INTERVAL 2 YEAR',
        ],
        cluster: [
          "CREATE TABLE IF NOT EXISTS billing.k8s_expenses_local ON CLUSTER `prod` (<columns>) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', version) PARTITION BY toYYYYMM(hour) ORDER BY (tenant_id, cluster, hour, namespace, pod) TTL hour + INTERVAL 2 YEAR",
          "CREATE TABLE IF NOT EXISTS billing.k8s_expenses ON CLUSTER `prod` AS billing.k8s_expenses_local ENGINE = Distributed('prod', 'billing', 'k8s_expenses_local', cityHash64(tenant_id, cluster))",
        ],
      },
      '0002_k8s_expenses_final.sql': {
        server: ['CREATE VIEW IF NOT EXISTS billing.k8s_expenses_final AS SELECT * FROM billing.k8s_expenses FINAL'],
        cluster: ['CREATE VIEW IF NOT EXISTS billing.k8s_expenses_final ON CLUSTER `prod` AS SELECT * FROM billing.k8s_expenses FINAL'],
      },
      '0003_k8s_expenses_ttl_drop_parts.sql': {
        server: ['ALTER TABLE billing.k8s_expenses MODIFY SETTING ttl_only_drop_parts = 1'],
        cluster: ['ALTER TABLE billing.k8s_expenses_local ON CLUSTER `prod` MODIFY SETTING ttl_only_drop_parts = 1'],
      },
      '0004_k8s_expenses_deletion_rows.sql': {
        server: [
          'CREATE TABLE IF NOT EXISTS billing.k8s_expenses (<columns>) ENGINE = ReplacingMergeTree(version, is_deleted) PARTITION BY toYYYYMM(hour) ORDER BY (tenant_id, cluster, hour, namespace, pod) TTL hour + INTERVAL 2 YEAR SETTINGS ttl_only_drop_parts = 1',
        ],
        cluster: [
          "CREATE TABLE IF NOT EXISTS billing.k8s_expenses_local ON CLUSTER `prod` (<columns>) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', version, is_deleted) PARTITION BY toYYYYMM(hour) ORDER BY (tenant_id, cluster, hour, namespace, pod) TTL hour + INTERVAL 2 YEAR SETTINGS ttl_only_drop_parts = 1",
          "CREATE TABLE IF NOT EXISTS billing.k8s_expenses ON CLUSTER `prod` AS billing.k8s_expenses_local ENGINE = Distributed('prod', 'billing', 'k8s_expenses_local', cityHash64(tenant_id, cluster))",
        ],
      },
      '0005_k8s_expenses_final_live.sql': {
        server: ['CREATE OR REPLACE VIEW billing.k8s_expenses_final AS SELECT * EXCEPT (is_deleted) FROM billing.k8s_expenses FINAL'],
        cluster: ['CREATE OR REPLACE VIEW billing.k8s_expenses_final ON CLUSTER `prod` AS SELECT * EXCEPT (is_deleted) FROM billing.k8s_expenses FINAL'],
      },
      '0006_k8s_node_expenses.sql': {
        server: [
          'CREATE TABLE IF NOT EXISTS billing.k8s_node_expenses (<columns>) ENGINE = ReplacingMergeTree(version, is_deleted) PARTITION BY toYYYYMM(hour) ORDER BY (tenant_id, cluster, hour, node) TTL hour + INTERVAL 2 YEAR SETTINGS ttl_only_drop_parts = 1',
          'CREATE VIEW IF NOT EXISTS billing.k8s_node_expenses_final AS SELECT * EXCEPT (is_deleted) FROM billing.k8s_node_expenses FINAL',
        ],
        cluster: [
          "CREATE TABLE IF NOT EXISTS billing.k8s_node_expenses_local ON CLUSTER `prod` (<columns>) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', version, is_deleted) PARTITION BY toYYYYMM(hour) ORDER BY (tenant_id, cluster, hour, node) TTL hour + INTERVAL 2 YEAR SETTINGS ttl_only_drop_parts = 1",
          "CREATE TABLE IF NOT EXISTS billing.k8s_node_expenses ON CLUSTER `prod` AS billing.k8s_node_expenses_local ENGINE = Distributed('prod', 'billing', 'k8s_node_expenses_local', cityHash64(tenant_id, cluster))",
          'CREATE VIEW IF NOT EXISTS billing.k8s_node_expenses_final ON CLUSTER `prod` AS SELECT * EXCEPT (is_deleted) FROM billing.k8s_node_expenses FINAL',
        ],
      },
      // The FOCUS view's query is long: pinned by its ends, the view created ON CLUSTER over the Distributed table.
      '0007_k8s_expenses_focus.sql': {
        server: [expect.stringMatching(/^CREATE OR REPLACE VIEW billing\.k8s_expenses_focus AS SELECT hour AS ChargePeriodStart, .* FROM billing\.k8s_expenses FINAL ARRAY JOIN .* WHERE component\.2 != 0$/)],
        cluster: [
          expect.stringMatching(/^CREATE OR REPLACE VIEW billing\.k8s_expenses_focus ON CLUSTER `prod` AS SELECT hour AS ChargePeriodStart, .* FROM billing\.k8s_expenses FINAL ARRAY JOIN .* WHERE component\.2 != 0$/),
        ],
      },
      ...codecMigration,
    });
  });

  it('migrations/ON_CLUSTER.md shows them as generated (regenerate: npx tsx scripts/cluster-statements.ts)', async () => {
    const text = await renderClusterStatements();
    expect(readFileSync(CLUSTER_STATEMENTS_FILE, 'utf8')).toBe(text);
    expect(text).toContain('CREATE TABLE IF NOT EXISTS {database}.k8s_expenses ON CLUSTER `{cluster}` AS {database}.k8s_expenses_local');
    expect(text).toContain('## 0008_k8s_expenses_codecs.sql');
  });

  it('the local table keeps the column list of the file, comments and all', async () => {
    const [m] = (await loadMigrations()).filter((x) => x.version === 4);
    const [statement] = renderMigration(m.sql, { database: 'billing' });
    const [local] = clusterStatements(statement, target);
    const columns = (s: string) => s.slice(s.indexOf('('), s.lastIndexOf(')', s.indexOf('ENGINE')) + 1);
    expect(columns(local)).toBe(columns(statement));
    expect(tableShape(local)).toEqual({ engine: 'ReplicatedReplacingMergeTree', columns: tableShape(statement).columns });
    expect(tableShape(statement).engine).toBe('ReplacingMergeTree');
    expect(tableShape(statement).columns.at(-2)).toBe('is_deleted');
  });
});



describe('clusterStatements', () => {
  it('ALTER: settings and codecs go to the local table, column changes to the Distributed table too', () => {
    expect(clusterStatements('ALTER TABLE billing.t MODIFY COLUMN a CODEC(ZSTD(3)), MODIFY SETTING x = 1', target)).toEqual([
      'ALTER TABLE billing.t_local ON CLUSTER `prod` MODIFY COLUMN a CODEC(ZSTD(3)), MODIFY SETTING x = 1',
    ]);
    expect(clusterStatements('ALTER TABLE billing.t ADD COLUMN IF NOT EXISTS b UInt8 CODEC(ZSTD(1)), MODIFY TTL hour + INTERVAL 1 YEAR', target)).toEqual([
      'ALTER TABLE billing.t_local ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS b UInt8 CODEC(ZSTD(1)), MODIFY TTL hour + INTERVAL 1 YEAR',
      'ALTER TABLE billing.t ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS b UInt8 CODEC(ZSTD(1))',
    ]);
    expect(clusterStatements('ALTER TABLE billing.t MODIFY COLUMN a Nullable(Float64)', target)).toEqual([
      'ALTER TABLE billing.t_local ON CLUSTER `prod` MODIFY COLUMN a Nullable(Float64)',
      'ALTER TABLE billing.t ON CLUSTER `prod` MODIFY COLUMN a Nullable(Float64)',
    ]);
  });

  it('a table without engine arguments gets only the replication arguments', () => {
    expect(clusterStatements('CREATE TABLE IF NOT EXISTS billing.n (tenant_id String, cluster String) ENGINE = MergeTree ORDER BY tenant_id', target)[0]).toBe(
      "CREATE TABLE IF NOT EXISTS billing.n_local ON CLUSTER `prod` (tenant_id String, cluster String)\nENGINE = ReplicatedMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}') ORDER BY tenant_id",
    );
  });

  it.each([
    ['a statement it does not know', 'DROP TABLE billing.k8s_expenses', /only CREATE TABLE/],
    ['an ALTER action it does not know', 'ALTER TABLE billing.t DELETE WHERE 1', /action "DELETE WHERE 1"/],
    ['a table of another database', 'CREATE TABLE IF NOT EXISTS other.t (a UInt8) ENGINE = MergeTree ORDER BY a', /expected billing\.<name>/],
    ['an engine that is not a MergeTree', 'CREATE TABLE IF NOT EXISTS billing.t (a UInt8) ENGINE = Memory', /MergeTree engine/],
    ['an engine already replicated', "CREATE TABLE IF NOT EXISTS billing.t (a UInt8) ENGINE = ReplicatedMergeTree('/p', 'r') ORDER BY a", /MergeTree engine/],
  ])('refuses %s rather than run it on one node', (_, statement, message) => {
    expect(() => clusterStatements(statement, target)).toThrow(MigrationError);
    expect(() => clusterStatements(statement, target)).toThrow(message);
  });

  it('schema_migrations: one table on one server, one replica set across every node of a cluster', () => {
    expect(schemaMigrationsDdl('billing')).toBe(
      "CREATE TABLE IF NOT EXISTS billing.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version",
    );
    const ddl = schemaMigrationsDdl('billing', 'prod');
    expect(ddl).toContain('billing.schema_migrations ON CLUSTER `prod`');
    // No {shard} in the Keeper path: the shards share it; {shard} in the replica name keeps replicas apart.
    expect(ddl).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/schema_migrations', '{shard}-{replica}', applied_at) ORDER BY version");
  });

  it('database and drops', () => {
    expect(createDatabaseDdl('billing')).toBe('CREATE DATABASE IF NOT EXISTS billing');
    expect(createDatabaseDdl('billing', 'prod-eu')).toBe('CREATE DATABASE IF NOT EXISTS billing ON CLUSTER `prod-eu`');
    expect(dropTableDdl(target, 'k8s_expenses')).toEqual([
      'DROP TABLE IF EXISTS billing.k8s_expenses ON CLUSTER `prod` SYNC',
      'DROP TABLE IF EXISTS billing.k8s_expenses_local ON CLUSTER `prod` SYNC',
    ]);
  });

  it.each(['prod', 'prod-eu_1', '_x'])('accepts the cluster name %j', (name) => expect(checkClusterName(name)).toBe(name));
  it.each(['', 'prod eu', 'a`b', "a'b", '1prod', 'prod;DROP'])('refuses the cluster name %j', (name) => expect(() => checkClusterName(name)).toThrow(/CLICKHOUSE_CLUSTER/));
});
