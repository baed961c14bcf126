// Where a record goes and what it is labelled with: its key (tenant NUL cluster), its headers and
// its partition. The same few (tenant, cluster) pairs come back with every request, so these are
// built once per pair and reused: a request's records then cost no string encoding, no Map and
// no hashing in the client.
import { compatibilityPartitioner } from '@platformatic/kafka';
import { FORMAT_VERSION } from '../record-format.ts';
import { recordKey } from '../record-log.ts';

export interface RecordAddress {
  readonly key: Buffer;
  /** tenant, cluster and format-version, already serialised (the producer sends Buffers as they are). */
  readonly headers: Map<Buffer, Buffer>;
  /**
   * Java's partitioner (murmur2 of the key, sign bit cleared): a cluster's records land on the
   * partition Java clients (and kafkajs) would choose, whichever client wrote them. The client's
   * own default hashes differently for half of all keys. The producer takes it modulo the
   * partition count.
   */
  readonly partition: number;
}

export interface RecordAddresses {
  of(tenant: string, cluster: string): RecordAddress;
}

/** Pairs remembered at most; past this the cache starts again (a burst of new clusters only costs the encoding). */
const MAX_PAIRS = 10_000;

const TENANT = Buffer.from('tenant');
const CLUSTER = Buffer.from('cluster');
const FORMAT = Buffer.from('format-version');
const FORMAT_VALUE = Buffer.from(String(FORMAT_VERSION));

export function addressOf(tenant: string, cluster: string): RecordAddress {
  const key = recordKey(tenant, cluster);
  const headers = new Map([
    [TENANT, Buffer.from(tenant, 'utf8')],
    [CLUSTER, Buffer.from(cluster, 'utf8')],
    [FORMAT, FORMAT_VALUE],
  ]);
  return { key, headers, partition: compatibilityPartitioner(undefined as never, key) };
}

export function createRecordAddresses(): RecordAddresses {
  let byTenant = new Map<string, Map<string, RecordAddress>>();
  let pairs = 0;
  return {
    of(tenant, cluster) {
      let clusters = byTenant.get(tenant);
      let address = clusters?.get(cluster);
      if (address) return address;
      if (pairs >= MAX_PAIRS) {
        byTenant = new Map();
        pairs = 0;
        clusters = undefined;
      }
      if (!clusters) byTenant.set(tenant, (clusters = new Map()));
      address = addressOf(tenant, cluster);
      clusters.set(cluster, address);
      pairs++;
      return address;
    },
  };
}
