// Walks a cluster's series for one hour and gathers what they say, per pod, per node and per priced
// thing. Series are visited in canonical order and merged by meaning (series-groups.ts), so every
// float sum is made in the same order whatever order the samples arrived in. Counters are not
// merged: a restarted container's new counter is a new series whose increases add to the old one's.
import type { ClusterState } from './cluster-state.ts';
import { CounterReading, GaugeReading, countSamples, readCounter, readGauge, readLastSeen, readPositiveMean, type Timing } from './hour-reading.ts';
import { Kind, SEP } from './metrics.ts';
import { NodeFacts, Resource } from './node-facts.ts';
import { SampleBuffer } from './sample-streams.ts';
import { canonicalOrder, decodeGroup, groupEnd } from './series-groups.ts';
import type { SeriesTable } from './series-table.ts';
import type { OwnerSeen } from './workloads.ts';
import type { LabelSetSeen } from './pod-labels.ts';
import type { LoadBalancerSeen } from './load-balancers.ts';
import { HOUR_MS } from '../../core/hours.ts';

/** Quantity of a resource on one node (or PV): sum of value x interval, in value-milliseconds. */
export interface Placed {
  where: string;
  valueMs: number;
}

export class PodFacts {
  hasAllocation = false;
  /** Allocation coverage [start, end) pairs, all nodes. */
  readonly segments: number[] = [];
  readonly nodeSegments = new Map<string, number[]>();
  readonly cpu: Placed[] = [];
  readonly ram: Placed[] = [];
  readonly gpu: Placed[] = [];
  readonly pv: Placed[] = [];
  cpuRequest: number | null = null;
  ramRequest: number | null = null;
  ramUsage: number | null = null;
  /** Cores used (sum over containers of increase / paired time). */
  cpuUsage: number | null = null;
  /** Egress bytes per class (index: Egress value). */
  readonly egress = [0, 0, 0, 0];
  readonly owners: OwnerSeen[] = [];
  readonly labelSets: LabelSetSeen[] = [];

  constructor(
    readonly namespace: string,
    readonly pod: string,
  ) {}
}

export interface ManagementSeen {
  provisioner: string;
  cost: number;
  coveredMs: number;
}

export class HourFacts {
  readonly pods = new Map<string, PodFacts>();
  readonly nodeCpuPrice = new Map<string, number>();
  readonly nodeRamPrice = new Map<string, number>();
  readonly nodeGpuPrice = new Map<string, number>();
  readonly pvPrice = new Map<string, number>();
  readonly egressPrice = { zone: NaN, region: NaN, internet: NaN };
  readonly loadBalancers: LoadBalancerSeen[] = [];
  readonly management: ManagementSeen[] = [];
  readonly replicaSetOwners = new Map<string, OwnerSeen[]>();
  readonly selectors = new Map<string, LabelSetSeen[]>();
  readonly nodes = new Map<string, NodeFacts>();

  node(name: string): NodeFacts {
    let n = this.nodes.get(name);
    if (n === undefined) {
      n = new NodeFacts(name);
      this.nodes.set(name, n);
    }
    return n;
  }

  pod(key: string): PodFacts {
    let p = this.pods.get(key);
    if (p === undefined) {
      const i = key.indexOf(SEP);
      p = new PodFacts(key.slice(0, i), key.slice(i + 1));
      this.pods.set(key, p);
    }
    return p;
  }
}

const buf = new SampleBuffer();
const gauge = new GaugeReading();
const counter = new CounterReading();

export function collectHour(state: ClusterState, hour: number, timing: Timing): HourFacts {
  const facts = new HourFacts();
  const table = state.table;
  const s = table.strings;
  const order = canonicalOrder(table);
  const end = hour + HOUR_MS;
  for (let from = 0; from < order.length; ) {
    const r0 = order[from];
    const to = groupEnd(table, order, from);
    const kind = table.kind[r0];
    const e = s[table.e[r0]];
    const a = s[table.a[r0]];
    const b = s[table.b[r0]];
    switch (kind) {
      case Kind.CpuAlloc:
      case Kind.RamAlloc:
      case Kind.GpuAlloc: {
        readGauge(decodeGroup(table, order, from, to), hour, end, timing, true, gauge);
        if (gauge.samples === 0) break;
        const pod = facts.pod(e);
        pod.hasAllocation = true;
        const list = kind === Kind.CpuAlloc ? pod.cpu : kind === Kind.RamAlloc ? pod.ram : pod.gpu;
        list.push({ where: b, valueMs: gauge.sumVD });
        pod.segments.push(...gauge.segments);
        const nodeSegs = pod.nodeSegments.get(b);
        if (nodeSegs === undefined) pod.nodeSegments.set(b, gauge.segments.slice());
        else nodeSegs.push(...gauge.segments);
        break;
      }
      case Kind.PvcAlloc: {
        readGauge(decodeGroup(table, order, from, to), hour, end, timing, false, gauge);
        if (gauge.samples > 0) facts.pod(e).pv.push({ where: b, valueMs: gauge.sumVD });
        break;
      }
      case Kind.WorkingSet: {
        // The mean of the container's samples in the hour (OpenCost's avg_over_time).
        let sum = 0;
        let count = 0;
        for (let k = from; k < to; k++) {
          table.streams.decode(order[k], buf);
          count += countSamples(buf, hour, end);
          sum += state.sums.get(order[k], hour);
        }
        if (count > 0) {
          const pod = facts.pod(e);
          pod.ramUsage = (pod.ramUsage ?? 0) + sum / count;
        }
        break;
      }
      case Kind.CpuRequest:
      case Kind.RamRequest: {
        readGauge(decodeGroup(table, order, from, to), hour, end, timing, false, gauge);
        if (gauge.samples === 0 || gauge.sumD === 0) break;
        const pod = facts.pod(e);
        const avg = gauge.sumVD / gauge.sumD;
        if (kind === Kind.CpuRequest) pod.cpuRequest = (pod.cpuRequest ?? 0) + avg;
        else pod.ramRequest = (pod.ramRequest ?? 0) + avg;
        break;
      }
      case Kind.CpuUsage:
      case Kind.EgressBytes: {
        let increase = 0;
        let pairedMs = 0;
        let pairs = 0;
        for (let k = from; k < to; k++) {
          table.streams.decode(order[k], buf);
          readCounter(buf, hour, end, counter);
          increase += counter.increase;
          pairedMs += counter.pairedMs;
          pairs += counter.pairs;
        }
        if (pairs === 0) break;
        const pod = facts.pod(e);
        // CPU counters are held in milliseconds of CPU time: cores = CPU ms / wall ms.
        if (kind === Kind.CpuUsage) pod.cpuUsage = (pod.cpuUsage ?? 0) + increase / pairedMs;
        else pod.egress[Number(a)] += increase;
        break;
      }
      case Kind.NodeCpuCapacity:
      case Kind.NodeRamCapacity:
      case Kind.NodeGpuCapacity: {
        readGauge(decodeGroup(table, order, from, to), hour, end, timing, true, gauge);
        if (gauge.samples === 0) break;
        const resource = kind === Kind.NodeCpuCapacity ? Resource.Cpu : kind === Kind.NodeRamCapacity ? Resource.Ram : Resource.Gpu;
        facts.node(e).addCapacity(resource, gauge.sumVD, gauge.sumD, gauge.segments);
        break;
      }
      case Kind.NodeSpot: {
        // A node does not change market while it lives: any sample saying "spot" in the hour does.
        if (!Number.isNaN(readPositiveMean(decodeGroup(table, order, from, to), hour, end))) facts.node(e).spot = true;
        break;
      }
      case Kind.NodeCpuPrice:
      case Kind.NodeRamPrice:
      case Kind.NodeGpuPrice:
      case Kind.PvPrice:
      case Kind.ZoneEgressPrice:
      case Kind.RegionEgressPrice:
      case Kind.InternetEgressPrice: {
        if (kind === Kind.NodeCpuPrice || kind === Kind.NodeRamPrice || kind === Kind.NodeGpuPrice) collectNodePriceLabels(facts, table, order, from, to, hour, end);
        const mean = readPositiveMean(decodeGroup(table, order, from, to), hour, end);
        if (Number.isNaN(mean)) break;
        if (kind === Kind.NodeCpuPrice) facts.nodeCpuPrice.set(e, mean);
        else if (kind === Kind.NodeRamPrice) facts.nodeRamPrice.set(e, mean);
        else if (kind === Kind.NodeGpuPrice) facts.nodeGpuPrice.set(e, mean);
        else if (kind === Kind.PvPrice) facts.pvPrice.set(e, mean);
        else if (kind === Kind.ZoneEgressPrice) facts.egressPrice.zone = mean;
        else if (kind === Kind.RegionEgressPrice) facts.egressPrice.region = mean;
        else facts.egressPrice.internet = mean;
        break;
      }
      case Kind.LoadBalancer:
      case Kind.ClusterManagement: {
        readGauge(decodeGroup(table, order, from, to), hour, end, timing, kind === Kind.ClusterManagement, gauge);
        if (gauge.samples === 0) break;
        const cost = gauge.sumVD / HOUR_MS; // $/h x ms -> $
        if (kind === Kind.ClusterManagement) {
          let covered = 0;
          for (let i = 0; i < gauge.segments.length; i += 2) covered += gauge.segments[i + 1] - gauge.segments[i];
          facts.management.push({ provisioner: e, cost, coveredMs: covered });
        } else {
          const i = e.indexOf(SEP);
          facts.loadBalancers.push({ namespace: e.slice(0, i), service: e.slice(i + 1), cost });
        }
        break;
      }
      default:
        collectPresence(facts, table, order, from, to, kind, e, a, b, hour, end);
    }
    from = to;
  }
  return facts;
}

function collectPresence(facts: HourFacts, table: SeriesTable, order: number[], from: number, to: number, kind: number, e: string, a: string, b: string, hour: number, end: number): void {
  let lastSeen = -1;
  for (let k = from; k < to; k++) {
    table.streams.decode(order[k], buf);
    lastSeen = Math.max(lastSeen, readLastSeen(buf, hour, end));
  }
  if (lastSeen < 0) return;
  if (kind === Kind.PodOwner) facts.pod(e).owners.push({ kind: a, name: b, lastSeen });
  else if (kind === Kind.PodLabels) facts.pod(e).labelSets.push({ set: a, lastSeen });
  else if (kind === Kind.NodeLabels) facts.node(e).labelSets.push({ set: a, lastSeen });
  else if (kind === Kind.ReplicaSetOwner) {
    const list = facts.replicaSetOwners.get(e);
    if (list === undefined) facts.replicaSetOwners.set(e, [{ kind: a, name: b, lastSeen }]);
    else list.push({ kind: a, name: b, lastSeen });
  } else if (kind === Kind.ServiceSelector) {
    const list = facts.selectors.get(e);
    if (list === undefined) facts.selectors.set(e, [{ set: a, lastSeen }]);
    else list.push({ set: a, lastSeen });
  }
}

/** The instance_type and region labels of a node's price series present in the hour. */
function collectNodePriceLabels(facts: HourFacts, table: SeriesTable, order: number[], from: number, to: number, hour: number, end: number): void {
  for (let k = from; k < to; k++) {
    const set = table.strings[table.a[order[k]]];
    if (set === '') continue;
    table.streams.decode(order[k], buf);
    const lastSeen = readLastSeen(buf, hour, end);
    if (lastSeen >= 0) facts.node(table.strings[table.e[order[k]]]).priceLabelSets.push({ set, lastSeen });
  }
}
