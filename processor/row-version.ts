// The version a stored row carries: under FINAL the highest version of a key wins, so a later
// write must carry a higher version whenever it knows more, across restarts, rebalances and hosts.
//
// Why the partition offset and not a clock: a process's clock can be behind the one before it (a
// processor restarted with its clock 10 minutes slow wrote rows that lost to older, incomplete
// ones), and a restart that flushes while it replays has seen less than the rows stored before the
// crash. The offset consumed says how much a write has seen: one cluster's records stay on one
// partition, in order, so a write of an hour at a higher offset has seen every record the lower
// one saw, and more. So a replay's early rows lose to the more complete rows stored before a crash,
// and win once it has read as far; equal offsets mean the same records, hence the same rows.
//
//   version = BASE + 2 x nextOffset + (final ? 1 : 0)
//
// The final bit makes the rows that close an hour win over provisional rows written at the same
// offset (an hour that closes by wall clock while nothing new arrives). BASE (2^52) lies above every
// version earlier releases stored (microseconds of wall time, about 1.8e15 in 2026, reaching 2^52
// only in 2112), so the first write of this release replaces them; the result stays below 2^53,
// exact as a JavaScript number, for offsets below 2^51. Deletion rows follow the same rule.
export const VERSION_BASE = 2 ** 52;
const MAX_OFFSET = 2n ** 51n - 1n;

export function rowVersion(nextOffset: bigint, final: boolean): number {
  if (nextOffset < 0n || nextOffset > MAX_OFFSET) {
    throw new RangeError(`a partition offset of ${nextOffset} does not fit a row version (offsets must stay below 2^51)`);
  }
  return VERSION_BASE + Number(nextOffset) * 2 + (final ? 1 : 0);
}
