import { describe, expect, it } from 'vitest';
import { clientLogOption } from '../../../../processor/clickhouse/client-log.ts';

function recorder() {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe("the ClickHouse client's log option", () => {
  it("turns the client's error block into one warning line of the service log, once per cause", () => {
    const { lines, log } = recorder();
    const option = clientLogOption(log);
    const logger = new option.LoggerClass!();
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 5; i++) {
      logger.error({ module: 'Connection', message: 'Query: HTTP request error.', args: { operation: 'Query', query_id: `q${i}`, connection_id: 'c' }, err });
    }
    expect(lines).toEqual([
      {
        level: 'warn',
        obj: { component: 'clickhouse-client', module: 'Connection', operation: 'Query', query_id: 'q0', error: 'connect ECONNREFUSED 127.0.0.1:1' },
        msg: 'ClickHouse client: Query: HTTP request error.',
      },
    ]);
  });

  it('keeps the client to warnings and above, and its debug messages at debug', () => {
    const { lines, log } = recorder();
    const option = clientLogOption(log);
    expect(option.level).toBe(3); // ClickHouseLogLevel.WARN
    new option.LoggerClass!().debug({ module: 'Client', message: 'request sent' });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([['debug', 'ClickHouse client: request sent']]);
  });
});
