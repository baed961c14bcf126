-- Column codecs of k8s_expenses and k8s_node_expenses, chosen by measurement on the embedded engine
-- (`npm run bench:codecs`: the cost model's pod and node rows of kubecost traffic, 6 clusters x 300
-- pods on 20 nodes x 12 hours, merged, wide parts; README, "Disk and codecs"). k8s_expenses: 47.3
-- bytes per row on disk with the default LZ4, 34.0 with these.
--   - ZSTD(3) on the pod and workload names, the labels and every number: costs and quantities
--     differ from row to row (rows of one hour follow each other by namespace and pod), so delta
--     codecs (Gorilla, FPC) mostly lose to ZSTD alone; ZSTD(3) beat ZSTD(1) on nearly every column.
--   - Delta then ZSTD(1) on hour, version and updated_at, which repeat or grow within a write.
--   - The LowCardinality strings and the 0/1 flags stay as they are: already below 0.02 bytes a row.
-- Parts written before this migration keep their codecs until merges rewrite them. is_deleted is
-- the engine's own column, whose codec cannot be changed.
ALTER TABLE {database}.k8s_expenses
    MODIFY COLUMN pod CODEC(ZSTD(3)),
    MODIFY COLUMN workload CODEC(ZSTD(3)),
    MODIFY COLUMN labels CODEC(ZSTD(3)),
    MODIFY COLUMN hour CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN version CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN updated_at CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN minutes CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_core_hours CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_cost CODEC(ZSTD(3)),
    MODIFY COLUMN ram_byte_hours CODEC(ZSTD(3)),
    MODIFY COLUMN ram_cost CODEC(ZSTD(3)),
    MODIFY COLUMN gpu_hours CODEC(ZSTD(3)),
    MODIFY COLUMN gpu_cost CODEC(ZSTD(3)),
    MODIFY COLUMN pv_byte_hours CODEC(ZSTD(3)),
    MODIFY COLUMN pv_cost CODEC(ZSTD(3)),
    MODIFY COLUMN network_cost CODEC(ZSTD(3)),
    MODIFY COLUMN load_balancer_cost CODEC(ZSTD(3)),
    MODIFY COLUMN total_cost CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_request_avg CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_usage_avg CODEC(ZSTD(3)),
    MODIFY COLUMN ram_request_avg CODEC(ZSTD(3)),
    MODIFY COLUMN ram_usage_avg CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_efficiency CODEC(ZSTD(3)),
    MODIFY COLUMN ram_efficiency CODEC(ZSTD(3)),
    MODIFY COLUMN total_efficiency CODEC(ZSTD(3));

-- k8s_node_expenses, the same choice by the same measurement: 45.9 bytes per row on disk with LZ4,
-- 39.0 with these for the 1,440 node rows of that run, of which 13 bytes a row are the part's own
-- files; 23.4 and 14.7 for 14,400 (100 nodes a cluster, 24 hours). Costs, allocated and idle costs
-- are ZSTD(3) (Gorilla and FPC double them), capacities too (they repeat from hour to hour);
-- hour, version and updated_at Delta then ZSTD(1); the LowCardinality strings and flags as they are.
ALTER TABLE {database}.k8s_node_expenses
    MODIFY COLUMN hour CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN version CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN updated_at CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN minutes CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_cores CODEC(ZSTD(3)),
    MODIFY COLUMN ram_bytes CODEC(ZSTD(3)),
    MODIFY COLUMN gpu_count CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_cost CODEC(ZSTD(3)),
    MODIFY COLUMN ram_cost CODEC(ZSTD(3)),
    MODIFY COLUMN gpu_cost CODEC(ZSTD(3)),
    MODIFY COLUMN total_cost CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_allocated_cost CODEC(ZSTD(3)),
    MODIFY COLUMN ram_allocated_cost CODEC(ZSTD(3)),
    MODIFY COLUMN gpu_allocated_cost CODEC(ZSTD(3)),
    MODIFY COLUMN cpu_idle_cost CODEC(ZSTD(3)),
    MODIFY COLUMN ram_idle_cost CODEC(ZSTD(3)),
    MODIFY COLUMN gpu_idle_cost CODEC(ZSTD(3)),
    MODIFY COLUMN idle_cost CODEC(ZSTD(3));
