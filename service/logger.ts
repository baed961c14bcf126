// The service's logger: pino's JSON on stdout for machines (log collectors, `| jq`), and the same
// lines as readable sentences when stdout is a terminal (service/log-format.ts), so a first
// `npm start` reads like text. NO_COLOR (https://no-color.org) turns the level colours off.
import { pino, type DestinationStream, type Logger } from 'pino';
import { formatLogLine } from './log-format.ts';

export interface LoggerOptions {
  /** Readable lines instead of JSON (default: when stdout is a terminal). */
  readable?: boolean;
  /** Where lines go (default: stdout). */
  out?: NodeJS.WritableStream;
}

export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const out = options.out ?? process.stdout;
  const readable = options.readable ?? (out === process.stdout && process.stdout.isTTY === true);
  const settings = { level, base: { service: 'k8s-expenses' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (!readable) return options.out ? pino(settings, out as DestinationStream) : pino(settings);
  const colour = process.env.NO_COLOR === undefined || process.env.NO_COLOR === '';
  // A terminal that closed fails every write (EIO); the service stops on the SIGHUP that comes with
  // it (service/main.ts) and has no one left to tell.
  out.on('error', () => undefined);
  // A terminal is written synchronously by Node, so nothing is lost when the process exits.
  const destination: DestinationStream = { write: (line: string) => void out.write(formatLogLine(line, { colour })) };
  return pino(settings, destination);
}
