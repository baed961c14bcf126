// The logging the components need; a pino Logger satisfies it, and so does a command-line tool's
// stderr writer (cli/cli-log.ts).
export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
