// Committed offsets with their metadata, which the processor keeps its replay floor in.
//
// The client's Consumer.commit() (and Admin.alterConsumerGroupOffsets()) always send a null
// metadata, although the protocol carries one: a commit here goes through the client's own
// OffsetCommit request (chosen for the broker's version, on the group coordinator's connection),
// with this member's generation, so a member that lost the partition in a rebalance is refused by
// the broker (ILLEGAL_GENERATION) instead of overwriting the new owner's progress. Reading them
// back uses the public Admin.listConsumerGroupOffsets(), which returns the metadata.
import { FetchIsolationLevels, kGetApi, kGetConnection, ListOffsetTimestamps, type Admin, type API, type Connection, type Consumer } from '@platformatic/kafka';
import type { PartitionStart } from '../record-log.ts';

interface CommitPartition {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  committedMetadata: string;
}

type OffsetCommitApi = API<[groupId: string, generation: number, memberId: string | null, groupInstanceId: string | null, topics: { name: string; partitions: CommitPartition[] }[]], unknown>;

type GroupConsumer = Consumer<Buffer, Buffer, string, string>;

function fromCallback<T>(call: (callback: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** Commits `offset` (the next record to read) with `metadata` per partition, as this group member. */
export async function commitWithMetadata(consumer: GroupConsumer, topic: string, commits: readonly { partition: number; offset: bigint; metadata: string }[]): Promise<void> {
  if (!consumer.memberId) throw new Error('not a member of the consumer group (yet)');
  const generation = consumer.generationId;
  const memberId = consumer.memberId;
  const coordinator = await consumer.findGroupCoordinator();
  const metadata = await consumer.metadata({ topics: [topic] });
  const broker = metadata.brokers.get(coordinator);
  if (!broker) throw new Error(`the group coordinator (broker ${coordinator}) is not in the cluster metadata`);
  const connection = await fromCallback<Connection>((cb) => consumer[kGetConnection](broker, cb));
  const api = await fromCallback<OffsetCommitApi>((cb) => consumer[kGetApi]('OffsetCommit', cb));
  const partitions = commits.map((c) => ({ partitionIndex: c.partition, committedOffset: c.offset, committedLeaderEpoch: -1, committedMetadata: c.metadata }));
  // A broker-side error (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, ...) rejects with the client's ResponseError.
  await api.async(connection, consumer.groupId, generation, memberId, null, [{ name: topic, partitions }]);
}

/** The committed offset and metadata of one partition, and its high watermark. */
export async function readPartitionStart(admin: Admin, groupId: string, topic: string, partition: number): Promise<PartitionStart> {
  const [groups, ends] = await Promise.all([
    admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [partition] }] }] }),
    admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: ListOffsetTimestamps.LATEST }] }], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED }),
  ]);
  const entry = groups[0]?.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partitionIndex === partition);
  const end = ends.find((t) => t.name === topic)?.partitions.find((p) => p.partitionIndex === partition);
  const committed = entry && entry.committedOffset >= 0n ? entry.committedOffset : undefined;
  // Without a commit the broker answers an empty metadata: there is none.
  return { committed, metadata: committed === undefined ? undefined : (entry?.metadata ?? undefined), end: end?.offset ?? 0n };
}
