// The cluster bill identity, asked of ClickHouse: for every (tenant, cluster, hour), the sum of
// total_cost over k8s_expenses (pods, __idle__, __unmounted__ and __cluster__ rows) against the
// node costs of k8s_node_expenses plus what is not a node's (volumes, network, load balancers,
// cluster management).

/** `name` in `database`, or as the connection's default database sees it. */
const table = (database: string | undefined, name: string) => (database ? `${database}.${name}` : name);

/** One row per cluster-hour: `rows` (sum of k8s_expenses) and `bill` (nodes + the rest), with the node count. */
export function billQuery(database?: string): string {
  return `
    SELECT tenant_id, cluster, toUnixTimestamp(hour) AS hour, rows, nodes + other AS bill, node_count
    FROM (
      SELECT tenant_id, cluster, hour, sum(total_cost) AS rows,
             sum(pv_cost + network_cost + load_balancer_cost) + sumIf(total_cost, namespace = '__cluster__') AS other
      FROM ${table(database, 'k8s_expenses')} FINAL GROUP BY tenant_id, cluster, hour
    ) AS e
    LEFT JOIN (
      SELECT tenant_id, cluster, hour, sum(total_cost) AS nodes, count() AS node_count
      FROM ${table(database, 'k8s_node_expenses')} FINAL GROUP BY tenant_id, cluster, hour
    ) AS n USING (tenant_id, cluster, hour)
    ORDER BY tenant_id, cluster, hour`;
}

/** Per node-hour and resource, allocated + idle against cost: the rows where they differ by more than 1e-9 relative. */
export function nodeIdentityQuery(database?: string): string {
  return `
    SELECT tenant_id, cluster, toUnixTimestamp(hour) AS hour, node
    FROM ${table(database, 'k8s_node_expenses')} FINAL
    WHERE abs(cpu_allocated_cost + cpu_idle_cost - cpu_cost) > 1e-9 * greatest(abs(cpu_cost), abs(cpu_allocated_cost), 1e-300)
       OR abs(ram_allocated_cost + ram_idle_cost - ram_cost) > 1e-9 * greatest(abs(ram_cost), abs(ram_allocated_cost), 1e-300)
       OR abs(gpu_allocated_cost + gpu_idle_cost - gpu_cost) > 1e-9 * greatest(abs(gpu_cost), abs(gpu_allocated_cost), 1e-300)
       OR abs(cpu_idle_cost + ram_idle_cost + gpu_idle_cost - idle_cost) > 1e-9 * greatest(abs(idle_cost), 1e-300)
       OR abs(cpu_cost + ram_cost + gpu_cost - total_cost) > 1e-9 * greatest(abs(total_cost), 1e-300)`;
}
