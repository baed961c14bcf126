-- recreate: on every run
--
-- k8s_expenses_focus: the latest rows of k8s_expenses in the column names of FinOps FOCUS 1.3, for
-- tools that read FOCUS. Each row of k8s_expenses gives one charge per kind of cost it holds
-- (x_CostComponent): `compute` (CPU, RAM and GPU), `storage` (persistent volumes), `network`
-- (egress), `load_balancer`, and `management` (a __cluster__ row); charges of 0 are left out.
--
-- Split cost allocation (FOCUS 1.3): a node-hour is the origin charge (ResourceId = the node), split
-- into its pods' compute charges (AllocatedMethodId `k8s-node-allocation`, AllocatedResourceId and
-- AllocatedResourceName the pod, AllocatedTags its labels) and the unallocated portion, the node's
-- idle (the same AllocatedMethodId, AllocatedResourceId null). They add up to the node's
-- total_cost in k8s_node_expenses: a pod's compute charge is its row's, under the node it ran on
-- longest in the hour (the `node` column). Other charges are the pod's (or namespace's, or
-- cluster's) own, with no allocation columns.
--
-- The costs are those of the price series (list prices, no discounts): BilledCost, EffectiveCost,
-- ListCost and ContractedCost are the same number, in BillingCurrency (BILLING_CURRENCY, written
-- into the view by every migration run). Provisional rows of open hours are included
-- (x_IsFinal = 0).
CREATE OR REPLACE VIEW {database}.k8s_expenses_focus AS
SELECT
    hour AS ChargePeriodStart,
    hour + INTERVAL 1 HOUR AS ChargePeriodEnd,
    toDateTime(toStartOfMonth(hour), 'UTC') AS BillingPeriodStart,
    toDateTime(toStartOfMonth(hour) + INTERVAL 1 MONTH, 'UTC') AS BillingPeriodEnd,
    tenant_id AS BillingAccountId,
    tenant_id AS BillingAccountName,
    cluster AS SubAccountId,
    cluster AS SubAccountName,
    component.2 AS BilledCost,
    component.2 AS EffectiveCost,
    component.2 AS ListCost,
    component.2 AS ContractedCost,
    '{billing_currency}' AS BillingCurrency,
    'Usage' AS ChargeCategory,
    'Usage-Based' AS ChargeFrequency,
    multiIf(
        component.1 = 'compute' AND namespace = '__idle__', concat('Idle capacity of node ', node),
        component.1 = 'compute', concat('CPU, RAM and GPU of pod ', namespace, '/', pod, ' on node ', node),
        component.1 = 'storage', concat('Persistent volumes of ', namespace, '/', pod),
        component.1 = 'network', concat('Network egress of ', namespace, '/', pod),
        component.1 = 'load_balancer', concat('Load balancers of ', namespace, '/', pod),
        concat('Cluster management (', pod, ')')
    ) AS ChargeDescription,
    'Kubernetes' AS ServiceName,
    multiIf(component.1 = 'storage', 'Storage', component.1 IN ('network', 'load_balancer'), 'Networking', component.1 = 'management', 'Management and Governance', 'Compute') AS ServiceCategory,
    multiIf(component.1 = 'compute', node, component.1 = 'management', concat(cluster, '/', pod), concat(namespace, '/', pod)) AS ResourceId,
    multiIf(component.1 = 'compute', node, pod) AS ResourceName,
    multiIf(component.1 = 'compute', 'Node', component.1 = 'management', 'Cluster', pod = '__unmounted__', 'Namespace', 'Pod') AS ResourceType,
    if(component.1 = 'compute', CAST(NULL, 'Nullable(String)'), toJSONString(labels)) AS Tags,
    if(component.1 = 'compute', 'k8s-node-allocation', NULL) AS AllocatedMethodId,
    if(component.1 = 'compute' AND namespace != '__idle__', concat(namespace, '/', pod), NULL) AS AllocatedResourceId,
    if(component.1 = 'compute' AND namespace != '__idle__', pod, NULL) AS AllocatedResourceName,
    if(component.1 = 'compute' AND namespace != '__idle__', toJSONString(labels), NULL) AS AllocatedTags,
    tenant_id AS x_TenantId,
    cluster AS x_Cluster,
    namespace AS x_Namespace,
    pod AS x_Pod,
    node AS x_Node,
    workload_kind AS x_WorkloadKind,
    workload AS x_Workload,
    component.1 AS x_CostComponent,
    is_final AS x_IsFinal,
    price_defaulted AS x_PriceDefaulted
FROM {database}.k8s_expenses FINAL
ARRAY JOIN [
    ('compute', cpu_cost + ram_cost + gpu_cost),
    ('storage', pv_cost),
    ('network', network_cost),
    ('load_balancer', load_balancer_cost),
    ('management', if(namespace = '__cluster__', total_cost, 0))
] AS component
WHERE component.2 != 0;
