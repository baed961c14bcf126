// The CPU-bound part of a remote-write request, from body to the records to publish: snappy,
// protobuf, validation, grouping by cluster and record encoding. It needs nothing but its
// arguments, so it runs either on the main thread or on a decode worker (decode-pool.ts); the
// route does the same with the result either way.
import { prepareRecords, type RecordOptions } from './cluster-records.ts';
import { decodeRemoteWrite } from './decode/index.ts';

/** What is fixed for the process: the decoded-size limit and how records are made. */
export interface DecodeSettings {
  maxDecodedBytes: number;
  records: RecordOptions;
}

/** What the route needs of a decoded request (the decoded columns themselves stay where they were made). */
export interface DecodedRequest {
  version: 1 | 2;
  /** Float samples in the request, valid or not. */
  totalSamples: number;
  histogramCount: number;
  exemplarCount: number;
  seriesCount: number;
  prepared: ReturnType<typeof prepareRecords>;
}

/**
 * Decodes a request and prepares its records. Throws a DecodeError for a body that is not a valid
 * remote-write request; anything else it throws is a defect.
 */
export function decodeRequest(body: Uint8Array, contentType: string | undefined, tenant: string, now: number, settings: DecodeSettings): DecodedRequest {
  const { write, version } = decodeRemoteWrite(body, contentType, settings.maxDecodedBytes);
  return {
    version,
    totalSamples: write.sampleStart[write.seriesCount],
    histogramCount: write.histogramCount,
    exemplarCount: write.exemplarCount,
    seriesCount: write.seriesCount,
    prepared: prepareRecords(write, tenant, now, settings.records),
  };
}

/** Decodes requests somewhere: on a worker thread (decode-pool.ts) or, without one, right here. */
export interface RequestDecoder {
  /**
   * `affinity` (the sender's connection, say) sends requests of one sender to one thread when the
   * threads are equally busy, so each thread's series cache learns the series of its own senders.
   */
  decode(body: Buffer, contentType: string | undefined, tenant: string, now: number, affinity?: number): Promise<DecodedRequest>;
  close(): Promise<void>;
}

/** DECODE_THREADS=0: every request is decoded on the main thread, between its other work. */
export function mainThreadDecoder(settings: DecodeSettings): RequestDecoder {
  return {
    async decode(body, contentType, tenant, now) {
      return decodeRequest(body, contentType, tenant, now, settings);
    },
    async close() {},
  };
}
