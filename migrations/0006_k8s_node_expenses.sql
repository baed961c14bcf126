-- Hourly cost of every node: one row per (tenant, cluster, hour, node), with deletion rows.
--
-- What the node cost in the hour (capacity x price x time present, per resource), what the pod rows
-- of k8s_expenses were charged for their time on it, and the difference (idle, also written to
-- k8s_expenses as the node's `__idle__` row). Written and finalised exactly like k8s_expenses, in
-- the same writes: provisional rows (is_final = 0) while the hour is open, final ones once it
-- closes, again when late samples change it, each write with the version of the offset it had read
-- (the same version as its k8s_expenses rows); a node a rewrite of its hour no longer has gets a
-- deletion row (is_deleted = 1). Read with FINAL (or the view k8s_node_expenses_final).
CREATE TABLE IF NOT EXISTS {database}.k8s_node_expenses
(
    tenant_id          LowCardinality(String),
    cluster            LowCardinality(String),
    hour               DateTime('UTC'),
    node               LowCardinality(String),
    instance_type      LowCardinality(String),
    region             LowCardinality(String),
    zone               LowCardinality(String),
    -- 1 when kubecost_node_is_spot said so in the hour.
    spot               UInt8,
    -- Time present in the hour (its capacity samples' intervals; without capacity, its pods').
    minutes            Float64,
    -- Capacity, time-weighted mean over the node's presence; NULL without a capacity series.
    cpu_cores          Nullable(Float64),
    ram_bytes          Nullable(Float64),
    gpu_count          Nullable(Float64),
    -- 1 when CPU or memory capacity is unknown: that resource's cost is what its pods were charged.
    capacity_missing   UInt8,
    -- What the node cost in the hour.
    cpu_cost           Float64,
    ram_cost           Float64,
    gpu_cost           Float64,
    total_cost         Float64,
    -- What the pod rows were charged for their time on this node.
    cpu_allocated_cost Float64,
    ram_allocated_cost Float64,
    gpu_allocated_cost Float64,
    -- Cost - allocated cost, per resource; negative when pods were charged more than the capacity.
    cpu_idle_cost      Float64,
    ram_idle_cost      Float64,
    gpu_idle_cost      Float64,
    idle_cost          Float64,
    -- 1 when a node had no price and the configured default prices were used.
    price_defaulted    UInt8,
    -- 0 while the hour is open (provisional rows), 1 once it has closed.
    is_final           UInt8,
    -- Write version, the highest one wins: 2^52 + 2 x the partition offset the write had read
    -- (+1 for final rows), the version of the same write's k8s_expenses rows.
    version            UInt64,
    -- 1 on a deletion row: the key is gone from its hour (FINAL leaves it out).
    is_deleted         UInt8,
    updated_at         DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant_id, cluster, hour, node)
{ttl}
SETTINGS ttl_only_drop_parts = 1;

-- The latest live row of every node-hour.
CREATE VIEW IF NOT EXISTS {database}.k8s_node_expenses_final AS
SELECT * EXCEPT (is_deleted) FROM {database}.k8s_node_expenses FINAL;
