// What each ROLE runs: a processor on the embedded engine must serve the reads, because no other
// process can open the engine's directory (its rows would otherwise be unreadable).
import { describe, expect, it } from 'vitest';
import { roleParts } from '../../../service/roles.ts';

describe('roleParts', () => {
  it('gives the read side to all and query, and to a processor only on the embedded engine', () => {
    expect(roleParts('all')).toEqual({ receives: true, processes: true, queries: true });
    expect(roleParts('query')).toEqual({ receives: false, processes: false, queries: true });
    expect(roleParts('receiver', true)).toEqual({ receives: true, processes: false, queries: false });
    expect(roleParts('processor', false)).toEqual({ receives: false, processes: true, queries: false });
    expect(roleParts('processor', true)).toEqual({ receives: false, processes: true, queries: true });
  });
});
