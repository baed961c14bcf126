// Label helpers over a DecodedWrite, working on the bytes of the decompressed body.
//
// Validation and lookups compare bytes and never build strings; strings are created only by
// labelName/labelValue and for the `detail` of a problem.
//
// Validation rules (validateSeries), in the spirit of Cortex/Mimir's distributor:
// - at most maxLabelsPerSeries labels; a `__name__` label with a non-empty value;
// - label names non-empty, at most maxLabelNameBytes, matching [a-zA-Z_][a-zA-Z0-9_]*;
// - label values at most maxLabelValueBytes and valid UTF-8 (RFC 3629: no overlong forms, no
//   surrogates, nothing above U+10FFFF). Empty values are allowed (Prometheus treats them as absent);
// - no duplicate label names, also when the labels are not sorted;
// - labels sorted by name (bytewise, as Go compares strings). Prometheus always sends sorted labels
//   and Cortex and Mimir reject unsorted ones ("labels not sorted"), so unsorted labels are
//   rejected by default; `allowUnsortedLabels: true` accepts them (duplicates are still caught).

import type { DecodedWrite } from './decoded-write.ts';

export interface LabelLimits {
  readonly maxLabelsPerSeries: number;
  readonly maxLabelNameBytes: number;
  readonly maxLabelValueBytes: number;
  /** Accept series whose labels are not sorted by name (default false: reject). */
  readonly allowUnsortedLabels?: boolean;
}

type LabelProblemReason =
  | 'missing_metric_name'
  | 'empty_label_name'
  | 'duplicate_label_name'
  | 'unsorted_labels'
  | 'invalid_label_name'
  | 'too_many_labels'
  | 'label_name_too_long'
  | 'label_value_too_long'
  | 'invalid_utf8';

interface LabelProblem {
  readonly reason: LabelProblemReason;
  /** Human-readable, includes the (truncated) series. */
  readonly detail: string;
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of a string (for building the `nameBytes` argument of findLabel once). */
export function utf8Bytes(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** The string of bytes [off, off+len) (invalid UTF-8 becomes U+FFFD). */
function bytesToString(bytes: Uint8Array, off: number, len: number): string {
  if (len <= 24) {
    // Short ASCII strings (the common case for label names and many values) without the
    // per-call overhead of TextDecoder.
    let s = '';
    for (let i = off, end = off + len; i < end; i++) {
      const b = bytes[i];
      if (b >= 0x80) return utf8Decoder.decode(bytes.subarray(off, off + len));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8Decoder.decode(bytes.subarray(off, off + len));
}

/** Name of label entry j. */
export function labelName(d: DecodedWrite, j: number): string {
  return bytesToString(d.bytes, d.labelRefs[j * 4], d.labelRefs[j * 4 + 1]);
}

/** Value of label entry j. */
export function labelValue(d: DecodedWrite, j: number): string {
  return bytesToString(d.bytes, d.labelRefs[j * 4 + 2], d.labelRefs[j * 4 + 3]);
}

/** Whether a[aOff, aOff+aLen) and b[bOff, bOff+bLen) hold the same bytes. */
export function bytesEqual(
  a: Uint8Array,
  aOff: number,
  aLen: number,
  b: Uint8Array,
  bOff: number,
  bLen: number,
): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen; i++) {
    if (a[aOff + i] !== b[bOff + i]) return false;
  }
  return true;
}

/** Bytewise (unsigned) comparison, like Go's string comparison: <0, 0 or >0. */
export function compareBytes(
  a: Uint8Array,
  aOff: number,
  aLen: number,
  b: Uint8Array,
  bOff: number,
  bLen: number,
): number {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = a[aOff + i] - b[bOff + i];
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/** Index of the label entry of `series` named `nameBytes` (UTF-8), or -1. */
export function findLabel(d: DecodedWrite, series: number, nameBytes: Uint8Array): number {
  const refs = d.labelRefs;
  const bytes = d.bytes;
  const len = nameBytes.length;
  for (let j = d.labelStart[series], end = d.labelStart[series + 1]; j < end; j++) {
    if (refs[j * 4 + 1] === len && bytesEqual(bytes, refs[j * 4], len, nameBytes, 0, len)) return j;
  }
  return -1;
}

// Character classes for label names: 1 = may start a name, 2 = may continue it.
const NAME_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/[a-zA-Z_]/.test(ch)) NAME_CHAR[c] = 3;
  else if (/[0-9]/.test(ch)) NAME_CHAR[c] = 2;
}

/** Whether bytes [off, off+len) match [a-zA-Z_][a-zA-Z0-9_]* (non-empty). */
export function isValidLabelName(bytes: Uint8Array, off: number, len: number): boolean {
  if (len === 0 || (NAME_CHAR[bytes[off]] & 1) === 0) return false;
  for (let i = off + 1, end = off + len; i < end; i++) {
    if (NAME_CHAR[bytes[i]] === 0) return false;
  }
  return true;
}

/** DataViews of bodies being validated, for reading 4 bytes at a time (weak: never pins a body). */
const views = new WeakMap<Uint8Array, DataView>();

function viewOf(bytes: Uint8Array): DataView {
  let v = views.get(bytes);
  if (v === undefined) {
    v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    views.set(bytes, v);
  }
  return v;
}

/**
 * isValidUtf8 with an ASCII fast path reading 4 bytes at a time through `view` (a DataView of
 * `bytes`): label values are nearly always ASCII, and this halves the cost of validating them.
 */
function isValidUtf8Fast(bytes: Uint8Array, view: DataView, off: number, len: number): boolean {
  const end = off + len;
  let i = off;
  let acc = 0;
  for (; i + 4 <= end; i += 4) acc |= view.getInt32(i, true);
  for (; i < end; i++) acc |= bytes[i];
  return (acc & 0x80808080) === 0 || isValidUtf8(bytes, off, len);
}

/** Whether bytes [off, off+len) are valid UTF-8 (RFC 3629, as Go's utf8.Valid). */
export function isValidUtf8(bytes: Uint8Array, off: number, len: number): boolean {
  let i = off;
  const end = off + len;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b < 0xc2) return false; // continuation byte or overlong 2-byte form
    if (b < 0xe0) {
      if (i + 1 >= end || (bytes[i + 1] & 0xc0) !== 0x80) return false;
      i += 2;
      continue;
    }
    if (b < 0xf0) {
      if (i + 2 >= end) return false;
      const b1 = bytes[i + 1];
      if ((b1 & 0xc0) !== 0x80 || (bytes[i + 2] & 0xc0) !== 0x80) return false;
      if (b === 0xe0 && b1 < 0xa0) return false; // overlong
      if (b === 0xed && b1 > 0x9f) return false; // UTF-16 surrogates
      i += 3;
      continue;
    }
    if (b < 0xf5) {
      if (i + 3 >= end) return false;
      const b1 = bytes[i + 1];
      if ((b1 & 0xc0) !== 0x80 || (bytes[i + 2] & 0xc0) !== 0x80 || (bytes[i + 3] & 0xc0) !== 0x80) return false;
      if (b === 0xf0 && b1 < 0x90) return false; // overlong
      if (b === 0xf4 && b1 > 0x8f) return false; // above U+10FFFF
      i += 4;
      continue;
    }
    return false;
  }
  return true;
}

const METRIC_NAME_LABEL = utf8Bytes('__name__');

function isMetricNameLabel(bytes: Uint8Array, off: number, len: number): boolean {
  return len === 8 && bytesEqual(bytes, off, len, METRIC_NAME_LABEL, 0, 8);
}

/** The series rendered as {name="value", ...}, cut to about maxChars characters (for messages). */
export function formatSeries(d: DecodedWrite, series: number, maxChars = 200): string {
  let s = '{';
  for (let j = d.labelStart[series], end = d.labelStart[series + 1]; j < end; j++) {
    if (s.length > 1) s += ', ';
    s += `${labelName(d, j)}=${JSON.stringify(labelValue(d, j))}`;
    if (s.length > maxChars) return `${s.slice(0, maxChars)}...}`;
  }
  return `${s}}`;
}

function cut(s: string, max = 100): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

function problem(reason: LabelProblemReason, message: string, d: DecodedWrite, series: number): LabelProblem {
  return { reason, detail: `${message}: series ${formatSeries(d, series)}` };
}

/** Checks the labels of one series; returns null when they are acceptable. */
export function validateSeries(d: DecodedWrite, series: number, limits: LabelLimits): LabelProblem | null {
  const refs = d.labelRefs;
  const bytes = d.bytes;
  const view = viewOf(bytes);
  const from = d.labelStart[series];
  const to = d.labelStart[series + 1];
  const count = to - from;
  if (count > limits.maxLabelsPerSeries) {
    return problem('too_many_labels', `${count} labels, more than the limit of ${limits.maxLabelsPerSeries}`, d, series);
  }

  let hasMetricName = false;
  let unsorted = false;
  let prevOff = 0;
  let prevLen = 0;
  for (let j = from; j < to; j++) {
    const nameOff = refs[j * 4];
    const nameLen = refs[j * 4 + 1];
    const valueOff = refs[j * 4 + 2];
    const valueLen = refs[j * 4 + 3];
    if (nameLen === 0) {
      return problem('empty_label_name', 'empty label name', d, series);
    }
    if (nameLen > limits.maxLabelNameBytes) {
      return problem('label_name_too_long', `label name ${JSON.stringify(cut(labelName(d, j)))} is ${nameLen} bytes, more than the limit of ${limits.maxLabelNameBytes}`, d, series);
    }
    if (!isValidLabelName(bytes, nameOff, nameLen)) {
      return problem('invalid_label_name', `invalid label name ${JSON.stringify(cut(labelName(d, j)))}`, d, series);
    }
    if (valueLen > limits.maxLabelValueBytes) {
      return problem('label_value_too_long', `value of label ${labelName(d, j)} is ${valueLen} bytes, more than the limit of ${limits.maxLabelValueBytes}`, d, series);
    }
    if (!isValidUtf8Fast(bytes, view, valueOff, valueLen)) {
      return problem('invalid_utf8', `value of label ${labelName(d, j)} is not valid UTF-8`, d, series);
    }
    if (isMetricNameLabel(bytes, nameOff, nameLen)) {
      if (valueLen === 0) return problem('missing_metric_name', 'empty metric name (__name__)', d, series);
      hasMetricName = true;
    }
    if (j > from) {
      const cmp = compareBytes(bytes, prevOff, prevLen, bytes, nameOff, nameLen);
      if (cmp === 0) {
        return problem('duplicate_label_name', `duplicate label name ${labelName(d, j)}`, d, series);
      }
      if (cmp > 0) unsorted = true;
    }
    prevOff = nameOff;
    prevLen = nameLen;
  }

  if (unsorted) {
    // Duplicates need not be adjacent when the labels are not sorted.
    for (let a = from; a < to; a++) {
      for (let b = a + 1; b < to; b++) {
        if (bytesEqual(bytes, refs[a * 4], refs[a * 4 + 1], bytes, refs[b * 4], refs[b * 4 + 1])) {
          return problem('duplicate_label_name', `duplicate label name ${labelName(d, b)}`, d, series);
        }
      }
    }
    if (limits.allowUnsortedLabels !== true) {
      return problem('unsorted_labels', 'labels not sorted by name', d, series);
    }
  }
  if (!hasMetricName) {
    return problem('missing_metric_name', 'no metric name (__name__ label)', d, series);
  }
  return null;
}
