-- Hourly cost of every pod: one row per (tenant, cluster, hour, namespace, pod).
--
-- ReplacingMergeTree(version): the processor rewrites an hour's rows while the hour is open
-- (provisional, is_final = 0) and once more when it closes (is_final = 1), each time with a higher
-- version; merges keep the row with the highest version per sorting key. Read with FINAL (or
-- argMax(..., version)) to see only the latest row of each key before the merges have run.
--
-- The workload is an ordinary column, not part of the key: owner information that arrives late
-- replaces the pod's row instead of leaving a second row under another workload.
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
    -- Monotonic write version: the highest one wins.
    version            UInt64,
    updated_at         DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant_id, cluster, hour, namespace, pod)
{ttl};
