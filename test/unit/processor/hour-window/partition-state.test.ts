import { describe, expect, it } from 'vitest';
import { clusterId, clusterState, isReplaying, markChanged, partitionFloor, settledBefore } from '../../../../processor/hour-window/partition-state.ts';
import { cluster, H, H0, partition } from './window-fixtures.ts';

describe('partition state', () => {
  it('starts where the last commit left off: offset, floors, and the backlog to replay', () => {
    const state = partition({ committed: 7n, floor: H0 + 2 * H, clusters: { [clusterId('t', 'ahead')]: H0 + 4 * H }, end: 10n });
    state.next = 7n;
    expect(state).toMatchObject({ next: 7n, lastCommitted: 7n, contextFloor: H0 + 2 * H, replayEnd: 10n });
    expect(state.clusterFloors).toEqual(new Map([[clusterId('t', 'ahead'), H0 + 4 * H]]));
    expect(isReplaying(state)).toBe(true);
    state.next = 10n;
    expect(isReplaying(state)).toBe(false);
  });

  it.each<[string, Parameters<typeof partition>[0], string, { floor: number; contextFloor: number }]>([
    ['a new group', {}, 'c', { floor: -Infinity, contextFloor: -Infinity }],
    ['a cluster at the partition floor', { committed: 5n, floor: H0 + 2 * H }, 'c', { floor: H0 + H, contextFloor: H0 + 2 * H }],
    ['a cluster listed further on', { committed: 5n, floor: H0 + 2 * H, clusters: { [clusterId('t', 'ahead')]: H0 + 4 * H } }, 'ahead', { floor: H0 + 3 * H, contextFloor: H0 + 4 * H }],
  ])('%s: hours before the context floor are replayed as context, the hour before it too late', (_what, start, name, floors) => {
    const state = partition(start);
    const c = clusterState(state, 't', name);
    expect({ floor: c.floor, contextFloor: c.contextFloor }).toEqual(floors);
    expect(clusterState(state, 't', name)).toBe(c);
    expect(settledBefore(c)).toBe(floors.contextFloor);
  });

  it('settles a cluster before the later of its floor and its context floor', () => {
    const c = cluster(partition({ committed: 1n, floor: H0 }), 'c', [], { floor: H0 + 3 * H });
    expect(settledBefore(c)).toBe(H0 + 3 * H);
  });

  // [hours marked before, fromHour, toHour, reachesBack] -> seq per hour after (in hours from H0).
  it.each<[string, Record<number, number>, number, number, boolean, Record<number, number>]>([
    ['new hours', {}, 0, 1, false, { 0: 1, 1: 1 }],
    ['a changed hour and the one after it', { 0: 1, 1: 3 }, 0, 0, false, { 0: 2, 1: 4 }],
    ['no hour after it is created', { 0: 1 }, 0, 0, false, { 0: 2 }],
    ['the hour before, when a sample is near its hour start', { 0: 1, 1: 1 }, 1, 1, true, { 0: 2, 1: 2 }],
    ['not the hour before otherwise', { 0: 1, 1: 1 }, 1, 1, false, { 0: 1, 1: 2 }],
    ['no hour before is created', {}, 1, 1, true, { 1: 1 }],
  ])('marks %s', (_what, before, from, to, reachesBack, after) => {
    const c = cluster(partition(), 'c', Object.entries(before).map(([h, seq]) => ({ hour: H0 + Number(h) * H, seq })));
    markChanged(c, H0 + from * H, H0 + to * H, reachesBack);
    expect(Object.fromEntries([...c.hours].map(([hour, mark]) => [(hour - H0) / H, mark.seq]))).toEqual(after);
  });

  it.each<[string, number[][], number]>([
    ['no hours', [[]], Infinity],
    ['the oldest hour of any cluster', [[H0 + 3 * H, H0 + 4 * H], [H0 + 2 * H]], H0 + 2 * H],
  ])('has as its floor %s', (_what, hoursPerCluster, floor) => {
    const state = partition();
    hoursPerCluster.forEach((hours, i) => cluster(state, `c${i}`, hours.map((hour) => ({ hour }))));
    expect(partitionFloor(state)).toBe(floor);
  });

  it('does not count the context hours of a restart in its floor: it never goes back', () => {
    const state = partition({ committed: 3n, floor: H0 + 2 * H });
    cluster(state, 'c', [{ hour: H0 + H }, { hour: H0 + 3 * H }]);
    expect(partitionFloor(state)).toBe(H0 + 3 * H);
  });
});
