// What pod rows were charged on each node in an hour, noted while they are priced: a pod that moved
// between nodes is charged each part at its own node, and each part counts against that node.

export class NodeCharge {
  /** $ per resource (index: node-facts.ts Resource). */
  readonly cost = [0, 0, 0];
  /** Quantity per resource: sum of value x interval (value-ms). */
  readonly valueMs = [0, 0, 0];
  /** The pods' coverage on the node: [start, end) pairs. */
  readonly segments: number[] = [];
}

export type NodeCharges = Map<string, NodeCharge>;

export function chargeAt(charges: NodeCharges, node: string): NodeCharge {
  let charge = charges.get(node);
  if (charge === undefined) {
    charge = new NodeCharge();
    charges.set(node, charge);
  }
  return charge;
}
