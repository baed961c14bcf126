// Deterministic, kubecost-shaped Prometheus remote-write traffic for benchmarks and tests.
//
// A Kubecost/OpenCost install is scraped by Prometheus and remote-written with ~9-10 labels per
// series: per-container allocation metrics (namespace, pod with replica-set and pod hashes,
// container, node like ip-10-0-1-23.ec2.internal, instance, job, cluster_id), per-node cost metrics
// (instance_type, region, provider_id, arch), pod label/owner metrics and persistent volume costs.
// Everything here is derived from a seed, so two runs (or the decode and receiver benchmarks)
// produce byte-identical requests.

import snappyjs from 'snappyjs';

/** A series' labels as [name, value] pairs, sorted by name (as Prometheus sends them). */
export type PromLabels = ReadonlyArray<readonly [string, string]>;

export interface PromSample {
  /** Ignored when `stale` is set. */
  readonly value: number;
  /** Milliseconds since the epoch (a safe integer; may be negative). */
  readonly timestamp: number;
  /**
   * A Prometheus stale marker: the encoder writes the raw bits 0x7ff0000000000002. (A JS number
   * cannot carry that NaN payload reliably: V8 may canonicalise it.)
   */
  readonly stale?: boolean;
}

export interface SeriesSamples {
  readonly labels: PromLabels;
  readonly samples: readonly PromSample[];
}

/** The 8 little-endian wire bytes of a Prometheus stale marker (0x7ff0000000000002). */
export const STALE_NAN_BYTES: Readonly<Uint8Array> = Uint8Array.of(0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f);

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

const HEX = '0123456789abcdef';
const POD_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // Kubernetes' SafeEncodeString alphabet

function randString(rand: () => number, alphabet: string, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    s += alphabet[Math.floor(rand() * alphabet.length)];
  }
  return s;
}

function uuid(rand: () => number): string {
  const h = (n: number) => randString(rand, HEX, n);
  return `${h(8)}-${h(4)}-4${h(3)}-${pick(rand, ['8', '9', 'a', 'b'])}${h(3)}-${h(12)}`;
}

// ---------------------------------------------------------------------------------------------
// Cluster model
// ---------------------------------------------------------------------------------------------

const NAMESPACES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['kube-system', ['coredns', 'aws-node', 'kube-proxy', 'ebs-csi-node', 'metrics-server']],
  ['kubecost', ['kubecost-cost-analyzer', 'kubecost-prometheus-server', 'kubecost-grafana']],
  ['monitoring', ['prometheus-node-exporter', 'kube-state-metrics', 'alertmanager']],
  ['ingress-nginx', ['ingress-nginx-controller']],
  ['cert-manager', ['cert-manager', 'cert-manager-webhook', 'cert-manager-cainjector']],
  ['argocd', ['argocd-server', 'argocd-repo-server', 'argocd-application-controller']],
  ['payments', ['payments-api', 'payments-worker', 'ledger-sync']],
  ['checkout', ['checkout-web', 'cart-service', 'pricing-engine']],
  ['search', ['search-api', 'indexer', 'query-cache']],
  ['data-pipeline', ['kafka-connect', 'spark-driver', 'airflow-scheduler', 'airflow-worker']],
  ['ml-training', ['trainer', 'feature-store', 'model-server']],
  ['frontend', ['web', 'bff', 'image-resizer']],
  ['default', ['nginx', 'busybox-debug']],
];

const INSTANCE_TYPES: ReadonlyArray<readonly [string, number, number]> = [
  // [type, vCPU, GiB]
  ['m5.xlarge', 4, 16],
  ['m5.2xlarge', 8, 32],
  ['c5.2xlarge', 8, 16],
  ['r5.xlarge', 4, 32],
  ['m6i.4xlarge', 16, 64],
  ['t3.large', 2, 8],
];

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];

interface Node {
  readonly name: string;
  readonly ip: string;
  readonly instanceType: string;
  readonly cpus: number;
  readonly memGiB: number;
  readonly providerId: string;
  readonly arch: string;
  readonly zone: string;
}

interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly app: string;
  readonly templateHash: string;
  readonly uid: string;
  readonly containers: readonly string[];
  readonly node: Node;
}

function makeNode(rand: () => number, region: string, vpcOctet: number): Node {
  const [instanceType, cpus, memGiB] = pick(rand, INSTANCE_TYPES);
  const ip = `10.${vpcOctet}.${randInt(rand, 0, 63)}.${randInt(rand, 2, 254)}`;
  const zone = `${region}${pick(rand, ['a', 'b', 'c'])}`;
  const name = region === 'us-east-1'
    ? `ip-${ip.replaceAll('.', '-')}.ec2.internal`
    : `ip-${ip.replaceAll('.', '-')}.${region}.compute.internal`;
  return {
    name,
    ip,
    instanceType,
    cpus,
    memGiB,
    providerId: `aws:///${zone}/i-0${randString(rand, HEX, 16)}`,
    arch: instanceType.startsWith('m6g') ? 'arm64' : 'amd64',
    zone,
  };
}

function makePod(rand: () => number, nodes: readonly Node[]): Pod {
  const [namespace, apps] = pick(rand, NAMESPACES);
  const app = pick(rand, apps);
  const templateHash = randString(rand, POD_ALPHABET, 10);
  const name = `${app}-${templateHash}-${randString(rand, POD_ALPHABET, 5)}`;
  const containers = [app];
  if (rand() < 0.35) containers.push(pick(rand, ['istio-proxy', 'config-reloader', 'log-shipper']));
  if (rand() < 0.1) containers.push('metrics-exporter');
  return { namespace, name, app, templateHash, uid: uuid(rand), containers, node: pick(rand, nodes) };
}

function sortLabels(labels: Record<string, string>): PromLabels {
  return Object.keys(labels)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => [k, labels[k]] as const);
}

/** What a series measures, used to produce plausible values. */
type ValueKind = 'cost' | 'cores' | 'bytes' | 'counter' | 'one' | 'replicas';

export interface KubecostSeries {
  readonly labels: PromLabels;
  readonly kind: ValueKind;
  /** A stable per-series base value; scrape-to-scrape values wander around it. */
  readonly base: number;
}

export interface KubecostSeriesOptions {
  /** Number of series to produce (every series has 9 or 10 labels including __name__). */
  readonly series: number;
  readonly seed?: number;
  /** The cluster_id label value; derived from the seed when omitted. */
  readonly clusterId?: string;
  readonly job?: string;
}

/**
 * Builds `series` kubecost-shaped series of one cluster, deterministically from the seed.
 * Label names are sorted and unique; every series has a __name__.
 */
export function kubecostSeries(opts: KubecostSeriesOptions): KubecostSeries[] {
  const seed = opts.seed ?? 1;
  const rand = seededRandom(seed);
  const region = pick(rand, REGIONS);
  const clusterId = opts.clusterId ?? `${pick(rand, ['prod', 'staging', 'dev', 'shared'])}-${region}-${randString(rand, POD_ALPHABET, 4)}`;
  const job = opts.job ?? 'kubecost';
  const vpcOctet = randInt(rand, 0, 255);
  const nodeCount = Math.max(3, Math.ceil(opts.series / 150));
  const nodes: Node[] = [];
  for (let i = 0; i < nodeCount; i++) nodes.push(makeNode(rand, region, vpcOctet));
  const exporter = `${pick(rand, nodes).ip}:9003`;

  const out: KubecostSeries[] = [];
  const push = (name: string, labels: Record<string, string>, kind: ValueKind, base: number) => {
    if (out.length < opts.series) {
      out.push({ labels: sortLabels({ __name__: name, cluster_id: clusterId, job, ...labels }), kind, base });
    }
  };

  // Node-level cost and capacity series.
  for (const node of nodes) {
    const nodeLabels = {
      arch: node.arch,
      instance: exporter,
      instance_type: node.instanceType,
      node: node.name,
      provider_id: node.providerId,
      region,
    };
    push('node_cpu_hourly_cost', nodeLabels, 'cost', 0.02 + rand() * 0.03);
    push('node_ram_hourly_cost', nodeLabels, 'cost', 0.002 + rand() * 0.004);
    push('node_gpu_hourly_cost', nodeLabels, 'cost', 0);
    push('node_total_hourly_cost', nodeLabels, 'cost', 0.1 + rand() * 0.6);
    const capLabels = { instance: exporter, node: node.name, provider_id: node.providerId, resource: 'cpu', unit: 'core', zone: node.zone };
    push('kube_node_status_capacity', capLabels, 'cores', node.cpus);
    push('kube_node_status_allocatable', { ...capLabels, resource: 'memory', unit: 'byte' }, 'bytes', node.memGiB * 2 ** 30 * 0.92);
  }

  // Pod and container series until the requested count is reached.
  let volumes = 0;
  while (out.length < opts.series) {
    const pod = makePod(rand, nodes);
    const podLabels = { instance: exporter, namespace: pod.namespace, node: pod.node.name, pod: pod.name };
    push('kube_pod_labels', {
      instance: exporter,
      label_app: pod.app,
      label_pod_template_hash: pod.templateHash,
      namespace: pod.namespace,
      pod: pod.name,
      uid: pod.uid,
    }, 'one', 1);
    push('kube_pod_owner', {
      instance: exporter,
      namespace: pod.namespace,
      owner_kind: 'ReplicaSet',
      owner_name: `${pod.app}-${pod.templateHash}`,
      pod: pod.name,
      uid: pod.uid,
    }, 'one', 1);
    for (const container of pod.containers) {
      const c = { ...podLabels, container };
      const cores = Math.round((0.05 + rand() * 2) * 1000) / 1000;
      const mem = Math.round((64 + rand() * 4000) * 2 ** 20);
      push('container_cpu_allocation', { ...c, uid: pod.uid }, 'cores', cores);
      push('container_memory_allocation_bytes', { ...c, uid: pod.uid }, 'bytes', mem);
      push('kube_pod_container_resource_requests', { ...c, resource: 'cpu', unit: 'core' }, 'cores', cores);
      push('kube_pod_container_resource_requests', { ...c, resource: 'memory', unit: 'byte' }, 'bytes', mem);
      push('container_cpu_usage_seconds_total', { ...c, image: `registry.example.com/${pod.app}:v${randInt(rand, 1, 9)}.${randInt(rand, 0, 30)}.${randInt(rand, 0, 9)}` }, 'counter', rand() * 1e5);
      push('container_memory_working_set_bytes', { ...c, id: `/kubepods/burstable/pod${pod.uid}` }, 'bytes', mem * (0.3 + rand() * 0.6));
      push('kube_pod_container_status_running', { ...c, uid: pod.uid }, 'one', 1);
    }
    if (rand() < 0.15) {
      const pv = `pvc-${uuid(rand)}`;
      push('pv_hourly_cost', {
        instance: exporter,
        persistentvolume: pv,
        provider_id: `aws://${pod.node.zone}/vol-0${randString(rand, HEX, 16)}`,
        storageclass: pick(rand, ['gp3', 'gp2', 'io2']),
        volumename: pv,
        zone: pod.node.zone,
      }, 'cost', 0.0001 + rand() * 0.002);
      volumes++;
    }
    if (volumes > 0 && rand() < 0.2) {
      const container = pod.containers[0];
      push('kube_pod_container_status_restarts_total', { ...podLabels, container, uid: pod.uid }, 'replicas', randInt(rand, 0, 3));
    }
  }
  return out;
}

/** A plausible value for `series` at scrape number `scrape` (deterministic given `rand`). */
export function kubecostValue(series: KubecostSeries, scrape: number, rand: () => number): number {
  switch (series.kind) {
    case 'cost':
      return series.base;
    case 'cores':
      return series.base;
    case 'bytes':
      return Math.round(series.base * (0.97 + rand() * 0.06));
    case 'counter':
      return Math.round((series.base + scrape * 60 * (0.1 + rand())) * 1000) / 1000;
    case 'one':
      return 1;
    case 'replicas':
      return series.base;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding (hand-written protobuf for prometheus.WriteRequest, and snappy via snappyjs)
// ---------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** int64 varint bytes of a safe integer (negative values take 10 bytes, two's complement). */
function int64VarintBytes(t: number): Uint8Array | number {
  if (t >= 0) return t;
  let u = BigInt.asUintN(64, BigInt(t));
  const bytes: number[] = [];
  while (u >= 0x80n) {
    bytes.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  bytes.push(Number(u));
  return Uint8Array.from(bytes);
}

/** Encoded `Label` messages of one series (field 1 of TimeSeries, with tags), cached per array. */
const labelBlockCache = new WeakMap<PromLabels, Uint8Array>();

function labelBlock(labels: PromLabels): Uint8Array {
  let block = labelBlockCache.get(labels);
  if (block) return block;
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const [name, value] of labels) {
    const n = utf8.encode(name);
    const v = utf8.encode(value);
    const inner = (n.length ? 1 + varintSize(n.length) + n.length : 0) + (v.length ? 1 + varintSize(v.length) + v.length : 0);
    const part = new Uint8Array(1 + varintSize(inner) + inner);
    let p = 0;
    part[p++] = 0x0a;
    p = writeVarint(part, p, inner);
    if (n.length) {
      part[p++] = 0x0a;
      p = writeVarint(part, p, n.length);
      part.set(n, p);
      p += n.length;
    }
    if (v.length) {
      part[p++] = 0x12;
      p = writeVarint(part, p, v.length);
      part.set(v, p);
      p += v.length;
    }
    parts.push(part);
    size += part.length;
  }
  block = new Uint8Array(size);
  let off = 0;
  for (const part of parts) {
    block.set(part, off);
    off += part.length;
  }
  labelBlockCache.set(labels, block);
  return block;
}

function sampleSize(s: PromSample): number {
  const ts = int64VarintBytes(s.timestamp);
  // value: tag + 8 bytes, always written (so NaN payloads and -0 survive); timestamp when non-zero.
  return 9 + (s.timestamp === 0 ? 0 : 1 + (typeof ts === 'number' ? varintSize(ts) : ts.length));
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Writes a Sample message with its tag (field 2, LEN; the same in 1.0 and 2.0). */
function writeSample(buf: Uint8Array, p: number, sample: PromSample): number {
  buf[p++] = 0x12;
  p = writeVarint(buf, p, sampleSize(sample));
  buf[p++] = 0x09;
  if (sample.stale) {
    buf.set(STALE_NAN_BYTES, p);
  } else {
    f64[0] = sample.value;
    buf.set(f64Bytes, p);
  }
  p += 8;
  if (sample.timestamp !== 0) {
    buf[p++] = 0x10;
    const ts = int64VarintBytes(sample.timestamp);
    if (typeof ts === 'number') {
      p = writeVarint(buf, p, ts);
    } else {
      buf.set(ts, p);
      p += ts.length;
    }
  }
  return p;
}

/**
 * Encodes a prometheus.WriteRequest (remote write 1.0) by hand. Proto3 defaults are omitted like
 * any encoder would, except the sample value, which is always written as 8 raw bytes.
 */
export function encodeWriteRequestV1(series: readonly SeriesSamples[]): Uint8Array {
  let total = 0;
  const seriesSizes = new Array<number>(series.length);
  for (let i = 0; i < series.length; i++) {
    const s = series[i];
    let size = labelBlock(s.labels).length;
    for (const sample of s.samples) {
      const ss = sampleSize(sample);
      size += 1 + varintSize(ss) + ss;
    }
    seriesSizes[i] = size;
    total += 1 + varintSize(size) + size;
  }
  const buf = new Uint8Array(total);
  let p = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i];
    buf[p++] = 0x0a;
    p = writeVarint(buf, p, seriesSizes[i]);
    const block = labelBlock(s.labels);
    buf.set(block, p);
    p += block.length;
    for (const sample of s.samples) p = writeSample(buf, p, sample);
  }
  if (p !== total) throw new Error(`encodeWriteRequestV1: size mismatch ${p} != ${total}`);
  return buf;
}

/**
 * Encodes an io.prometheus.write.v2.Request (remote write 2.0) by hand: a symbol table starting
 * with "" and, per series, packed labels_refs and its samples.
 */
export function encodeRequestV2(series: readonly SeriesSamples[]): Uint8Array {
  const symbolIndex = new Map<string, number>([['', 0]]);
  const symbols: Uint8Array[] = [new Uint8Array(0)];
  const ref = (s: string): number => {
    let i = symbolIndex.get(s);
    if (i === undefined) {
      i = symbols.length;
      symbolIndex.set(s, i);
      symbols.push(utf8.encode(s));
    }
    return i;
  };
  const seriesRefs = series.map((s) => s.labels.flatMap(([n, v]) => [ref(n), ref(v)]));
  let total = 0;
  for (const sym of symbols) total += 1 + varintSize(sym.length) + sym.length;
  const seriesSizes = series.map((s, i) => {
    const refsLen = seriesRefs[i].reduce((n, r) => n + varintSize(r), 0);
    let size = refsLen > 0 ? 1 + varintSize(refsLen) + refsLen : 0;
    for (const sample of s.samples) {
      const ss = sampleSize(sample);
      size += 1 + varintSize(ss) + ss;
    }
    total += 1 + varintSize(size) + size;
    return size;
  });
  const buf = new Uint8Array(total);
  let p = 0;
  for (const sym of symbols) {
    buf[p++] = 0x22; // field 4, LEN
    p = writeVarint(buf, p, sym.length);
    buf.set(sym, p);
    p += sym.length;
  }
  for (let i = 0; i < series.length; i++) {
    buf[p++] = 0x2a; // field 5, LEN
    p = writeVarint(buf, p, seriesSizes[i]);
    const refs = seriesRefs[i];
    const refsLen = refs.reduce((n, r) => n + varintSize(r), 0);
    if (refsLen > 0) {
      buf[p++] = 0x0a;
      p = writeVarint(buf, p, refsLen);
      for (const r of refs) p = writeVarint(buf, p, r);
    }
    for (const sample of series[i].samples) p = writeSample(buf, p, sample);
  }
  if (p !== total) throw new Error(`encodeRequestV2: size mismatch ${p} != ${total}`);
  return buf;
}

/** Snappy block compression (snappyjs), as Prometheus applies it to every request body. */
export function snappyCompress(raw: Uint8Array): Uint8Array {
  return snappyjs.compress(raw);
}

// ---------------------------------------------------------------------------------------------
// Request streams
// ---------------------------------------------------------------------------------------------

export interface KubecostTrafficOptions {
  readonly seed?: number;
  /** Number of tenants; each has clustersPerTenant clusters with their own cluster_id and series. */
  readonly tenants?: number;
  /**
   * Clusters per tenant (default 1). With more than one, a tenant's series are those of all its
   * clusters interleaved, so every request carries series of each of them, as a sender that ships
   * several clusters' series (one Prometheus sharding by series hash) does: the receiver turns such
   * a request into one record per cluster.
   */
  readonly clustersPerTenant?: number;
  /** Series per tenant, all clusters together (default 2,000). */
  readonly seriesPerTenant?: number;
  /** Samples per request (Prometheus' default max_samples_per_send is 2,000). */
  readonly samplesPerRequest?: number;
  /** Timestamp of the first scrape (default 2024-01-01T00:00:00Z). */
  readonly startMs?: number;
  /** Interval between consecutive scrapes (default 60 s, kubecost's usual). */
  readonly scrapeIntervalMs?: number;
  /** Number of consecutive scrapes to emit (default 1). */
  readonly scrapes?: number;
  /** Fraction of samples replaced by stale markers (default 0). */
  readonly staleFraction?: number;
  /** Tenant names; default tenant-1, tenant-2, ... */
  readonly tenantNames?: readonly string[];
  /** Remote-write protocol of the bodies: 1 (prometheus.WriteRequest, default) or 2. */
  readonly protocol?: 1 | 2;
}

export const CONTENT_TYPE_V1 = 'application/x-protobuf';
export const CONTENT_TYPE_V2 = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

export interface KubecostTenant {
  readonly tenant: string;
  /** Its first cluster's cluster_id. */
  readonly clusterId: string;
  readonly clusterIds: readonly string[];
  readonly series: readonly KubecostSeries[];
}

export interface KubecostRequest {
  readonly tenant: string;
  readonly clusterId: string;
  /** Scrape number (0-based) and its timestamp. */
  readonly scrape: number;
  readonly timestampMs: number;
  /** Number of series and samples in the request (one sample per series per scrape). */
  readonly seriesCount: number;
  readonly sampleCount: number;
  /** The protobuf body before compression and the snappy-compressed body that goes on the wire. */
  readonly raw: Uint8Array;
  readonly body: Uint8Array;
  /** Remote-write protocol of the body and the Content-Type that announces it. */
  readonly protocol: 1 | 2;
  readonly contentType: string;
}

/** The tenants of a traffic configuration, each with its clusters' deterministic series. */
export function kubecostTenants(opts: KubecostTrafficOptions = {}): KubecostTenant[] {
  const seed = opts.seed ?? 1;
  const tenants = opts.tenants ?? 1;
  const clusters = Math.max(1, opts.clustersPerTenant ?? 1);
  const total = opts.seriesPerTenant ?? 2000;
  const out: KubecostTenant[] = [];
  for (let t = 0; t < tenants; t++) {
    const tenantSeed = (Math.imul(seed, 0x9e3779b1) + t * 7919 + 1) >>> 0;
    // Cluster 0 has the tenant's seed: with one cluster per tenant the traffic is what it always was.
    const perCluster = Array.from({ length: clusters }, (_, c) =>
      kubecostSeries({ series: Math.floor(total / clusters) + (c < total % clusters ? 1 : 0), seed: c === 0 ? tenantSeed : (tenantSeed + c * 104_729) >>> 0 }),
    );
    const series: KubecostSeries[] = [];
    for (let i = 0; series.length < total; i++) for (const list of perCluster) if (i < list.length) series.push(list[i]);
    const clusterIds = perCluster.filter((list) => list.length > 0).map((list) => list[0].labels.find(([n]) => n === 'cluster_id')![1]);
    out.push({ tenant: opts.tenantNames?.[t] ?? `tenant-${t + 1}`, clusterId: clusterIds[0], clusterIds, series });
  }
  return out;
}

/**
 * Yields the remote-write requests Prometheus would send for the configured tenants: for each
 * scrape (in time order), for each tenant, the tenant's series split into requests of
 * samplesPerRequest samples (one sample per series per scrape).
 */
export function* kubecostRequests(opts: KubecostTrafficOptions = {}): Generator<KubecostRequest> {
  const tenants = kubecostTenants(opts);
  const per = opts.samplesPerRequest ?? 2000;
  const start = opts.startMs ?? Date.UTC(2024, 0, 1);
  const step = opts.scrapeIntervalMs ?? 60_000;
  const scrapes = opts.scrapes ?? 1;
  const staleFraction = opts.staleFraction ?? 0;
  for (let scrape = 0; scrape < scrapes; scrape++) {
    const timestampMs = start + scrape * step;
    for (let t = 0; t < tenants.length; t++) {
      const tenant = tenants[t];
      const rand = seededRandom(((opts.seed ?? 1) * 31 + scrape * 1_000_003 + t * 7919) >>> 0);
      for (let from = 0; from < tenant.series.length; from += per) {
        const chunk = tenant.series.slice(from, from + per);
        const entries: SeriesSamples[] = chunk.map((s) => {
          const stale = staleFraction > 0 && rand() < staleFraction;
          const value = kubecostValue(s, scrape, rand);
          return { labels: s.labels, samples: [{ value, timestamp: timestampMs, stale }] };
        });
        const protocol = opts.protocol ?? 1;
        const raw = protocol === 2 ? encodeRequestV2(entries) : encodeWriteRequestV1(entries);
        yield {
          protocol,
          contentType: protocol === 2 ? CONTENT_TYPE_V2 : CONTENT_TYPE_V1,
          tenant: tenant.tenant,
          clusterId: tenant.clusterId,
          scrape,
          timestampMs,
          seriesCount: entries.length,
          sampleCount: entries.length,
          raw,
          body: snappyCompress(raw),
        };
      }
    }
  }
}

/** One kubecost-shaped request of `series` series (one sample each), raw and snappy-compressed. */
export function kubecostRequest(series = 2000, seed = 1, timestampMs = Date.UTC(2024, 0, 1), protocol: 1 | 2 = 1): KubecostRequest {
  const it = kubecostRequests({ seed, seriesPerTenant: series, samplesPerRequest: series, startMs: timestampMs, protocol });
  const first = it.next();
  if (first.done) throw new Error('kubecostRequest: no request produced');
  return first.value;
}
