// One error model for the whole service. Every error raised on purpose is a ServiceError with:
//   code       a stable kebab-case identifier: metrics, logs, HTTP answers and the README's tables
//              use it, so it never changes once released;
//   retriable  whether repeating the same operation later may succeed (a broker that is down, a
//              server that is overloaded), as opposed to a request, a schema or a configuration
//              that has to change first;
//   cause      the error that led to it, when there is one.
// Anything that is not a ServiceError is unexpected: it is reported as `internal` and never retried.

export interface ServiceErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class ServiceError extends Error {
  override name = 'ServiceError';
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: ServiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** The code an error is reported under: its own for a ServiceError, `internal` for anything else. */
export function errorCode(err: unknown): string {
  return err instanceof ServiceError ? err.code : 'internal';
}

/** Whether repeating the operation that failed with `err` may succeed. Unexpected errors are not retried. */
export function isRetriable(err: unknown): boolean {
  return err instanceof ServiceError && err.retriable;
}

/** The message of any thrown value, for logs and answers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
