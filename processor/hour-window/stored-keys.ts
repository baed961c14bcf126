// Which rows of an hour a rewrite deletes, and which may be live in the table after it. A rewrite
// of an hour writes a deletion row for every key that may be live but that the hour's rows no
// longer have (a pod's PV cost moves from its namespace's __unmounted__ row to the pod's own row
// once its allocation arrives): under FINAL the table then holds exactly the hour's current rows.
//
// What may be live: the keys this process wrote, and those read from the table before it first
// wrote the hour (after a restart or a rebalance). A write only replaces the rows of lower versions:
// until this process writes the hour at a version above every row it read, the keys it read may
// still be live (its rows and deletions lost to them), so they are kept on top of its own.
import type { HourMark } from './partition-state.ts';

/** The keys that may be live but are not among the hour's current keys: each gets a deletion row. */
export function vanishedKeys(mark: HourMark, current: ReadonlySet<string>): string[] {
  const gone: string[] = [];
  for (const key of mark.storedKeys ?? []) if (!current.has(key)) gone.push(key);
  return gone;
}

/** Notes a stored write of the hour's `current` keys (and deletions of the others) at `version`. */
export function noteStored(mark: HourMark, current: Set<string>, version: number): void {
  if (mark.storedKeys === undefined || version > (mark.storedVersion ?? 0)) {
    mark.storedKeys = current;
    return;
  }
  for (const key of current) mark.storedKeys.add(key);
}
