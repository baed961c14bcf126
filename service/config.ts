// The service's whole configuration: one zod schema over environment variables, validated and
// frozen before anything connects. The README's configuration table is checked against `configDocs`.
import { z } from 'zod';

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

const duration = (fallback: string) =>
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

const size = (fallback: string) =>
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

const int = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ message: 'expected an integer' })
    .int({ message: 'expected an integer' })
    .min(min, { message: `expected at least ${min}` })
    .max(max, { message: `expected at most ${max}` })
    .default(fallback);

const price = (fallback: number) =>
  z.coerce.number({ message: 'expected a price in dollars' }).min(0, { message: 'expected a price >= 0' }).default(fallback);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const regex = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    try {
      // Anchored like Prometheus relabel regexes: the whole metric name must match.
      return new RegExp(`^(?:${v})$`);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `expected a regular expression: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'expected an HTTP header name' })
  .default('Cloud-Account-Id')
  .transform((v) => v.toLowerCase());

const labelName = (fallback: string) =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a Prometheus label name' }).default(fallback);

/** Every variable, its schema, and the one-line description the README table repeats. */
export const configSchema = z.object({
  PORT: int(9201, 0, 65535).describe('HTTP port of the receiver, health, readiness and /metrics'),
  HOST: z.string().default('0.0.0.0').describe('Address the HTTP server binds to'),
  ROLE: z
    .enum(['all', 'receiver', 'processor'], { message: 'expected all, receiver or processor' })
    .default('all')
    .describe('Which parts run in this process: all, receiver or processor'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'expected fatal, error, warn, info, debug, trace or silent' })
    .default('info')
    .describe('pino log level'),
  DATA_DIR: z.string().default('./data').describe('Local state: clickhouse/ (embedded engine) and log/ (embedded record log)'),

  KAFKA_BROKERS: optionalText
    .transform((v) => (v === undefined ? undefined : v.split(',').map((b) => b.trim()).filter(Boolean)))
    .describe('Comma-separated Kafka bootstrap brokers (host:port); unset selects the embedded log'),
  KAFKA_TOPIC: z.string().min(1).default('prometheus-remote-write').describe('Topic carrying remote-write records'),
  KAFKA_GROUP_ID: z.string().min(1).default('k8s-expenses').describe('Consumer group of the processor'),
  KAFKA_CLIENT_ID: z.string().min(1).default('k8s-expenses').describe('Kafka client id'),
  KAFKA_TOPIC_PARTITIONS: int(6, 1, 10_000).describe('Partitions when the topic is created at start-up'),
  KAFKA_REPLICATION_FACTOR: int(-1, -1, 32).describe('Replication factor when the topic is created (-1: the broker default)'),
  KAFKA_PRODUCE_TIMEOUT: duration('10s').describe('Longest a request waits for Kafka acknowledgements before answering 503'),
  KAFKA_RETRIES: int(3, 0, 100).describe('Producer retries within the produce timeout'),
  KAFKA_COMPRESSION: z
    .enum(['none', 'gzip'], { message: 'expected none or gzip' })
    .default('gzip')
    .describe('Compression codec of produced batches'),
  LOG_SEGMENT_BYTES: size('64MiB').describe('Segment size of the embedded log (DATA_DIR/log); fully committed segments are deleted'),
  KAFKA_MAX_RECORD_BYTES: size('900KiB').describe('Largest record value; bigger requests are split (keep under the broker message.max.bytes)'),

  TENANT_HEADER: headerName.describe('Header naming the tenant when no tenants file is configured'),
  TENANTS_FILE: optionalText.describe('JSON file of tenants and their credential hashes; when set every request must authenticate'),
  CLUSTER_LABEL: labelName('cluster_id').describe('Series label naming the cluster (series without it belong to cluster "default")'),

  MAX_REQUEST_BYTES: size('16MiB').describe('Largest compressed request body (413 above)'),
  MAX_DECODED_BYTES: size('64MiB').describe('Largest decompressed request, checked from the snappy header before allocating (413 above)'),
  MAX_LABELS_PER_SERIES: int(40, 1, 1000).describe('Labels per series (the series is rejected above)'),
  MAX_LABEL_NAME_BYTES: int(1024, 1, 65_536).describe('Longest label name in bytes'),
  MAX_LABEL_VALUE_BYTES: int(4096, 1, 1_048_576).describe('Longest label value in bytes'),
  MAX_SAMPLE_FUTURE: duration('10m').describe('Samples further in the future than this are rejected'),
  MAX_INFLIGHT_REQUESTS: int(64, 1, 100_000).describe('Requests processed at once; more answer 503 with Retry-After'),
  MAX_INFLIGHT_BYTES: size('128MiB').describe('Decompressed bytes held by in-flight requests; more answer 503 with Retry-After'),
  TENANT_RATE_LIMIT: z.coerce.number().min(0).default(0).describe('Samples per second per tenant, 0 = off (429 with Retry-After above)'),
  TENANT_RATE_BURST: z.coerce.number().min(0).default(0).describe('Burst of the per-tenant rate limit in samples (0: 10 x the rate)'),
  METRIC_ALLOWLIST: regex.describe('Regex of metric names forwarded to Kafka (unset: all)'),

  CLICKHOUSE_URL: optionalText.describe('ClickHouse server URL (unset: the embedded engine under DATA_DIR/clickhouse)'),
  CLICKHOUSE_USER: z.string().default('default').describe('ClickHouse user'),
  CLICKHOUSE_PASSWORD: z.string().default('').describe('ClickHouse password'),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a database name' }).default('default').describe('ClickHouse database'),
  CLICKHOUSE_TTL: optionalText.describe('Optional retention of k8s_expenses, e.g. "395 DAY" (unset: keep forever)'),
  SQL_HOST: z.string().default('127.0.0.1').describe('Address of the read-only SQL endpoint used by `npm run sql` with the embedded engine'),
  SQL_PORT: int(9202, 0, 65535).describe('Port of the read-only SQL endpoint'),

  HOUR_GRACE: duration('5m').describe('An hour closes when its cluster\'s newest sample passes the hour end plus this'),
  FLUSH_INTERVAL: duration('60s').describe('How often provisional rows of open hours are written'),
  LATE_WINDOW: duration('3h').describe('How long (event time) a closed hour still accepts late samples'),
  IDLE_FINALIZE: duration('30m').describe('Wall-clock time after which hours of a cluster that stopped sending are marked final'),
  MAX_SAMPLE_GAP: duration('5m').describe('Longest interval one sample stands for'),
  DEFAULT_SCRAPE_INTERVAL: duration('60s').describe('Interval a lone sample stands for'),
  DEFAULT_CPU_PRICE: price(0.031611).describe('$ per core-hour when a node has no price'),
  DEFAULT_RAM_PRICE: price(0.004237).describe('$ per GiB-hour when a node has no price'),
  DEFAULT_GPU_PRICE: price(0.95).describe('$ per GPU-hour when a node has no price'),

  SHUTDOWN_TIMEOUT: duration('30s').describe('Longest a graceful shutdown waits for in-flight work'),
  TRUST_PROXY: bool(false).describe('Trust X-Forwarded-* headers from a proxy in front'),
});

/**
 * Limits that only make sense together: one series at its label limits must fit in a record,
 * or a request carrying it could never be published and the sender would retry it for ever.
 */
const checkedSchema = configSchema.superRefine((c, ctx) => {
  const worstSeries = c.MAX_LABELS_PER_SERIES * (c.MAX_LABEL_NAME_BYTES + c.MAX_LABEL_VALUE_BYTES + 10) + 64;
  if (worstSeries > c.KAFKA_MAX_RECORD_BYTES / 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['KAFKA_MAX_RECORD_BYTES'],
      message: `must be at least twice the largest series the label limits allow (${worstSeries} bytes from MAX_LABELS_PER_SERIES x (MAX_LABEL_NAME_BYTES + MAX_LABEL_VALUE_BYTES)); raise it or lower those limits`,
    });
  }
});

export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A listen failure that names the variable to change, e.g. `SQL_PORT=9202: address already in use`. */
export function listenError(err: unknown, variable: string, port: number): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') return new ConfigError(`${variable}=${port}: the port is already in use; stop what listens there or choose another ${variable}`);
  if (code === 'EACCES') return new ConfigError(`${variable}=${port}: not allowed to listen on this port`);
  return err;
}

/** Parses the environment; a bad value throws a ConfigError naming each variable and what it expects. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    // An empty variable means "not set", as in most twelve-factor services.
    input[key] = value === '' ? undefined : value;
  }
  const parsed = checkedSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

/** The default as written in the schema (before parsing), e.g. "5m"; undefined when unset by default. */
function rawDefault(schema: z.ZodType): string | undefined {
  let current: unknown = schema;
  for (let depth = 0; depth < 8 && current; depth++) {
    const def = (current as { _zod?: { def?: { type?: string; defaultValue?: unknown; in?: unknown; innerType?: unknown } } })._zod?.def;
    if (def?.type === 'default') return String(def.defaultValue);
    current = def?.in ?? def?.innerType;
  }
  return undefined;
}

/** Name, default and description of every variable: the README's configuration table is tested against this. */
export function configVariables(): { name: string; fallback: string | undefined; description: string }[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => ({ name, fallback: rawDefault(schema), description: schema.description ?? '' }));
}
