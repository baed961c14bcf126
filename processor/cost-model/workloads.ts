// Pod to workload, as OpenCost names them (kinds lower-case), from the owner series present in
// the hour. kube-state-metrics and the cost exporter both send kube_pod_owner: owners are a set,
// so the same owner sent twice is one owner.

/** One owner series seen in the hour. */
export interface OwnerSeen {
  kind: string;
  name: string;
  /** Its last sample in the hour: the newest owner wins if two disagree. */
  lastSeen: number;
}

export interface Workload {
  kind: string;
  name: string;
  inferred: boolean;
}

const NONE = '<none>';
const BARE: Workload = Object.freeze({ kind: '', name: '', inferred: false });

/** Jobs created by a CronJob: `<cronjob>-<8 or 10 digit schedule time>` (OpenCost's isCron). */
const CRON_JOB = /^(.+)-(\d{10}|\d{8})$/;

/** The suffix Kubernetes appends to a ReplicaSet name: the pod-template hash, in its safe alphabet. */
const TEMPLATE_HASH = /^(.+)-([bcdfghjklmnpqrstvwxz2456789]{6,10})$/;

/** The owner to use among those seen: real owners before `<none>`, then newest, then by name. */
export function chooseOwner(owners: readonly OwnerSeen[]): OwnerSeen | undefined {
  let best: OwnerSeen | undefined;
  for (const o of owners) {
    if (best === undefined || better(o, best)) best = o;
  }
  return best;
}

function better(x: OwnerSeen, y: OwnerSeen): boolean {
  const xNone = x.kind === '' || x.kind === NONE;
  const yNone = y.kind === '' || y.kind === NONE;
  if (xNone !== yNone) return !xNone;
  if (x.lastSeen !== y.lastSeen) return x.lastSeen > y.lastSeen;
  if (x.kind !== y.kind) return x.kind > y.kind;
  return x.name > y.name;
}

/**
 * Resolves a pod's workload.
 * @param owner the pod's owner (kube_pod_owner), if any in the hour
 * @param replicaSetOwner the owner of a ReplicaSet (kube_replicaset_owner) in the pod's namespace
 * @param templateHash the pod's `pod_template_hash` label, if known
 */
export function resolveWorkload(
  owner: OwnerSeen | undefined,
  replicaSetOwner: (replicaSet: string) => OwnerSeen | undefined,
  templateHash: string | undefined,
): Workload {
  if (owner === undefined || owner.kind === '' || owner.kind === NONE || owner.name === '' || owner.name === NONE) return BARE;
  const kind = owner.kind.toLowerCase();
  if (kind === 'job') {
    const cron = CRON_JOB.exec(owner.name);
    return { kind: 'job', name: cron === null ? owner.name : cron[1], inferred: false };
  }
  if (kind !== 'replicaset') return { kind, name: owner.name, inferred: false };

  const rsOwner = replicaSetOwner(owner.name);
  if (rsOwner !== undefined) {
    // kube_replicaset_owner says it: a ReplicaSet without owner (`<none>`) is its own workload.
    if (rsOwner.kind === '' || rsOwner.kind === NONE || rsOwner.name === '' || rsOwner.name === NONE) {
      return { kind: 'replicaset', name: owner.name, inferred: false };
    }
    return { kind: rsOwner.kind.toLowerCase(), name: rsOwner.name, inferred: false };
  }
  // No ReplicaSet owner series: strip the pod-template hash when it is unambiguous, i.e. it equals
  // the pod's pod-template-hash label, or (without that label) it looks like one.
  if (templateHash !== undefined && templateHash !== '' && owner.name.endsWith(`-${templateHash}`)) {
    return { kind: 'deployment', name: owner.name.slice(0, -templateHash.length - 1), inferred: true };
  }
  if (templateHash === undefined) {
    const m = TEMPLATE_HASH.exec(owner.name);
    if (m !== null) return { kind: 'deployment', name: m[1], inferred: true };
  }
  return { kind: 'replicaset', name: owner.name, inferred: false };
}
