// Load balancer cost: kubecost_load_balancer_cost ($/h) over the hour (interval rule), split among
// the pods its service selects (service_selector_labels against the pods' labels) in proportion to
// their running time. Without a selector series, or when the selector matches no running pod, the
// namespace's pods share it; with no pod in the namespace it goes to the namespace's
// `__unmounted__` row, so cluster totals still add up.
import { selects } from './pod-labels.ts';

export interface LoadBalancerSeen {
  namespace: string;
  service: string;
  /** $ for the hour. */
  cost: number;
}

export interface LoadBalancerTarget {
  readonly namespace: string;
  /** Running time in the hour (ms). */
  readonly runningMs: number;
  readonly labels: Readonly<Record<string, string>>;
  loadBalancerCost: number;
}

/**
 * Adds each load balancer's cost to its pods. `lbs` and `pods` must be in a canonical order
 * (namespace, name) so the float sums are reproducible. Returns the unallocated cost per namespace.
 */
export function allocateLoadBalancers(
  lbs: readonly LoadBalancerSeen[],
  selectors: ReadonlyMap<string, Readonly<Record<string, string>>>,
  podsByNamespace: ReadonlyMap<string, readonly LoadBalancerTarget[]>,
): Map<string, number> {
  const unallocated = new Map<string, number>();
  for (const lb of lbs) {
    if (lb.cost === 0) continue;
    const inNamespace = podsByNamespace.get(lb.namespace) ?? [];
    const selector = selectors.get(`${lb.namespace}\0${lb.service}`);
    let targets = inNamespace;
    if (selector !== undefined && Object.keys(selector).length > 0) {
      const selected = inNamespace.filter((p) => selects(selector, p.labels));
      if (selected.length > 0) targets = selected;
    }
    let total = 0;
    for (const p of targets) total += p.runningMs;
    if (total === 0) {
      unallocated.set(lb.namespace, (unallocated.get(lb.namespace) ?? 0) + lb.cost);
      continue;
    }
    for (const p of targets) p.loadBalancerCost += (lb.cost * p.runningMs) / total;
  }
  return unallocated;
}
