-- convert-table: k8s_expenses
--
-- Hourly cost of every pod: one row per (tenant, cluster, hour, namespace, pod), with deletion rows.
--
-- ReplacingMergeTree(version, is_deleted): the processor rewrites an hour's rows while the hour is
-- open (provisional, is_final = 0), once more when it closes (is_final = 1), and again when late
-- samples change it, each time with a higher version; merges keep the row with the highest version
-- per key. When a rewrite of an hour no longer has a key it wrote before (a pod's PV cost first
-- written to its namespace's __unmounted__ row, which the pod's own row takes over once its
-- allocation arrives), the processor writes a deletion row for that key: is_deleted = 1, a higher
-- version, zeros elsewhere. Read with FINAL (or argMax(..., version) keeping the keys whose
-- argMax(is_deleted, version) = 0) to see only the latest live row of each key.
--
-- The workload is an ordinary column, not part of the key: owner information that arrives late
-- replaces the pod's row instead of leaving a second row under another workload.
--
-- The engine of an existing table cannot be altered, so this migration replaces the table of
-- migration 0001 (ReplacingMergeTree(version)), keeping its rows: the migration runner creates this
-- definition under a temporary name, copies the rows into it, exchanges the two tables, copies
-- again what was written to the old one meanwhile and drops it
-- (processor/clickhouse/table-conversion.ts). It is safe to interrupt and to run from two processes
-- at once, and needs an Atomic database (ClickHouse's default).
CREATE TABLE IF NOT EXISTS {database}.k8s_expenses
(
    tenant_id          LowCardinality(String),
    cluster            LowCardinality(String),
    namespace          LowCardinality(String),
    pod                String,
    hour               DateTime('UTC'),
    workload_kind      LowCardinality(String),
    workload           String,
    node               LowCardinality(String),
    minutes            Float64,
    cpu_core_hours     Float64,
    cpu_cost           Float64,
    ram_byte_hours     Float64,
    ram_cost           Float64,
    gpu_hours          Float64,
    gpu_cost           Float64,
    pv_byte_hours      Float64,
    pv_cost            Float64,
    network_cost       Float64,
    load_balancer_cost Float64,
    total_cost         Float64,
    -- NULL when the request or usage series were absent for the hour.
    cpu_request_avg    Nullable(Float64),
    cpu_usage_avg      Nullable(Float64),
    ram_request_avg    Nullable(Float64),
    ram_usage_avg      Nullable(Float64),
    cpu_efficiency     Nullable(Float64),
    ram_efficiency     Nullable(Float64),
    total_efficiency   Nullable(Float64),
    labels             Map(String, String),
    -- 1 when a node had no price and the configured default prices were used.
    price_defaulted    UInt8,
    -- 1 when the workload was derived from the pod name because owner series were missing.
    workload_inferred  UInt8,
    -- 0 while the hour is open (provisional rows), 1 once it has closed.
    is_final           UInt8,
    -- Write version, the highest one wins: 2^52 + 2 x the partition offset the write had read
    -- (+1 for final rows), so a write that has seen more wins whatever the clocks say; rows of
    -- earlier releases carry microseconds of wall time, below 2^52.
    version            UInt64,
    -- 1 on a deletion row: the key is gone from its hour (FINAL leaves it out).
    is_deleted         UInt8,
    updated_at         DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant_id, cluster, hour, namespace, pod)
{ttl}
SETTINGS ttl_only_drop_parts = 1;
