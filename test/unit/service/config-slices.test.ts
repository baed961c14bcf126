// The slices that catch the start-up mistakes newcomers make most: a ClickHouse URL without its
// scheme, a Kafka broker with one, a retention ClickHouse cannot parse.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ingestConfigShape } from '../../../ingest/config.ts';
import { clickHouseConfigShape } from '../../../processor/clickhouse/config.ts';
import { ConfigError, loadConfig } from '../../../service/config.ts';

const clickhouse = z.object(clickHouseConfigShape);
const ingest = z.object(ingestConfigShape);

function issue(schema: z.ZodType, input: Record<string, string>): string | undefined {
  const result = schema.safeParse(input);
  return result.success ? undefined : result.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
}

describe('CLICKHOUSE_URL', () => {
  it.each(['http://clickhouse:8123', 'https://ch.example.com:8443/', 'http://user:pw@127.0.0.1:8123'])('accepts %s', (url) => {
    expect(clickhouse.parse({ CLICKHOUSE_URL: url }).CLICKHOUSE_URL).toBe(url);
  });

  it.each(['localhost:8123', 'clickhouse:8123', 'tcp://clickhouse:9000', 'ftp://x', 'http://', '8123'])('refuses %s, asking for an http(s) URL', (url) => {
    expect(issue(clickhouse, { CLICKHOUSE_URL: url })).toBe(`CLICKHOUSE_URL: expected an http:// or https:// URL such as http://clickhouse:8123, got "${url}"`);
  });

  it('unset or blank selects the embedded engine', () => {
    expect(clickhouse.parse({}).CLICKHOUSE_URL).toBeUndefined();
    expect(clickhouse.parse({ CLICKHOUSE_URL: '  ' }).CLICKHOUSE_URL).toBeUndefined();
  });
});

describe('KAFKA_BROKERS', () => {
  it('splits and trims a list of host:port pairs', () => {
    expect(ingest.parse({ KAFKA_BROKERS: 'kafka-0:9092, kafka-1:9092,[::1]:9093,10.0.0.1:19092' }).KAFKA_BROKERS).toEqual([
      'kafka-0:9092',
      'kafka-1:9092',
      '[::1]:9093',
      '10.0.0.1:19092',
    ]);
  });

  it.each([
    ['http://x:9092', '"http://x:9092"'],
    ['kafka:9092,PLAINTEXT://kafka-1:9092', '"PLAINTEXT://kafka-1:9092"'],
    ['kafka', '"kafka"'],
    ['kafka:port', '"kafka:port"'],
    [',', 'nothing'],
  ])('refuses %s, naming the bad entries', (value, named) => {
    expect(issue(ingest, { KAFKA_BROKERS: value })).toBe(
      `KAFKA_BROKERS: expected comma-separated host:port pairs such as kafka-0:9092,kafka-1:9092 (no scheme), got ${named}`,
    );
  });
});

describe('CLICKHOUSE_TTL', () => {
  it.each(['395 DAY', '13 MONTH', '2 year', '52 WEEK'])('accepts %s', (ttl) => {
    expect(clickhouse.parse({ CLICKHOUSE_TTL: ttl }).CLICKHOUSE_TTL).toBe(ttl);
  });

  it.each(['forever', '395', 'DAY', '395 DAYS; DROP TABLE x', '-1 DAY'])('refuses %s', (ttl) => {
    expect(issue(clickhouse, { CLICKHOUSE_TTL: ttl })).toBe(
      `CLICKHOUSE_TTL: expected a number and DAY, WEEK, MONTH or YEAR, such as "395 DAY" (unset keeps rows forever), got "${ttl}"`,
    );
  });
});

describe('CLICKHOUSE_CLUSTER', () => {
  it('unset is one server; a name is the cluster, with a server URL', () => {
    expect(loadConfig({}).CLICKHOUSE_CLUSTER).toBeUndefined();
    expect(loadConfig({ CLICKHOUSE_CLUSTER: ' finops-eu ', CLICKHOUSE_URL: 'http://ch:8123' }).CLICKHOUSE_CLUSTER).toBe('finops-eu');
  });

  it('refuses a name that is not one', () => {
    expect(issue(clickhouse, { CLICKHOUSE_CLUSTER: 'fin ops' })).toMatch(/^CLICKHOUSE_CLUSTER: expected a cluster name of letters, digits, _ and -/);
  });

  it('needs CLICKHOUSE_URL: the embedded engine is one server', () => {
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'finops' })).toThrow(/CLICKHOUSE_CLUSTER="finops": needs CLICKHOUSE_URL/);
  });
});

describe('loadConfig', () => {
  it('names every bad variable in one ConfigError, with the value given', () => {
    let error: unknown;
    try {
      loadConfig({ CLICKHOUSE_URL: 'localhost:8123', KAFKA_BROKERS: 'http://x:9092', CLICKHOUSE_TTL: 'forever' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('invalid configuration:');
    expect(lines.slice(1).map((l) => l.trim().split(':')[0].split('=')[0]).sort()).toEqual(['CLICKHOUSE_TTL', 'CLICKHOUSE_URL', 'KAFKA_BROKERS']);
    expect(lines).toContain('  CLICKHOUSE_URL="localhost:8123": expected an http:// or https:// URL such as http://clickhouse:8123, got "localhost:8123"');
  });
});

describe('ROLE and the read side', () => {
  it('ROLE=query without CLICKHOUSE_URL stops start-up naming both', () => {
    expect(() => loadConfig({ ROLE: 'query' })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLE: 'query' })).toThrow(/ROLE="query": ROLE=query needs CLICKHOUSE_URL: the embedded engine can be read only by the process that owns it/);
    expect(loadConfig({ ROLE: 'query', CLICKHOUSE_URL: 'http://clickhouse:8123' }).ROLE).toBe('query');
  });

  it('names the roles it knows', () => {
    expect(() => loadConfig({ ROLE: 'reader' })).toThrow(/ROLE="reader": expected all, receiver, processor or query/);
  });

  it.each([
    ['QUERY_TIMEOUT', '500ms', /whole seconds, at least 1s/],
    ['QUERY_TIMEOUT', '1500ms', /whole seconds/],
    ['QUERY_MAX_MEMORY', 'lots', /expected a size/],
    ['QUERY_MAX_RESULT_ROWS', '0', /at least 1/],
    ['QUERY_CONCURRENCY', '0', /at least 1/],
    ['SQL_TOKEN', 'short', /16 to 200 printable characters/],
    ['SQL_TOKEN', 'has a space in it, sixteen+', /16 to 200 printable characters/],
  ])('refuses %s=%s', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('has defaults that work locally', () => {
    const c = loadConfig({});
    expect([c.QUERY_TIMEOUT, c.QUERY_MAX_MEMORY, c.QUERY_MAX_RESULT_ROWS, c.QUERY_CONCURRENCY, c.SQL_TOKEN]).toEqual([30_000, 2 * 1024 ** 3, 1_000_000, 4, undefined]);
  });
});
