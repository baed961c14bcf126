import { decodeRecord, seriesLabels } from '../../ingest/record-format.ts';
import { parseRecordKey } from '../../ingest/record-log.ts';
import type { TopicMessage } from './kafka.ts';

/** A consumed Kafka message as plain data: key, headers, and each series' labels and samples. */
export function decodeMessage(message: TopicMessage) {
  const headers = { ...message.headers };
  const rec = decodeRecord(message.value!);
  const series = [];
  for (let s = 0; s < rec.seriesCount; s++) {
    const samples = [];
    for (let i = rec.sampleStart[s]; i < rec.sampleStart[s + 1]; i++) samples.push({ t: rec.timestamps[i], v: rec.values[i] });
    series.push({ labels: seriesLabels(rec, s), samples });
  }
  return { key: parseRecordKey(message.key!), headers, series };
}
