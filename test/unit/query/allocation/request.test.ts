import { describe, expect, it } from 'vitest';
import { ReadError, errorAnswer } from '../../../../query/errors.ts';
import { parseAllocationRequest, type QueryParameters } from '../../../../query/allocation/request.ts';

const NOW = Date.UTC(2024, 4, 15, 13, 37);
const HOUR = 3_600_000;
const parse = (query: QueryParameters, maxSets = 1000) => parseAllocationRequest(query, NOW, maxSets);

function refusal(query: QueryParameters, maxSets = 1000): { status: number; code: string; message: string } {
  try {
    parse(query, maxSets);
  } catch (err) {
    expect(err).toBeInstanceOf(ReadError);
    return errorAnswer(err);
  }
  throw new Error('expected a refusal');
}

describe('parseAllocationRequest', () => {
  it("uses OpenCost's defaults", () => {
    const r = parse({ window: '24h' });
    expect(r).toMatchObject({
      window: { start: Date.UTC(2024, 4, 14, 14), end: Date.UTC(2024, 4, 15, 14) },
      stepMs: 24 * HOUR,
      accumulate: false,
      includeIdle: false,
      shareIdle: false,
      idleByNode: false,
      sharedNamespaces: [],
      split: 'weighted',
      filter: { type: 'all' },
      format: 'json',
    });
    expect(r.aggregate.map((p) => p.kind)).toEqual(['cluster', 'node', 'namespace', 'pod']);
  });

  it('reads every parameter', () => {
    const r = parse({
      window: '2024-05-01T00:00:00Z,2024-05-03T00:00:00Z',
      step: '1d',
      aggregate: 'namespace,label:team',
      includeIdle: 'true',
      shareIdle: '1',
      idleByNode: 'T',
      shareNamespaces: 'kube-system, monitoring,,',
      shareSplit: 'even',
      filter: 'cluster:"prod"',
      format: 'csv',
      resolution: '1m',
      shareTenancyCosts: 'true',
    });
    expect(r).toMatchObject({
      stepMs: 24 * HOUR,
      includeIdle: true,
      shareIdle: true,
      idleByNode: true,
      sharedNamespaces: ['kube-system', 'monitoring'],
      split: 'even',
      format: 'csv',
      filter: { type: 'compare', field: 'cluster', value: 'prod' },
    });
    expect(r.aggregate).toEqual([{ kind: 'namespace' }, { kind: 'label', label: 'team' }]);
  });

  it('widens the window to whole hours', () => {
    expect(parse({ window: '30m' }).window).toEqual({ start: Date.UTC(2024, 4, 15, 13), end: Date.UTC(2024, 4, 15, 14) });
  });

  it('reads idle as includeIdle, and accumulate=all or accumulateBy=all as accumulate', () => {
    expect(parse({ window: '1d', idle: 'true' }).includeIdle).toBe(true);
    expect(parse({ window: '1d', accumulate: 'all' }).accumulate).toBe(true);
    expect(parse({ window: '1d', accumulateBy: 'all' }).accumulate).toBe(true);
    expect(parse({ window: '1d', accumulate: 'true', accumulateBy: 'none' }).accumulate).toBe(false);
  });

  it.each([
    [{}, 'window: required, e.g. window=7d'],
    [{ window: ['1d', '2d'] }, 'window: given more than once'],
    [{ window: 'forever' }, 'window: "forever" is not a window: use today'],
    [{ window: '1d', step: '30m' }, 'step: 30m is not a whole number of hours: rows are hourly'],
    [{ window: '1d', includeIdle: 'yes' }, 'includeIdle: "yes" is not true or false'],
    [{ window: '1d', shareIdle: 'weighted' }, 'shareIdle: "weighted" is not true or false'],
    [{ window: '1d', shareSplit: 'proportional' }, 'shareSplit: "proportional" is not weighted or even'],
    [{ window: '1d', shareNamespaces: 'kube-system,__idle__' }, 'shareNamespaces: __idle__ is not a namespace: use shareIdle=true'],
    [{ window: '1d', aggregate: 'container' }, 'aggregate: "container" is not supported'],
    [{ window: '1d', filter: 'namespace:kube-system' }, 'filter: at position 11: expected a quoted value'],
    [{ window: '1d', format: 'xml' }, 'format: "xml" is not csv or json'],
    [{ window: '1d', shareLabels: 'team:a' }, 'shareLabels: not supported'],
    [{ window: '1d', shareCost: '10' }, 'shareCost: not supported'],
    [{ window: '1d', accumulateBy: 'day' }, 'accumulateBy: only all or none'],
    [{ window: '1970-01-01T00:00:00Z,2200-01-01T00:00:00Z' }, 'window: outside the years 1970 to 2106'],
  ])('refuses %j with a 400 naming the parameter', (query, message) => {
    const answer = refusal(query);
    expect(answer.status).toBe(400);
    expect(answer.code).toBe('bad-parameter');
    expect(answer.message.startsWith(message)).toBe(true);
  });

  it('refuses more sets than allowed, naming step', () => {
    const answer = refusal({ window: '7d', step: '1h' }, 100);
    expect(answer.message).toBe('step: 168 sets of 1h are more than the 100 allowed: use a longer step or a shorter window');
  });
});
