// What a cluster's node series say about one hour: capacity (kube-state-metrics' capacity series of
// both generations, OpenCost's node_gpu_count), where the node is (kube_node_labels, the labels of
// its price series) and whether it is a spot instance.
import type { LabelSetSeen } from './pod-labels.ts';
import { uniteLabelSets } from './pod-labels.ts';

/** Resources a node is priced by; the index of the per-resource arrays below. */
export const Resource = { Cpu: 0, Ram: 1, Gpu: 2 } as const;
export type Resource = (typeof Resource)[keyof typeof Resource];

export class NodeFacts {
  /** Capacity quantity per resource: sum of value x interval (value-ms); NaN without a capacity sample. */
  readonly capacityMs = [NaN, NaN, NaN];
  /** Time covered by each resource's capacity samples (ms): its mean is capacityMs / coveredMs. */
  readonly coveredMs = [0, 0, 0];
  /** Coverage of the capacity samples, all resources: [start, end) pairs. */
  readonly segments: number[] = [];
  /** kube_node_labels series present in the hour (instance_type, region, zone only). */
  readonly labelSets: LabelSetSeen[] = [];
  /** Price series present in the hour: their instance_type and region labels. */
  readonly priceLabelSets: LabelSetSeen[] = [];
  spot = false;

  constructor(readonly name: string) {}

  addCapacity(resource: Resource, valueMs: number, coveredMs: number, segments: readonly number[]): void {
    const held = this.capacityMs[resource];
    this.capacityMs[resource] = Number.isNaN(held) ? valueMs : held + valueMs;
    this.coveredMs[resource] += coveredMs;
    for (const x of segments) this.segments.push(x);
  }

  hasCapacity(): boolean {
    return !(Number.isNaN(this.capacityMs[0]) && Number.isNaN(this.capacityMs[1]) && Number.isNaN(this.capacityMs[2]));
  }
}

export interface NodePlace {
  instance_type: string;
  region: string;
  zone: string;
}

const NOWHERE: NodePlace = Object.freeze({ instance_type: '', region: '', zone: '' });

/**
 * Instance type, region and zone: kube_node_labels says what Kubernetes knows; the price series'
 * labels fill in what it does not (clusters that do not send kube_node_labels at all).
 */
export function nodePlace(node: NodeFacts | undefined): NodePlace {
  if (node === undefined) return NOWHERE;
  const fromLabels = uniteLabelSets(node.labelSets);
  const fromPrices = uniteLabelSets(node.priceLabelSets);
  return {
    instance_type: fromLabels.instance_type ?? fromPrices.instance_type ?? '',
    region: fromLabels.region ?? fromPrices.region ?? '',
    zone: fromLabels.zone ?? fromPrices.zone ?? '',
  };
}
