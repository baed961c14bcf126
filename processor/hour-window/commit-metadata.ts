// What a commit stores besides the offset: the replay floors a restart starts from. Kept as JSON
// in the record log's commit metadata (Kafka's offset metadata, or the embedded log's commit file).
/**
 * Commit metadata: which hours a restart rebuilds and writes, and which it only replays as context.
 * `floor` is the partition's oldest hour that could still change (every record feeding it or the
 * hour before it lies at or after the committed offset). `clusters` holds, by clusterId(), each
 * cluster whose own floor (settledBefore) differs: one further on has settled the hours between
 * (a replay must not write them again, nor take the too-late samples this process dropped for
 * them); one behind has no samples in the hours between (they are still open to it). A cluster
 * not listed (new, or left out for size) takes `floor`.
 */
export interface CommitMetadata {
  v: 1;
  floor: number;
  clusters?: Record<string, number>;
}

/**
 * Kafka refuses metadata longer than offset.metadata.max.bytes (4096 by default). A cluster left
 * out over this takes the partition floor, which is safe either way: one further on rebuilds its
 * hours from the floor on (their records are all replayed) and writes them again; one behind
 * drops late samples for hours it never had samples in.
 */
const MAX_METADATA_CHARS = 3000;

export function encodeCommitMetadata(floor: number, clusters: ReadonlyMap<string, number> = new Map()): string {
  const metadata: CommitMetadata = { v: 1, floor };
  let length = JSON.stringify(metadata).length + 14;
  for (const [id, clusterFloor] of [...clusters].sort((a, b) => b[1] - a[1])) {
    const entry = JSON.stringify(id).length + String(clusterFloor).length + 2;
    if (length + entry > MAX_METADATA_CHARS) break;
    // A prototype-less object: an id such as "__proto__" must be stored as data, not as the prototype.
    (metadata.clusters ??= Object.create(null) as Record<string, number>)[id] = clusterFloor;
    length += entry;
  }
  return JSON.stringify(metadata);
}

/** Anything unreadable (none, another format, garbage) decodes as "no floor": a full rebuild, never a skipped hour. */
export function decodeCommitMetadata(text: string | undefined): { floor: number; clusters: Map<string, number> } {
  const none = { floor: -Infinity, clusters: new Map<string, number>() };
  if (!text) return none;
  try {
    const parsed = JSON.parse(text) as Partial<CommitMetadata>;
    if (parsed.v !== 1 || typeof parsed.floor !== 'number') return none;
    const clusters = new Map<string, number>();
    for (const [id, floor] of Object.entries(parsed.clusters ?? {})) if (typeof floor === 'number' && Number.isFinite(floor)) clusters.set(id, floor);
    return { floor: parsed.floor, clusters };
  } catch {
    return none;
  }
}

