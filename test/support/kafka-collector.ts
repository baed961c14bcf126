// One consumer per test file that reads a topic from the beginning for the file's whole life and
// keeps every record decoded, so each test waits for what it needs instead of joining a new
// consumer group (seconds each) per check.
import { readTopic } from './kafka.ts';
import { decodeMessage } from './records.ts';

export type CollectedRecord = ReturnType<typeof decodeMessage>;

/** One series of one record, flattened with the record's key. */
export interface CollectedSeries {
  tenant: string;
  cluster: string;
  headers: Record<string, string>;
  labels: Record<string, string>;
  samples: { t: number; v: number }[];
}

export interface TopicCollector {
  readonly records: CollectedRecord[];
  /** Records that could not be decoded (a receiver bug: the processor could not read them either). */
  readonly undecodable: { offset: string; error: string }[];
  /** Every series of every record so far. */
  series(): CollectedSeries[];
  /** Waits until `condition` holds over the series collected so far; returns them. */
  waitFor(condition: (series: CollectedSeries[]) => boolean, timeoutMs?: number, what?: string): Promise<CollectedSeries[]>;
  stop(): Promise<void>;
}

export async function collectTopic(brokers: string[], topic: string): Promise<TopicCollector> {
  const records: CollectedRecord[] = [];
  const undecodable: { offset: string; error: string }[] = [];
  const reader = await readTopic(brokers, topic, (message) => {
    try {
      records.push(decodeMessage(message));
    } catch (err) {
      // Kept aside rather than thrown: waitFor reports them.
      undecodable.push({ offset: `${message.partition}:${message.offset}`, error: (err as Error).message });
    }
  });
  const series = (): CollectedSeries[] =>
    records.flatMap((r) => r.series.map((s) => ({ tenant: r.key!.tenant, cluster: r.key!.cluster, headers: r.headers, labels: s.labels, samples: s.samples })));
  return {
    records,
    undecodable,
    series,
    async waitFor(condition, timeoutMs = 20_000, what = 'records') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (undecodable.length > 0) throw new Error(`undecodable records on ${topic}: ${JSON.stringify(undecodable)}`);
        const now = series();
        if (condition(now)) return now;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} on ${topic} (${now.length} series so far)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await reader.stop();
    },
  };
}
