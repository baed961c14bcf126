// Garbage-collection pauses of this process's main thread over a window (perf_hooks 'gc' entries).
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface GcFigures {
  /** Sum of pauses, ms. */
  gcMs: number;
  /** Of which major (mark-sweep-compact) collections. */
  gcMajorMs: number;
  gcCount: number;
}

export function gcRecorder() {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  let from = 0;
  let to = Infinity;
  return {
    start() {
      observer.observe({ entryTypes: ['gc'] });
      from = performance.now();
    },
    async stop(): Promise<GcFigures> {
      to = performance.now();
      // Entries are delivered asynchronously.
      await new Promise((r) => setTimeout(r, 50));
      observer.disconnect();
      const inside = entries.filter((e) => e.startTime >= from && e.startTime <= to);
      const major = inside.filter((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      const sum = (list: PerformanceEntry[]) => list.reduce((n, e) => n + e.duration, 0);
      return { gcMs: sum(inside), gcMajorMs: sum(major), gcCount: inside.length };
    },
  };
}
