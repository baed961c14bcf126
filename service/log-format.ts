// Log lines for a person at a terminal. The service logs JSON (pino) for machines; when stdout is a
// terminal, each line is rewritten as one sentence: local time, level name, the message, and the
// few fields the message does not already say (the component, the error, a count), e.g.
//
//   16:34:28.245  WARN  cannot reach Kafka 127.0.0.1:1 (KAFKA_BROKERS) yet: ...  component=kafka-publisher attempt=3
//
// Written here rather than taken from a package: it is one function over pino's output.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 40: '\u001b[33m', 50: '\u001b[31m', 60: '\u001b[31;1m' };
const RESET = '\u001b[0m';

/** Fields every line has, or that say nothing to a reader. */
const HIDDEN = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'reqId']);
/** Longest field value shown; a stack or a large object belongs in the JSON log. */
const MAX_VALUE = 120;

export interface LogFormatOptions {
  colour: boolean;
  /** Formats the time; local time of day by default. */
  clock?: (time: Date) => string;
}

function timeOfDay(time: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`;
}

function errorText(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return err === undefined ? undefined : String(err);
  const { message, code } = err as { message?: unknown; code?: unknown };
  if (typeof message !== 'string') return undefined;
  return code !== undefined && !message.includes(String(code)) ? `${message} (${String(code)})` : message;
}

function valueText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null);
  const text = list ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (text.length > MAX_VALUE || text.includes('\n')) return undefined;
  return /\s/.test(text) || text === '' ? JSON.stringify(text) : text;
}

/** One pino JSON line as one readable line (with its newline); a line that is not JSON passes as is. */
export function formatLogLine(line: string, options: LogFormatOptions): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const name = (LEVELS[level] ?? String(level)).padEnd(5);
  const time = typeof entry.time === 'string' || typeof entry.time === 'number' ? new Date(entry.time) : new Date();
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (HIDDEN.has(key)) continue;
    const text = key === 'err' ? errorText(value) : valueText(value);
    // What the message already says is not repeated (short values could match by chance).
    const said = (t: string) => t.length >= 4 && msg.includes(t);
    if (text === undefined || said(String(value)) || (key === 'err' && said(text))) continue;
    fields.push(key === 'err' ? `error=${JSON.stringify(text)}` : `${key}=${text}`);
  }
  const clock = options.clock ?? timeOfDay;
  const label = options.colour && COLOURS[level] ? `${COLOURS[level]}${name}${RESET}` : name;
  const rest = fields.length > 0 ? `  ${fields.join(' ')}` : '';
  return `${clock(time)}  ${label}  ${msg}${rest}\n`;
}
