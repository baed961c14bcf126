// For command-line tools: warnings and errors as one readable line on stderr, the rest dropped.
import type { Log } from '../core/log.ts';

export const cliLog: Log = {
  debug() {},
  info() {},
  warn: (obj, msg) => process.stderr.write(`warning: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`error: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
};
