// Where a node is and what market it is on: kube_node_labels (current and beta label names), the
// labels of its price series, kubecost_node_is_spot.
import { describe, expect, it } from 'vitest';
import { every, Feed, GIB, H, L, MIN } from './fixtures.ts';

const hour = (from = H, to = H + 60 * MIN) => [from, to] as const;

/** A node with CPU capacity and no price series (so no instance_type/region from prices). */
function bareNode(feed: Feed, node: string): void {
  feed.add(L.capacity(node, 'cpu'), every(...hour(), MIN, 2));
}

describe('node labels and spot', () => {
  it('instance type, region and zone come from kube_node_labels', () => {
    const feed = new Feed();
    bareNode(feed, 'node-a');
    feed.add(
      L.nodeLabels('node-a', {
        kubernetes_io_hostname: 'node-a',
        node_kubernetes_io_instance_type: 'm6i.xlarge',
        topology_kubernetes_io_region: 'us-east-1',
        topology_kubernetes_io_zone: 'us-east-1c',
      }),
      every(...hour(), MIN, 1),
    );
    expect(feed.node('node-a')).toMatchObject({ instance_type: 'm6i.xlarge', region: 'us-east-1', zone: 'us-east-1c' });
  });

  it('older clusters: the beta label names', () => {
    const feed = new Feed();
    bareNode(feed, 'node-a');
    feed.add(
      L.nodeLabels('node-a', {
        beta_kubernetes_io_instance_type: 'n1-standard-4',
        failure_domain_beta_kubernetes_io_region: 'europe-west1',
        failure_domain_beta_kubernetes_io_zone: 'europe-west1-b',
      }),
      every(...hour(), MIN, 1),
    );
    expect(feed.node('node-a')).toMatchObject({ instance_type: 'n1-standard-4', region: 'europe-west1', zone: 'europe-west1-b' });
  });

  it('a node labelled with both names (a cluster upgraded in place): the current name wins', () => {
    const feed = new Feed();
    bareNode(feed, 'node-a');
    feed.add(
      L.nodeLabels('node-a', {
        beta_kubernetes_io_instance_type: 'old-type',
        node_kubernetes_io_instance_type: 'new-type',
        failure_domain_beta_kubernetes_io_zone: 'old-zone',
        topology_kubernetes_io_zone: 'new-zone',
      }),
      every(...hour(), MIN, 1),
    );
    expect(feed.node('node-a')).toMatchObject({ instance_type: 'new-type', zone: 'new-zone' });
  });

  it("the price series' instance_type and region fill in what kube_node_labels lacks, never override it", () => {
    const feed = new Feed();
    bareNode(feed, 'node-a');
    feed.add(L.cpuPrice('node-a'), every(...hour(), MIN, 0.04)); // instance_type m5.large, region eu-west-1
    feed.add(L.nodeLabels('node-a', { node_kubernetes_io_instance_type: 'm5.xlarge', topology_kubernetes_io_zone: 'eu-west-1a' }), every(...hour(), MIN, 1));
    expect(feed.node('node-a')).toMatchObject({ instance_type: 'm5.xlarge', region: 'eu-west-1', zone: 'eu-west-1a' });
  });

  it('two price series of one node that disagree on instance_type are one price timeline; the newer label wins', () => {
    const feed = new Feed();
    bareNode(feed, 'node-a');
    // The exporter came back at :30 with another instance_type label and another price.
    feed.add({ ...L.cpuPrice('node-a'), instance_type: 'm5.large' }, every(H, H + 30 * MIN, MIN, 0.04));
    feed.add({ ...L.cpuPrice('node-a'), instance_type: 'm5.2xlarge' }, every(H + 30 * MIN, H + 60 * MIN, MIN, 0.08));
    const node = feed.node('node-a');
    expect(node.instance_type).toBe('m5.2xlarge');
    expect(node.cpu_cost).toBeCloseTo(2 * 0.06, 15); // the mean over both series' samples
    expect(node.price_defaulted).toBe(0);
  });

  it('kubecost_node_is_spot 1 marks the node spot; 0 or no series leaves it on demand', () => {
    const feed = new Feed();
    for (const node of ['node-spot', 'node-od', 'node-unknown']) bareNode(feed, node);
    feed.add(L.spot('node-spot'), every(...hour(), MIN, 1));
    feed.add(L.spot('node-od'), every(...hour(), MIN, 0));
    expect(['node-spot', 'node-od', 'node-unknown'].map((n) => feed.node(n).spot)).toEqual([1, 0, 0]);
  });

  it('a node seen only through its labels, prices and spot series has no row: nothing says it cost anything', () => {
    const feed = new Feed();
    feed.add(L.cpuPrice('node-z'), every(...hour(), MIN, 0.04));
    feed.add(L.spot('node-z'), every(...hour(), MIN, 1));
    feed.add(L.nodeLabels('node-z', { node_kubernetes_io_instance_type: 'm5.large' }), every(...hour(), MIN, 1));
    const { nodes, pods } = feed.hourRows();
    expect(nodes).toEqual([]);
    expect(pods).toEqual([]);
  });

  it('node rows are sorted by node and __idle__ rows sorted in among the pod rows', () => {
    const feed = new Feed();
    for (const node of ['node-c', 'node-a', 'node-b']) {
      feed.add(L.capacity(node, 'memory'), every(...hour(), MIN, GIB));
    }
    feed.add(L.cpuAlloc({ ns: 'zeta', pod: 'z-1' }), every(...hour(), MIN, 1));
    feed.add(L.cpuAlloc({ ns: 'alpha', pod: 'a-1' }), every(...hour(), MIN, 1));
    feed.add(L.management(), every(...hour(), MIN, 0.1));
    const { nodes, pods } = feed.hourRows();
    expect(nodes.map((r) => r.node)).toEqual(['node-a', 'node-b', 'node-c']);
    expect(pods.map((r) => `${r.namespace}/${r.pod}`)).toEqual(['__cluster__/EKS', '__idle__/node-a', '__idle__/node-b', '__idle__/node-c', 'alpha/a-1', 'zeta/z-1']);
  });
});
