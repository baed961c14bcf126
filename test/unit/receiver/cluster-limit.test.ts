import { describe, expect, it } from 'vitest';
import { clusterNames, createClusterLimit, keepAdmittedClusters } from '../../../receiver/cluster-limit.ts';

describe('TENANT_MAX_CLUSTERS', () => {
  it("admits a tenant's first clusters for good and refuses further ones, each tenant on its own", () => {
    const limit = createClusterLimit(2);
    expect(limit.admit('acme', ['eu-1'])).toEqual([]);
    expect(limit.admit('acme', ['eu-1', 'us-1', 'ap-1'])).toEqual(['ap-1']);
    expect(limit.admit('acme', ['us-1', 'eu-1'])).toEqual([]); // known ones stay admitted
    expect(limit.admit('acme', ['ap-1'])).toEqual(['ap-1']); // a refused one is not remembered as known
    expect(limit.admit('globex', ['ap-1', 'ap-2'])).toEqual([]);
  });

  it('drops the records of refused clusters and counts their samples as rejected', () => {
    const prepared = {
      records: [
        { cluster: 'eu-1', samples: 3 },
        { cluster: 'ap-1', samples: 5 },
        { cluster: 'ap-1', samples: 0 }, // a second record of the same cluster carries no count
      ],
      samplesAccepted: 8,
      samplesRejected: new Map([['too_many_labels', 1]]),
    };
    expect([...clusterNames(prepared.records)]).toEqual(['eu-1', 'ap-1']);
    expect(keepAdmittedClusters(prepared, ['ap-1'])).toEqual(['ap-1']);
    expect(prepared.records).toEqual([{ cluster: 'eu-1', samples: 3 }]);
    expect(prepared.samplesAccepted).toBe(3);
    expect(Object.fromEntries(prepared.samplesRejected)).toEqual({ too_many_labels: 1, too_many_clusters: 5 });
  });
});
