import { describe, expect, it } from 'vitest';
import { commitPoint, nextCommit, noteCommitted } from '../../../../processor/hour-window/commit-point.ts';
import { decodeCommitMetadata } from '../../../../processor/hour-window/commit-metadata.ts';
import { clusterId } from '../../../../processor/hour-window/partition-state.ts';
import { cluster, H, H0, partition } from './window-fixtures.ts';

const floors = (metadata: string) => {
  const { floor, clusters } = decodeCommitMetadata(metadata);
  return { floor, clusters: Object.fromEntries(clusters) };
};

describe('commitPoint', () => {
  it('has nothing to commit before the first record', () => {
    expect(commitPoint(partition())).toBeUndefined();
  });

  it('keeps the records of the oldest open hour and of the hour before it', () => {
    const state = partition();
    [H0, H0 + H, H0 + 2 * H, H0 + 3 * H].forEach((hour, offset) => state.tracker.note(BigInt(offset), hour));
    cluster(state, 'c', [{ hour: H0 + 2 * H }, { hour: H0 + 3 * H }], { floor: H0 + 2 * H });
    const point = commitPoint(state)!;
    expect(point.offset).toBe(1n);
    expect(floors(point.metadata)).toEqual({ floor: H0 + 2 * H, clusters: {} });
  });

  it('commits everything read once nothing can change, at the newest settled boundary', () => {
    const state = partition();
    state.tracker.note(0n, H0);
    state.tracker.note(1n, H0 + H);
    cluster(state, 'a', [], { floor: H0 + 2 * H });
    cluster(state, 'b', [], { floor: H0 + 5 * H });
    const point = commitPoint(state)!;
    expect(point.offset).toBe(2n);
    expect(floors(point.metadata)).toEqual({ floor: H0 + 5 * H, clusters: { [clusterId('t', 'a')]: H0 + 2 * H } });
  });

  it('names the clusters whose floor differs, also those of an earlier commit not seen since', () => {
    const state = partition({ committed: 0n, floor: H0, clusters: { [clusterId('t', 'gone')]: H0 + 7 * H } });
    state.tracker.note(0n, H0);
    cluster(state, 'slow', [{ hour: H0 }]);
    cluster(state, 'fast', [{ hour: H0 + 4 * H }], { floor: H0 + 4 * H });
    expect(floors(commitPoint(state)!.metadata)).toEqual({
      floor: H0,
      clusters: { [clusterId('t', 'gone')]: H0 + 7 * H, [clusterId('t', 'fast')]: H0 + 4 * H },
    });
  });
});

describe('nextCommit', () => {
  /** A partition whose only record fed `hour`, with the cluster's floor at `floor`, committed as given. */
  const state = (committed: { offset: bigint; metadata: string } | undefined, floor: number) => {
    const p = partition();
    p.lastCommitted = committed?.offset;
    p.committedMetadata = committed?.metadata;
    p.tracker.note(0n, H0);
    p.tracker.note(1n, H0 + 3 * H);
    cluster(p, 'c', [{ hour: H0 + 3 * H }], { floor });
    return p;
  };
  const stored = `{"v":1,"floor":${H0 + 3 * H}}`;

  it.each<[string, { offset: bigint; metadata: string } | undefined, number, boolean]>([
    ['the first commit', undefined, H0 + 3 * H, true],
    ['an offset that advances', { offset: 0n, metadata: stored }, H0 + 3 * H, true],
    ['the same offset and floors', { offset: 1n, metadata: stored }, H0 + 3 * H, false],
    ['the same offset with new floors (hours settled meanwhile)', { offset: 1n, metadata: `{"v":1,"floor":${H0 + 2 * H}}` }, H0 + 3 * H, true],
  ])('commits on %s: %s', (_what, committed, floor, commits) => {
    const next = nextCommit(state(committed, floor));
    expect(next !== undefined).toBe(commits);
    if (next) expect(next).toEqual({ partition: 0, offset: 1n, metadata: stored });
  });

  it('remembers a stored commit, so the same one is not made again', () => {
    const p = state(undefined, H0 + 3 * H);
    noteCommitted(p, nextCommit(p)!);
    expect({ offset: p.lastCommitted, metadata: p.committedMetadata }).toEqual({ offset: 1n, metadata: stored });
    expect(p.tracker.runs).toBe(1);
    expect(nextCommit(p)).toBeUndefined();
  });
});
