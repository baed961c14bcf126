// What the receiver turns a remote-write request into, with the service's default limits: the
// records it publishes (one per cluster, split at KAFKA_MAX_RECORD_BYTES) and the samples accepted.
import type { OutboundRecord } from '../ingest/record-log.ts';
import { prepareRecords } from '../receiver/cluster-records.ts';
import { decodeRemoteWrite } from '../receiver/decode/index.ts';
import type { KubecostRequest } from './kubecost-traffic.ts';

export function receiverRecords(req: KubecostRequest, now: number): { records: OutboundRecord[]; samples: number } {
  const { write } = decodeRemoteWrite(req.body, req.contentType, 64 * 2 ** 20);
  const prepared = prepareRecords(write, req.tenant, now, {
    clusterLabel: 'cluster_id',
    maxSampleFutureMs: 600_000,
    maxRecordBytes: 900 * 1024,
    maxLabelsPerSeries: 40,
    maxLabelNameBytes: 1024,
    maxLabelValueBytes: 4096,
  });
  return { records: prepared.records, samples: prepared.samplesAccepted };
}
