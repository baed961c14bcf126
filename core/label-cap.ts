// Keeps a metric label's values bounded whatever the traffic: the first `max` distinct values keep
// their own series, any later one is reported as `other`. Without it, a sender inventing tenant
// headers or cluster names would grow /metrics (and the scraper's memory) without limit. Values
// known in advance (the tenants of the tenants file) always keep their own series.

export const OTHER_LABEL_VALUE = 'other';

export interface LabelCap {
  /** The label value to record for `value`. */
  (value: string): string;
  /** Distinct values that kept their own series. */
  readonly size: number;
}

export function createLabelCap(max: number, known: Iterable<string> = []): LabelCap {
  const known_ = new Set(known);
  const seen = new Set<string>();
  const cap = ((value: string): string => {
    if (known_.has(value) || seen.has(value)) return value;
    if (seen.size >= max) return OTHER_LABEL_VALUE;
    seen.add(value);
    return value;
  }) as LabelCap;
  Object.defineProperty(cap, 'size', { get: () => known_.size + seen.size });
  return cap;
}
