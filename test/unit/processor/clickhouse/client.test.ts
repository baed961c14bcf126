import { describe, expect, it } from 'vitest';
import { ClickHouseOpenError, createServerClient, loadChdb, redactUrl } from '../../../../processor/clickhouse/client.ts';
import { isRetriable } from '../../../../processor/clickhouse/errors.ts';

describe('loadChdb', () => {
  it('says how to get the embedded engine when chdb is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find package 'chdb'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const err = await loadChdb(async () => {
      throw missing;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseOpenError);
    expect((err as Error).message).toMatch(/install it with `npm install chdb`, or set CLICKHOUSE_URL/);
    expect((err as Error).cause).toBe(missing);
  });

  it('reports a chdb that fails to load', async () => {
    await expect(
      loadChdb(async () => {
        throw new Error('libchdb.so: cannot open shared object file');
      }),
    ).rejects.toThrow(/failed to load: libchdb\.so.*set CLICKHOUSE_URL/);
  });

  it('finds createChdbConnection on the module or its default export', async () => {
    const createChdbConnection = () => ({}) as never;
    await expect(loadChdb(async () => ({ createChdbConnection }))).resolves.toEqual({ createChdbConnection });
    await expect(loadChdb(async () => ({ default: { createChdbConnection } }))).resolves.toEqual({ createChdbConnection });
    await expect(loadChdb(async () => ({}))).rejects.toThrow(/no createChdbConnection/);
  });
});

describe('createServerClient', () => {
  it('creates a client that does not connect until asked, and reports an unreachable server as a passing condition', async () => {
    const client = createServerClient({ CLICKHOUSE_URL: 'http://127.0.0.1:1', CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: 'k8s' }, { scoped: true });
    try {
      const answer = await client.ping();
      expect(answer.success).toBe(false);
      // Connection refused: worth waiting for (a server still starting), never a permanent failure.
      expect(answer.success ? undefined : isRetriable(answer.error)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('redactUrl', () => {
  it('drops credentials', () => {
    expect(redactUrl('https://user:secret@ch.example:8443/')).toBe('https://ch.example:8443/');
    expect(redactUrl('not a url')).toBe('(invalid URL)');
  });
});
