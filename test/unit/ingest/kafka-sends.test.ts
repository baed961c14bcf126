import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMergedSends, kafkaMessageOf, publishWithin, type MergedSendOptions } from '../../../ingest/kafka-sends.ts';
import { FORMAT_VERSION } from '../../../ingest/record-format.ts';
import { PublishError, recordKey, type OutboundRecord } from '../../../ingest/record-log.ts';

const record = (cluster: string): OutboundRecord => ({ tenant: 'acme', cluster, value: Buffer.from(cluster), samples: 1 });

class BrokerError extends Error {
  constructor(readonly type: string) {
    super(type);
  }
}

/** Merged sends over a client whose send answers from `answers` in turn (undefined: acknowledged). */
function setup(answers: Array<Error | undefined>, overrides: Partial<MergedSendOptions<string>> = {}) {
  const sends: string[][] = [];
  const failures: unknown[] = [];
  let sent = 0;
  const group = createMergedSends<string>({
    maxGroupBytes: 1 << 20,
    toMessage: (r) => r.cluster,
    async send(messages) {
      sends.push(messages);
      const answer = answers.shift();
      if (answer) throw answer;
    },
    brokerError: (err) => (err instanceof BrokerError ? err.type : undefined),
    onSendFailure: (err) => void failures.push(err),
    onSent: () => void sent++,
    log: pino({ level: 'silent' }),
    ...overrides,
  });
  return { group, sends, failures, sent: () => sent };
}

describe('merged Kafka sends', () => {
  it('sends a merged batch the topic finds too large again record by record, in order', async () => {
    const { group, sends, failures, sent } = setup([new BrokerError('MESSAGE_TOO_LARGE')]);
    await group.submit([record('a'), record('b'), record('c')]);
    expect(sends).toEqual([['a', 'b', 'c'], ['a'], ['b'], ['c']]);
    expect(failures).toEqual([]);
    expect(sent()).toBe(1);
  });

  it('fails a single record the topic finds too large, without sending it again', async () => {
    const tooLarge = new BrokerError('RECORD_LIST_TOO_LARGE');
    const { group, sends, failures, sent } = setup([tooLarge]);
    await expect(group.submit([record('a')])).rejects.toBe(tooLarge);
    expect(sends).toEqual([['a']]);
    expect(failures).toEqual([tooLarge]);
    expect(sent()).toBe(0);
  });

  it('reports a failed send so its producer is replaced, but not a send refused for want of a connection', async () => {
    const broken = new Error('connection reset');
    const notConnected = new PublishError('Kafka is not connected', 'unavailable');
    const { group, failures } = setup([broken, notConnected]);
    await expect(group.submit([record('a')])).rejects.toBe(broken);
    await expect(group.submit([record('b')])).rejects.toBe(notConnected);
    expect(failures).toEqual([broken]);
  });

  it('gives a record its key, value and headers', () => {
    const r = record('c1');
    expect(kafkaMessageOf(r)).toEqual({ key: recordKey('acme', 'c1'), value: r.value, headers: { tenant: 'acme', cluster: 'c1', 'format-version': String(FORMAT_VERSION) } });
  });
});

describe('publishWithin', () => {
  const open = { closed: false, connected: true };
  const reasonOf = async (p: Promise<void>) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    return (err as PublishError).reason;
  };

  it('refuses at once while closed or not connected, sending nothing', async () => {
    const { group, sends } = setup([]);
    expect(await reasonOf(publishWithin(group, [record('a')], 1000, { closed: true, connected: true }))).toBe('closed');
    expect(await reasonOf(publishWithin(group, [record('a')], 1000, { closed: false, connected: false }))).toBe('unavailable');
    await publishWithin(group, [], 1000, open);
    expect(sends).toEqual([]);
  });

  it('resolves once the send is acknowledged', async () => {
    const { group, sends } = setup([undefined]);
    await publishWithin(group, [record('a'), record('b')], 1000, open);
    expect(sends).toEqual([['a', 'b']]);
  });

  it('gives up a send that is never acknowledged at the produce timeout, as a timeout', async () => {
    const { group } = setup([], { send: () => new Promise<void>(() => undefined) });
    const err = await publishWithin(group, [record('a')], 5, open).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect(err).toMatchObject({ reason: 'timeout', code: 'log-timeout', message: 'Kafka did not acknowledge within 5 ms' });
  });

  it('tells a failed send as unavailable, keeping the error as its cause', async () => {
    const broken = new Error('connection reset');
    const { group } = setup([broken]);
    const err = await publishWithin(group, [record('a')], 1000, open).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ reason: 'unavailable', message: 'Kafka rejected the records: connection reset', cause: broken });
  });
});
