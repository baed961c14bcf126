// TENANT_MAX_SERIES: the active series a tenant may have in this processor's state, over all of its
// partitions' models (a tenant's clusters may land on several). The models ask before storing a new
// series; the counts are taken again from the models after every flush (evictions forget silent
// series) and when partitions are revoked (their models go), so admitting stays exact between.
import type { Log } from '../core/log.ts';
import type { AdmitSeries, HourlyCostModel } from './cost-model-port.ts';

export interface TenantSeriesLimit {
  readonly admit: AdmitSeries;
  /** Counts again from the models held now. */
  recount(models: Iterable<Pick<HourlyCostModel<unknown>, 'seriesByTenant'>>): void;
}

export function createTenantSeriesLimit(max: number, log: Pick<Log, 'warn'>): TenantSeriesLimit {
  let counts = new Map<string, number>();
  /** Tenants at the bound, logged once until they are below it again. */
  const full = new Set<string>();
  return {
    admit(tenant) {
      const held = counts.get(tenant) ?? 0;
      if (held < max) {
        counts.set(tenant, held + 1);
        return true;
      }
      if (!full.has(tenant)) {
        full.add(tenant);
        log.warn(
          { tenant, max },
          `tenant ${tenant} has ${max} active series in this processor (TENANT_MAX_SERIES): its new series are dropped and counted (k8s_expenses_processor_series_dropped_total) until some go silent`,
        );
      }
      return false;
    },
    recount(models) {
      const next = new Map<string, number>();
      for (const model of models) for (const [tenant, n] of model.seriesByTenant?.() ?? []) next.set(tenant, (next.get(tenant) ?? 0) + n);
      counts = next;
      for (const tenant of full) if ((counts.get(tenant) ?? 0) < max) full.delete(tenant);
    },
  };
}
