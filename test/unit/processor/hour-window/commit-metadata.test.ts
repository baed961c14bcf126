import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommitMetadata, encodeCommitMetadata } from '../../../../processor/hour-window/commit-metadata.ts';
import { clusterId } from '../../../../processor/hour-window/partition-state.ts';
import { H, H0 } from './window-fixtures.ts';

const none = { floor: -Infinity, clusters: new Map() };

describe('commit metadata', () => {
  it.each<[string, number, [string, number][], string]>([
    ['a floor alone', H0, [], `{"v":1,"floor":${H0}}`],
    ['a cluster further on and one behind', H0 + 2 * H, [[clusterId('acme', 'prod'), H0 + 5 * H], [clusterId('acme', 'dev'), H0]], `{"v":1,"floor":${H0 + 2 * H},"clusters":{"acme\\u0000prod":${H0 + 5 * H},"acme\\u0000dev":${H0}}}`],
    ['no floor yet (JSON has no -Infinity)', -Infinity, [], '{"v":1,"floor":null}'],
  ])('%s: encodes as stored, decodes to the same floors', (_what, floor, clusters, text) => {
    const encoded = encodeCommitMetadata(floor, new Map(clusters));
    expect(encoded).toBe(text);
    expect(decodeCommitMetadata(encoded)).toEqual({ floor, clusters: new Map(clusters) });
  });

  it('keeps a cluster id that is also an object property name (regression: "__proto__" was lost)', () => {
    const map = new Map([['__proto__', 5 * H], ['constructor', 6 * H]]);
    expect(decodeCommitMetadata(encodeCommitMetadata(4 * H, map))).toEqual({ floor: 4 * H, clusters: map });
  });

  it('round-trips any floors that fit', () => {
    const hour = fc.integer({ min: 0, max: 500_000 }).map((n) => n * H);
    fc.assert(
      fc.property(hour, fc.dictionary(fc.string({ maxLength: 20 }), hour, { maxKeys: 20 }), (floor, clusters) => {
        const map = new Map(Object.entries(clusters));
        expect(decodeCommitMetadata(encodeCommitMetadata(floor, map))).toEqual({ floor, clusters: map });
      }),
    );
  });

  it('leaves out clusters over the size Kafka accepts, keeping those furthest on, never a wrong floor', () => {
    const clusters = new Map(Array.from({ length: 400 }, (_, i) => [clusterId(`tenant-${i}`, `cluster-with-a-long-name-${i}`), H0 + (i % 50) * H] as const));
    const encoded = encodeCommitMetadata(H0, clusters);
    expect(encoded.length).toBeLessThanOrEqual(3000); // offset.metadata.max.bytes is 4096 by default
    const decoded = decodeCommitMetadata(encoded);
    expect(decoded.floor).toBe(H0);
    expect(decoded.clusters.size).toBeGreaterThan(10);
    expect(decoded.clusters.size).toBeLessThan(clusters.size);
    for (const [id, floor] of decoded.clusters) expect(clusters.get(id)).toBe(floor);
    const kept = Math.min(...decoded.clusters.values());
    for (const [id, floor] of clusters) if (!decoded.clusters.has(id)) expect(floor).toBeLessThanOrEqual(kept);
  });

  it.each<[string, string | undefined]>([
    ['none', undefined],
    ['empty', ''],
    ['not JSON', 'floor=5'],
    ['JSON null', 'null'],
    ['a number', '5'],
    ['an array', '[1,2]'],
    ['another version', `{"v":2,"floor":${H0}}`],
    ['no floor', '{"v":1}'],
    ['a floor as text', `{"v":1,"floor":"${H0}"}`],
    ['truncated', `{"v":1,"floor":${H0},"clus`],
  ])('decodes %s as no floor', (_what, text) => {
    expect(decodeCommitMetadata(text)).toEqual(none);
  });

  it('drops cluster entries that are not hour floors, keeping the rest', () => {
    const text = JSON.stringify({ v: 1, floor: H0, clusters: { a: H0 + H, b: 'x', c: null, d: [1] } });
    expect(decodeCommitMetadata(text)).toEqual({ floor: H0, clusters: new Map([['a', H0 + H]]) });
  });
});
