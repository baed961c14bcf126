import { describe, expect, it } from 'vitest';
import { SymbolMap, SymbolTable } from '../../../ingest/record-symbols.ts';

/** The strings laid out one after the other, as label strings lie in a request body. */
function body(strings: string[]): { bytes: Buffer; at: [number, number][] } {
  const parts = strings.map((s) => Buffer.from(s));
  const at: [number, number][] = [];
  let offset = 0;
  for (const p of parts) {
    at.push([offset, p.length]);
    offset += p.length;
  }
  return { bytes: Buffer.concat(parts), at };
}

const textOf = (t: SymbolTable, _bytes: Buffer, id: number) => t.text(id);

describe('symbol table', () => {
  it('gives equal strings one symbol wherever they lie, and distinct strings distinct symbols', () => {
    const strings = ['__name__', 'up', 'pod', 'a', '__name__', 'up', 'pod', 'b', '', 'ab', 'a', 'b', ''];
    const { bytes, at } = body(strings);
    const t = new SymbolTable();
    t.begin(bytes);
    const ids = at.map(([off, len]) => t.intern(off, len));
    expect(ids).toEqual([0, 1, 2, 3, 0, 1, 2, 4, 5, 6, 3, 4, 5]);
    expect(t.count).toBe(7);
    expect(Array.from({ length: t.count }, (_, id) => textOf(t, bytes, id))).toEqual(['__name__', 'up', 'pod', 'a', 'b', '', 'ab']);
    expect(t.overflowed).toBe(false);
  });

  it('finds a string given from elsewhere, keeps its symbols from request to request, and forgets them on reset', () => {
    const { bytes, at } = body(['cluster_id', 'prod', 'cluster']);
    const t = new SymbolTable();
    t.begin(bytes);
    for (const [off, len] of at) t.intern(off, len);
    expect(t.find(Buffer.from('cluster_id'))).toBe(0);
    expect(t.find(Buffer.from('cluster'))).toBe(2);
    expect(t.find(Buffer.from('cluster_i'))).toBe(-1);
    // The next request's body, where the same strings lie elsewhere: the symbols hold, their bytes
    // were copied out of the first body (which may be reused), and new strings get new symbols.
    const next = body(['x', 'cluster', 'prod', 'dev']);
    bytes.fill(0);
    t.begin(next.bytes);
    expect(next.at.map(([off, len]) => t.intern(off, len))).toEqual([3, 2, 1, 4]);
    expect([0, 1, 2, 3, 4].map((id) => t.text(id))).toEqual(['cluster_id', 'prod', 'cluster', 'x', 'dev']);
    t.reset();
    expect(t.find(Buffer.from('cluster_id'))).toBe(-1);
    expect(t.intern(next.at[2][0], next.at[2][1])).toBe(0);
    expect(t.text(0)).toBe('prod');
  });

  it('knows a string by its offset only within one body: the next body may hold other bytes there', () => {
    const t = new SymbolTable();
    const first = Buffer.from('podAnodeA');
    t.begin(first);
    expect([t.intern(0, 4), t.intern(4, 5), t.intern(0, 4)]).toEqual([0, 1, 0]);
    const second = Buffer.from('podBnodeA');
    t.begin(second);
    expect([t.intern(0, 4), t.intern(4, 5)]).toEqual([2, 1]);
    expect([t.text(0), t.text(2)]).toEqual(['podA', 'podB']);
    // Same offset, another length: another string.
    expect(t.intern(0, 3)).toBe(3);
    expect(t.text(3)).toBe('pod');
  });

  it('grows with the distinct strings of a request and stays correct whatever their number', () => {
    const strings = Array.from({ length: 20_000 }, (_, i) => `pod-${i.toString(36)}`);
    const { bytes, at } = body([...strings, ...strings]);
    const t = new SymbolTable();
    t.begin(bytes);
    const ids = at.map(([off, len]) => t.intern(off, len));
    for (let i = 0; i < ids.length; i++) expect(textOf(t, bytes, ids[i])).toBe(strings[i % strings.length]);
    expect(t.count).toBe(strings.length);
    expect(t.find(Buffer.from(strings[12_345]))).toBe(12_345);
  });

  it('stays correct when strings collide past the probe limit: each string keeps its own bytes', () => {
    // Distinct strings in a table whose chains are made to overflow (every slot already taken, as
    // colliding hostile strings would): past the probe limit strings get symbols of their own
    // instead of a longer search. Every symbol still names exactly its string.
    const strings = Array.from({ length: 40 }, (_, i) => `pod-${i}`);
    const { bytes, at } = body([...strings, ...strings]);
    const t = new SymbolTable();
    t.begin(bytes);
    (t as unknown as { slots: Int32Array }).slots = new Int32Array(64).fill(0);
    const ids = at.map(([off, len]) => t.intern(off, len));
    for (let i = 0; i < ids.length; i++) expect(textOf(t, bytes, ids[i])).toBe(strings[i % strings.length]);
    expect(t.overflowed).toBe(true);
    expect(t.count).toBeGreaterThan(strings.length);
    for (const text of strings) expect(textOf(t, bytes, t.find(Buffer.from(text)))).toBe(text);
  });
});

describe('symbol map', () => {
  it('holds a number per symbol until cleared, growing as needed', () => {
    const m = new SymbolMap();
    expect(m.get(5)).toBe(-1);
    m.set(5, 7);
    m.set(100_000, 3);
    expect([m.get(5), m.get(100_000), m.get(6)]).toEqual([7, 3, -1]);
    m.clear();
    expect([m.get(5), m.get(100_000)]).toEqual([-1, -1]);
  });
});
