// Pod labels and service selectors from kube_pod_labels / service_selector_labels present in the
// hour. Both kube-state-metrics and the cost exporter send kube_pod_labels, often with different
// label sets (kube-state-metrics only sends allow-listed labels), so the sets are united.
import { parseLabelSet } from './label-sets.ts';

export interface LabelSetSeen {
  /** Canonical label set string (label-sets.ts labelSetOf). */
  set: string;
  /** Last sample of the series in the hour. */
  lastSeen: number;
}

/**
 * The union of label sets, keys sorted. Where two sets disagree on a key, the newer series wins
 * (a label changed during the hour), then the greater value, so arrival order never matters.
 */
export function uniteLabelSets(sets: readonly LabelSetSeen[]): Record<string, string> {
  const chosen = new Map<string, { value: string; lastSeen: number }>();
  for (const { set, lastSeen } of sets) {
    for (const [key, value] of parseLabelSet(set)) {
      const prev = chosen.get(key);
      if (prev === undefined || lastSeen > prev.lastSeen || (lastSeen === prev.lastSeen && value > prev.value)) {
        chosen.set(key, { value, lastSeen });
      }
    }
  }
  const out: Record<string, string> = {};
  for (const key of [...chosen.keys()].sort()) out[key] = chosen.get(key)!.value;
  return out;
}

/** A selector selects a pod when every selector label has the same value on the pod. */
export function selects(selector: Readonly<Record<string, string>>, podLabels: Readonly<Record<string, string>>): boolean {
  for (const key of Object.keys(selector)) {
    if (podLabels[key] !== selector[key]) return false;
  }
  return true;
}
