// The statements of the migrations for a ClickHouse cluster (CLICKHOUSE_CLUSTER): the migration
// files are written for one server, and each of their statements is rewritten here, so the cluster's
// schema can never drift from the single server's. Pure: no client.
//
//   CREATE TABLE IF NOT EXISTS db.t (...) ENGINE = XMergeTree(args) ...
//     -> db.t_local ON CLUSTER c, ENGINE = ReplicatedXMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', args),
//        on every node: the rows, one replica set per shard;
//     -> db.t ON CLUSTER c AS db.t_local ENGINE = Distributed(c, db, t_local, cityHash64(tenant_id, cluster)):
//        the name users query and the processor writes, over every shard.
//   CREATE [OR REPLACE] VIEW db.v ...      -> the same ON CLUSTER (views read the Distributed table).
//   ALTER TABLE db.t <actions>             -> the local table ON CLUSTER; actions that change the
//                                             columns also go to the Distributed table.
// Anything else is refused with a MigrationError rather than run on one node only.
//
// Sharding by (tenant_id, cluster) puts every version of a row key, and every deletion row, on
// one shard, so FINAL (which collapses versions within a shard) stays correct across the cluster,
// and the processor's read of an hour's keys goes to one shard's rows.
//
// {uuid} in the Keeper path is the table's UUID, the same on every replica of an ON CLUSTER CREATE
// (it needs an Atomic database, ClickHouse's default): a table dropped and created again never
// meets the Keeper metadata of the one before it.
import { checkIdentifier } from './identifier.ts';
import { MigrationError } from './migration-files.ts';
import { significantTokens, type Token } from './sql-tokens.ts';

export interface ClusterTarget {
  database: string;
  /** CLICKHOUSE_CLUSTER: a cluster of the servers' remote_servers. */
  cluster: string;
}

/** The local (replicated) table under the Distributed table `table`. */
export const localTable = (table: string): string => `${table}_local`;

export const SHARDING_KEY = 'cityHash64(tenant_id, cluster)';
const REPLICATION = "'/clickhouse/tables/{uuid}/{shard}', '{replica}'";
const CLUSTER_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Checks a cluster name (letters, digits, _ and -) for use in statements. */
export function checkClusterName(cluster: string): string {
  if (!CLUSTER_NAME.test(cluster)) throw new TypeError(`CLICKHOUSE_CLUSTER must be a cluster name of letters, digits, _ and - (from the servers' remote_servers), got ${JSON.stringify(cluster)}`);
  return cluster;
}

const onCluster = (cluster: string): string => `ON CLUSTER \`${checkClusterName(cluster)}\``;

/**
 * schema_migrations for the whole cluster: one replica set across every node of every shard (the
 * Keeper path has no {shard}), so each node sees every record whichever node applied it. The
 * replica name carries the shard because {replica} need only be unique within a shard.
 */
export function schemaMigrationsDdl(database: string, cluster?: string): string {
  const columns = "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))";
  if (cluster === undefined) return `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations ${columns} ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`;
  return (
    `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations ${onCluster(cluster)} ${columns} ` +
    "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/schema_migrations', '{shard}-{replica}', applied_at) ORDER BY version"
  );
}

export function createDatabaseDdl(database: string, cluster?: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${checkIdentifier(database, 'the database')}${cluster === undefined ? '' : ` ${onCluster(cluster)}`}`;
}

/** Drops a table and the Distributed table over it on every node (SYNC: its Keeper metadata goes too). */
export function dropTableDdl(target: ClusterTarget, table: string): string[] {
  const { database, cluster } = target;
  return [`DROP TABLE IF EXISTS ${database}.${table} ${onCluster(cluster)} SYNC`, `DROP TABLE IF EXISTS ${database}.${localTable(table)} ${onCluster(cluster)} SYNC`];
}

/** The statements that do on the cluster what `statement` (a rendered migration statement) does on one server. */
export function clusterStatements(statement: string, target: ClusterTarget): string[] {
  const tokens = significantTokens(statement);
  const words = tokens.slice(0, 6).map((t) => (t.type === 'word' ? t.value.toUpperCase() : t.value));
  const head = words.join(' ');
  if (head.startsWith('CREATE TABLE')) return createTable(statement, tokens, target);
  if (head.startsWith('CREATE VIEW') || head.startsWith('CREATE OR REPLACE VIEW')) return createView(statement, tokens, target);
  if (head.startsWith('ALTER TABLE')) return alterTable(statement, tokens, target);
  throw refused(statement, 'only CREATE TABLE, CREATE [OR REPLACE] VIEW and ALTER TABLE are known');
}

/** The table a statement names: `db.name` at token `from`, after any IF NOT EXISTS. */
function named(statement: string, tokens: Token[], target: ClusterTarget, from: number): { table: string; end: number; index: number } {
  let i = from;
  while (tokens[i]?.type === 'word' && ['IF', 'NOT', 'EXISTS'].includes(tokens[i].value.toUpperCase())) i++;
  const [db, dot, name] = tokens.slice(i, i + 3);
  if (db?.value !== target.database || dot?.value !== '.' || name?.type !== 'word') throw refused(statement, `expected ${target.database}.<name>`);
  return { table: name.value, end: name.end, index: i + 2 };
}

function createTable(statement: string, tokens: Token[], target: ClusterTarget): string[] {
  const { database, cluster } = target;
  const { table, index } = named(statement, tokens, target, 2);
  const open = index + 1;
  if (tokens[open]?.value !== '(') throw refused(statement, 'expected a column list after the table name');
  const close = matching(tokens, open);
  const [engineWord, equals, engine, args] = tokens.slice(close + 1, close + 5);
  if (engineWord?.value.toUpperCase() !== 'ENGINE' || equals?.value !== '=' || !engine || !/^[A-Za-z]*MergeTree$/.test(engine.value) || engine.value.startsWith('Replicated')) {
    throw refused(statement, 'expected ENGINE = <a MergeTree engine> after the column list');
  }
  let engineArgs = '';
  let rest = engine.end;
  if (args?.value === '(') {
    const argsClose = matching(tokens, close + 4);
    engineArgs = statement.slice(args.end, tokens[argsClose].start).trim();
    rest = tokens[argsClose].end;
  }
  const columns = statement.slice(tokens[open].start, tokens[close].end);
  const local = localTable(table);
  return [
    `CREATE TABLE IF NOT EXISTS ${database}.${local} ${onCluster(cluster)} ${columns}\n` +
      `ENGINE = Replicated${engine.value}(${REPLICATION}${engineArgs ? `, ${engineArgs}` : ''})${statement.slice(rest)}`,
    `CREATE TABLE IF NOT EXISTS ${database}.${table} ${onCluster(cluster)} AS ${database}.${local}\n` +
      `ENGINE = Distributed('${cluster}', '${database}', '${local}', ${SHARDING_KEY})`,
  ];
}

function createView(statement: string, tokens: Token[], target: ClusterTarget): string[] {
  const view = tokens.findIndex((t) => t.value.toUpperCase() === 'VIEW');
  const { end } = named(statement, tokens, target, view + 1);
  return [`${statement.slice(0, end)} ${onCluster(target.cluster)}${statement.slice(end)}`];
}

/** What an ALTER action changes: the parts (local), or also the columns the Distributed table has. */
const PARTS_ONLY = [/^MODIFY SETTING\b/, /^RESET SETTING\b/, /^MODIFY TTL\b/, /^REMOVE TTL\b/, /^MATERIALIZE TTL\b/, /^MODIFY COLUMN (IF EXISTS )?\S+ CODEC\b/];
const COLUMNS = [/^ADD COLUMN\b/, /^DROP COLUMN\b/, /^RENAME COLUMN\b/, /^MODIFY COLUMN\b/, /^COMMENT COLUMN\b/];

function alterTable(statement: string, tokens: Token[], target: ClusterTarget): string[] {
  const { database, cluster } = target;
  const { table, index } = named(statement, tokens, target, 2);
  const actions = splitTopLevel(tokens.slice(index + 1)).map((group) => statement.slice(group[0].start, group[group.length - 1].end));
  const kinds = actions.map((action) => {
    const words = action.toUpperCase().replace(/\s+/g, ' ');
    if (PARTS_ONLY.some((re) => re.test(words))) return 'parts';
    if (COLUMNS.some((re) => re.test(words))) return 'columns';
    throw refused(statement, `the action "${action.slice(0, 40)}" is not known here`);
  });
  const statements = [`ALTER TABLE ${database}.${localTable(table)} ${onCluster(cluster)} ${actions.join(', ')}`];
  const columnActions = actions.filter((_, i) => kinds[i] === 'columns');
  if (columnActions.length > 0) statements.push(`ALTER TABLE ${database}.${table} ${onCluster(cluster)} ${columnActions.join(', ')}`);
  return statements;
}

/** The engine and column names a CREATE TABLE statement defines: what tells whether a table has that definition. */
export function tableShape(statement: string): { engine: string; columns: string[] } {
  const tokens = significantTokens(statement);
  const open = tokens.findIndex((t) => t.type === 'punct' && t.value === '(');
  if (open < 0) throw refused(statement, 'expected a column list');
  const close = matching(tokens, open);
  const columns = splitTopLevel(tokens.slice(open + 1, close)).map((group) => group[0].value);
  return { engine: tokens[close + 3]?.value ?? '', columns };
}

/** The index of the parenthesis closing the one at `open`. */
function matching(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i].value === '(' && tokens[i].type === 'punct') depth++;
    else if (tokens[i].value === ')' && tokens[i].type === 'punct' && --depth === 0) return i;
  }
  throw new MigrationError('unbalanced parentheses in a migration statement');
}

/** Tokens split at commas outside parentheses. */
function splitTopLevel(tokens: Token[]): Token[][] {
  const groups: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'punct' && t.value === '(') depth++;
    if (t.type === 'punct' && t.value === ')') depth--;
    if (t.type === 'punct' && t.value === ',' && depth === 0) groups.push([]);
    else groups[groups.length - 1].push(t);
  }
  return groups.filter((g) => g.length > 0);
}

function refused(statement: string, why: string): MigrationError {
  return new MigrationError(`cannot run this statement on a cluster (${why}): ${statement.replace(/\s+/g, ' ').slice(0, 120)}`);
}
