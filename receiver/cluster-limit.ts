// TENANT_MAX_CLUSTERS: the distinct clusters this process has seen per tenant. A tenant's first
// `max` clusters are admitted for the life of the process; series of any further cluster are
// refused (400 too-many-clusters), so a misconfigured or hostile sender inventing cluster names
// cannot grow the processor's state and the table without bound. Per process: behind several
// receivers a tenant may reach up to `max` clusters at each.

export interface ClusterLimit {
  /** Admits the clusters of one request; returns those refused (empty when all fit). */
  admit(tenant: string, clusters: Iterable<string>): string[];
}

export function createClusterLimit(max: number): ClusterLimit {
  const seen = new Map<string, Set<string>>();
  return {
    admit(tenant, clusters) {
      let known = seen.get(tenant);
      if (!known) seen.set(tenant, (known = new Set()));
      const refused: string[] = [];
      for (const cluster of clusters) {
        if (known.has(cluster)) continue;
        if (known.size < max) known.add(cluster);
        else refused.push(cluster);
      }
      return refused;
    },
  };
}

/** The distinct clusters of a request's records. */
export function clusterNames(records: readonly { cluster: string }[]): Set<string> {
  return new Set(records.map((r) => r.cluster));
}

interface Prepared {
  records: { cluster: string; samples: number }[];
  samplesAccepted: number;
  samplesRejected: Map<string, number>;
}

/** Removes the records of refused clusters, their samples counted as rejected (`too_many_clusters`); returns `refused`. */
export function keepAdmittedClusters(prepared: Prepared, refused: string[]): string[] {
  if (refused.length === 0) return refused;
  const out = new Set(refused);
  let dropped = 0;
  for (const r of prepared.records) if (out.has(r.cluster)) dropped += r.samples;
  prepared.records = prepared.records.filter((r) => !out.has(r.cluster));
  prepared.samplesAccepted -= dropped;
  prepared.samplesRejected.set('too_many_clusters', (prepared.samplesRejected.get('too_many_clusters') ?? 0) + dropped);
  return refused;
}
