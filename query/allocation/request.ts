// An allocation request's parameters, checked: every problem is a 400 naming the parameter and why.
// Parameters OpenCost or Kubecost tools send that do not change our numbers (resolution, offset,
// limit, ...) are accepted and ignored; those that would, and that we cannot honour, are refused.
import { HOUR_MS } from '../../core/hours.ts';
import type { ShareSplit } from '../sharing/sharing-sql.ts';
import { IDLE } from '../sharing/sharing-sql.ts';
import { parseAggregate, type AggregateProperty } from './aggregate.ts';
import { badParameter } from '../errors.ts';
import { parseFilter, type FilterNode } from './filter-parse.ts';
import { ParameterError, shorten } from './parameter-error.ts';
import { parseStep, parseWindow, toWholeHours, type TimeWindow } from './window.ts';

export interface AllocationRequest {
  /** Whole hours. */
  window: TimeWindow;
  stepMs: number;
  accumulate: boolean;
  aggregate: AggregateProperty[];
  includeIdle: boolean;
  shareIdle: boolean;
  idleByNode: boolean;
  sharedNamespaces: string[];
  split: ShareSplit;
  filter: FilterNode;
  format: 'json' | 'csv';
}

export type QueryParameters = Record<string, unknown>;

/** Go's strconv.ParseBool, which OpenCost reads its flags with. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Hours are stored as UInt32 epoch seconds. */
const LAST_SECOND = 0xffffffff;
const MAX_SHARED_NAMESPACES = 100;

function text(query: QueryParameters, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badParameter(name, 'given more than once');
  return value;
}

function flag(query: QueryParameters, name: string, fallback: boolean): boolean {
  const value = text(query, name);
  if (value === undefined || value === '') return fallback;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw badParameter(name, `"${shorten(value)}" is not true or false`);
}

/** Runs a parser, turning its ParameterError into a 400 naming the parameter. */
function parsed<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ParameterError) throw badParameter(name, err.message);
    throw err;
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `now`: epoch milliseconds; `maxSets`: how many sets a response may hold. */
export function parseAllocationRequest(query: QueryParameters, now: number, maxSets: number): AllocationRequest {
  const windowText = text(query, 'window');
  if (windowText === undefined || windowText.trim() === '') throw badParameter('window', 'required, e.g. window=7d');
  const window = parsed('window', () => toWholeHours(parseWindow(windowText, now)));
  if (window.start < 0 || window.end / 1000 > LAST_SECOND) throw badParameter('window', 'outside the years 1970 to 2106');

  const stepText = text(query, 'step');
  const stepMs = stepText === undefined || stepText.trim() === '' ? window.end - window.start : parsed('step', () => parseStep(stepText));
  const sets = Math.ceil((window.end - window.start) / stepMs);
  if (sets > maxSets) throw badParameter('step', `${sets} sets of ${stepMs / HOUR_MS}h are more than the ${maxSets} allowed: use a longer step or a shorter window`);

  // Newer OpenCost versions also take accumulate=all and accumulateBy=all|none.
  const accumulateBy = text(query, 'accumulateBy');
  const accumulate = accumulateBy === 'all' || (accumulateBy !== 'none' && (text(query, 'accumulate') === 'all' || flag(query, 'accumulate', false)));

  const split = text(query, 'shareSplit') ?? 'weighted';
  if (split !== 'weighted' && split !== 'even') throw badParameter('shareSplit', `"${shorten(split)}" is not weighted or even`);

  const sharedNamespaces = list(text(query, 'shareNamespaces'));
  if (sharedNamespaces.length > MAX_SHARED_NAMESPACES) throw badParameter('shareNamespaces', `at most ${MAX_SHARED_NAMESPACES} namespaces`);
  if (sharedNamespaces.includes(IDLE)) throw badParameter('shareNamespaces', `${IDLE} is not a namespace: use shareIdle=true`);

  refuseUnsupported(query);
  const format = text(query, 'format');
  if (format !== undefined && format !== '' && format !== 'csv' && format !== 'json') throw badParameter('format', `"${shorten(format)}" is not csv or json`);

  return {
    window,
    stepMs,
    accumulate,
    aggregate: parsed('aggregate', () => parseAggregate(text(query, 'aggregate'))),
    // `idle` is the older name OpenCost still reads.
    includeIdle: flag(query, 'includeIdle', flag(query, 'idle', false)),
    shareIdle: flag(query, 'shareIdle', false),
    idleByNode: flag(query, 'idleByNode', false),
    sharedNamespaces,
    split,
    filter: parsed('filter', () => parseFilter(text(query, 'filter'))),
    format: format === 'csv' ? 'csv' : 'json',
  };
}

/** Kubecost parameters that would change the numbers if we ignored them. */
function refuseUnsupported(query: QueryParameters): void {
  const shareLabels = text(query, 'shareLabels');
  if (shareLabels !== undefined && shareLabels.trim() !== '') throw badParameter('shareLabels', 'not supported: share namespaces instead (shareNamespaces)');
  const shareCost = text(query, 'shareCost');
  if (shareCost !== undefined && shareCost.trim() !== '' && Number(shareCost) !== 0) throw badParameter('shareCost', 'not supported: fixed shared costs are not configured');
  const accumulateBy = text(query, 'accumulateBy');
  if (accumulateBy !== undefined && accumulateBy.trim() !== '' && accumulateBy !== 'all' && accumulateBy !== 'none') {
    throw badParameter('accumulateBy', 'only all or none: use step for daily or weekly sets');
  }
}
