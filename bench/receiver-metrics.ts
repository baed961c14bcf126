// What our receiver says about itself on /metrics, read before and after the measured window:
// garbage collection (prom-client's nodejs_gc_duration_seconds: the main thread's GC pauses), its
// memory and how far its processor got. (Go peers report their GC through gctrace: bench/peers.ts.)

const MB = 1024 * 1024;

/** The sum of every series of `name` in a text exposition (NaN when absent). */
export function metricSum(text: string, name: string): number {
  let sum = NaN;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum = (Number.isNaN(sum) ? 0 : sum) + Number(m[1]);
  return sum;
}

export async function fetchMetrics(writeUrl: string): Promise<string | undefined> {
  try {
    return await (await fetch(new URL('/metrics', writeUrl), { signal: AbortSignal.timeout(5_000) })).text();
  } catch {
    return undefined;
  }
}

/** Seconds the main thread spent in GC pauses so far (NaN when /metrics did not answer). */
export function nodeGcSeconds(text: string | undefined): number {
  return text === undefined ? NaN : metricSum(text, 'nodejs_gc_duration_seconds_sum');
}

export interface OursMetrics {
  /** Heap and external memory (prom-client's default metrics), MB. */
  memory: Record<string, number>;
  /** Samples the receiver published, and the processor consumed (ROLE=all), so far. */
  published: number;
  consumed: number;
}

export function oursMetrics(text: string | undefined): OursMetrics | undefined {
  if (text === undefined) return undefined;
  return {
    memory: {
      rss: metricSum(text, 'process_resident_memory_bytes') / MB,
      heap_total: metricSum(text, 'nodejs_heap_size_total_bytes') / MB,
      heap_used: metricSum(text, 'nodejs_heap_size_used_bytes') / MB,
      external: metricSum(text, 'nodejs_external_memory_bytes') / MB,
    },
    published: metricSum(text, 'k8s_expenses_receiver_samples_published_total'),
    consumed: metricSum(text, 'k8s_expenses_processor_samples_total'),
  };
}
