// The Prometheus text exposition format (version 0.0.4): rendering what an exporter serves, and
// parsing it back the way a scraper does. Only what exporters of cost series use: gauges and
// counters, HELP and TYPE lines, optional timestamps; no exemplars, no OpenMetrics.

export type MetricType = 'gauge' | 'counter' | 'untyped';

export interface Family {
  help: string;
  type: 'gauge' | 'counter';
}

export interface ExporterSeries {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carried a timestamp. */
  timestampMs?: number;
}

export interface ParsedExposition {
  samples: ParsedSample[];
  /** TYPE lines, by metric name. */
  types: Map<string, MetricType>;
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Series grouped by name (in order of first appearance), each family with its HELP and TYPE. */
export function renderExposition(series: readonly ExporterSeries[], families: Readonly<Record<string, Family>>): string {
  const byName = new Map<string, ExporterSeries[]>();
  for (const s of series) {
    let list = byName.get(s.name);
    if (!list) byName.set(s.name, (list = []));
    list.push(s);
  }
  let out = '';
  for (const [name, list] of byName) {
    const family = families[name];
    if (family) out += `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n`;
    for (const s of list) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
      out += `${name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

export class ExpositionParseError extends Error {
  override readonly name = 'ExpositionParseError';
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: number): number {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) throw new ExpositionParseError(`line ${line}: "${text}" is not a sample value`);
  return v;
}

/** Parses `name{a="x",b="y"} value [timestamp]` starting at the beginning of `text`. */
function parseSampleLine(text: string, line: number): ParsedSample {
  const nameMatch = NAME.exec(text);
  if (!nameMatch) throw new ExpositionParseError(`line ${line}: expected a metric name`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (text[i] === '{') {
    i++;
    for (;;) {
      while (text[i] === ' ') i++;
      if (text[i] === '}') {
        i++;
        break;
      }
      const labelMatch = LABEL_NAME.exec(text.slice(i));
      if (!labelMatch) throw new ExpositionParseError(`line ${line}: expected a label name at column ${i + 1}`);
      const labelName = labelMatch[0];
      i += labelName.length;
      while (text[i] === ' ') i++;
      if (text[i] !== '=' || text[i + 1] !== '"') throw new ExpositionParseError(`line ${line}: expected ="..." after label ${labelName}`);
      i += 2;
      let value = '';
      for (;;) {
        const c = text[i];
        if (c === undefined) throw new ExpositionParseError(`line ${line}: unterminated value of label ${labelName}`);
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const e = text[i++];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new ExpositionParseError(`line ${line}: invalid escape \\${e ?? ''} in label ${labelName}`);
        } else {
          value += c;
        }
      }
      if (Object.hasOwn(labels, labelName)) throw new ExpositionParseError(`line ${line}: label ${labelName} appears twice`);
      labels[labelName] = value;
      while (text[i] === ' ') i++;
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new ExpositionParseError(`line ${line}: expected , or } after label ${labelName}`);
    }
  }
  const rest = text.slice(i).trim().split(/[ \t]+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new ExpositionParseError(`line ${line}: expected a value and an optional timestamp`);
  const sample: ParsedSample = { name, labels, value: parseValue(rest[0], line) };
  if (rest.length === 2) {
    const ts = Number(rest[1]);
    if (!Number.isInteger(ts)) throw new ExpositionParseError(`line ${line}: "${rest[1]}" is not a timestamp in milliseconds`);
    sample.timestampMs = ts;
  }
  return sample;
}

/** Parses a whole exposition; throws an ExpositionParseError naming the line of the first problem. */
export function parseExposition(text: string): ParsedExposition {
  const samples: ParsedSample[] = [];
  const types = new Map<string, MetricType>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].endsWith('\r') ? lines[n].slice(0, -1) : lines[n];
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (m) {
        const type = m[2];
        types.set(m[1], type === 'gauge' || type === 'counter' ? type : 'untyped');
      }
      continue; // HELP and comments
    }
    samples.push(parseSampleLine(line, n + 1));
  }
  return { samples, types };
}
