import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../../service/log-format.ts';
import { createLogger } from '../../../service/logger.ts';

const clock = (t: Date) => t.toISOString().slice(11, 23);
const plain = { colour: false, clock };

describe('formatLogLine', () => {
  it('writes time, level name, message and the fields the message does not say', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-12-03T16:49:13.200Z',
      service: 'k8s-expenses',
      component: 'kafka-publisher',
      topic: 'prometheus-remote-write',
      error: 'Connection error: connect ECONNREFUSED 127.0.0.1:1',
      attempt: 1,
      retryInMs: 226,
      msg: 'cannot reach Kafka 127.0.0.1:1 (KAFKA_BROKERS) yet: Connection error: connect ECONNREFUSED 127.0.0.1:1; retrying',
    });
    expect(formatLogLine(line, plain)).toBe(
      '16:49:13.200  WARN   cannot reach Kafka 127.0.0.1:1 (KAFKA_BROKERS) yet: Connection error: connect ECONNREFUSED 127.0.0.1:1; retrying  component=kafka-publisher topic=prometheus-remote-write attempt=1 retryInMs=226\n',
    );
  });

  it('names every level', () => {
    const names = [10, 20, 30, 40, 50, 60].map((level) => formatLogLine(JSON.stringify({ level, time: 0, msg: 'm' }), plain).split(/\s+/)[1]);
    expect(names).toEqual(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
  });

  it('shows an error by its message and code, not its stack, and leaves out what is long or multi-line', () => {
    const line = JSON.stringify({
      level: 60,
      time: '2026-12-03T10:00:00.000Z',
      err: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED', stack: 'Error: connect\n    at x' },
      stack: 'Error\n    at y',
      big: 'x'.repeat(500),
      msg: 'stopping',
    });
    expect(formatLogLine(line, plain)).toBe('10:00:00.000  FATAL  stopping  error="connect ECONNREFUSED 127.0.0.1:1"\n');
  });

  it('quotes values with spaces, joins lists, and keeps a short value that merely occurs in the message', () => {
    const line = JSON.stringify({ level: 30, time: 0, partitions: [0, 1, 2], revoked: [], note: 'two words', version: 1, msg: 'partitions assigned to member 1' });
    expect(formatLogLine(line, plain)).toBe('00:00:00.000  INFO   partitions assigned to member 1  partitions=0,1,2 revoked="" note="two words" version=1\n');
  });

  it('colours warnings and errors only when asked', () => {
    const warn = JSON.stringify({ level: 40, time: 0, msg: 'w' });
    expect(formatLogLine(warn, { colour: true, clock })).toBe('00:00:00.000  \u001b[33mWARN \u001b[0m  w\n');
    expect(formatLogLine(JSON.stringify({ level: 30, time: 0, msg: 'i' }), { colour: true, clock })).toBe('00:00:00.000  INFO   i\n');
  });

  it('passes a line that is not JSON through', () => {
    expect(formatLogLine('plain text', plain)).toBe('plain text\n');
  });

  it('uses local time of day by default', () => {
    const time = new Date(2026, 11, 3, 9, 5, 7, 42);
    expect(formatLogLine(JSON.stringify({ level: 30, time: time.toISOString(), msg: 'm' }), { colour: false })).toBe('09:05:07.042  INFO   m\n');
  });
});

describe('createLogger', () => {
  function capture(): { out: Writable; text: () => string } {
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    return { out, text: () => text };
  }

  it('writes JSON when stdout is not a terminal', () => {
    const { out, text } = capture();
    createLogger('info', { out, readable: false }).info({ port: 9201 }, 'listening');
    expect(JSON.parse(text())).toMatchObject({ level: 30, service: 'k8s-expenses', port: 9201, msg: 'listening' });
  });

  it('writes sentences when asked for readable lines', () => {
    const { out, text } = capture();
    createLogger('info', { out, readable: true }).warn({ port: 9201 }, 'listening');
    expect(text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}(\u001b\[33m)?WARN (\u001b\[0m)? {2}listening {2}port=9201\n$/);
  });
});
