import type { KafkaMessage } from 'kafkajs';
import { decodeRecord, seriesLabels } from '../../ingest/record-decoder.ts';
import { parseRecordKey } from '../../ingest/record-log.ts';

/** A consumed Kafka message as plain data: key, headers, and each series' labels and samples. */
export function decodeMessage(message: KafkaMessage) {
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
  const rec = decodeRecord(message.value!);
  const series = [];
  for (let s = 0; s < rec.seriesCount; s++) {
    const samples = [];
    for (let i = rec.sampleStart[s]; i < rec.sampleStart[s + 1]; i++) samples.push({ t: rec.timestamps[i], v: rec.values[i] });
    series.push({ labels: seriesLabels(rec, s), samples });
  }
  return { key: parseRecordKey(message.key!), headers, series };
}
