// Building blocks of the configuration slices: every component declares the environment variables
// it reads as a zod shape made of these fields (receiver/config.ts, ingest/config.ts, ...), and
// service/config.ts composes the slices into one schema, validated and frozen before anything
// connects. A bad value is a ConfigError naming the variable and what it expects.
import { z } from 'zod';
import { ServiceError } from './errors.ts';

/** A configuration mistake: start-up stops with exit code 2 and this message, which names the variable. */
export class ConfigError extends ServiceError {
  override name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', message, options);
  }
}

/** A listen failure that names the variable to change, e.g. `SQL_PORT=9202: address already in use`. */
export function listenError(err: unknown, variable: string, port: number): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') return new ConfigError(`${variable}=${port}: the port is already in use; stop what listens there or choose another ${variable}`);
  if (code === 'EACCES') return new ConfigError(`${variable}=${port}: not allowed to listen on this port`);
  return err;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "60s", "5m", "3h", "7d", or a bare number of milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS_MS[m[2] ?? 'ms']);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "16MiB", "512KiB", "1MB", or a bare number of bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2].toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

export const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as 250ms, 60s, 5m or 3h, got "${v}"` });
        return z.NEVER;
      }
      return ms;
    });

export const size = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const bytes = parseSize(v);
      if (bytes === undefined || bytes <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected a size such as 16MiB, 512KiB or 1000000, got "${v}"` });
        return z.NEVER;
      }
      return bytes;
    });

export const int = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ message: 'expected an integer' })
    .int({ message: 'expected an integer' })
    .min(min, { message: `expected at least ${min}` })
    .max(max, { message: `expected at most ${max}` })
    .default(fallback);

export const price = (fallback: number) =>
  z.coerce.number({ message: 'expected a price in dollars' }).min(0, { message: 'expected a price >= 0' }).default(fallback);

export const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const identifier = (fallback: string, what: string) =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: `expected ${what}` }).default(fallback);

/** A shape of variables: the unit every component declares. */
export type ConfigShape = Record<string, z.ZodType>;

/** The parsed values of a shape. */
export type ConfigOf<Shape extends ConfigShape> = Readonly<z.output<z.ZodObject<Shape>>>;
