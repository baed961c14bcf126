// The process's configuration: the service's own variables plus every component's slice, composed
// into one zod schema over the environment and validated and frozen before anything connects.
// Each component reads only its own slice (receiver/config.ts, ingest/config.ts,
// processor/config.ts, processor/clickhouse/config.ts, query/config.ts). The README's configuration
// table is generated from `configVariables()` and checked by a test.
import { z } from 'zod';
import { bool, ConfigError, duration, int } from '../core/config-fields.ts';
import { ingestConfigShape } from '../ingest/config.ts';
import { clickHouseConfigShape } from '../processor/clickhouse/config.ts';
import { processorConfigShape } from '../processor/config.ts';
import { queryConfigShape } from '../query/config.ts';
import { receiverConfigShape } from '../receiver/config.ts';
import { ROLES } from './roles.ts';

export { ConfigError, listenError, parseDuration, parseSize } from '../core/config-fields.ts';

const serviceConfigShape = {
  PORT: int(9201, 0, 65535).describe('HTTP port of the receiver, the allocation API, health, readiness and /metrics'),
  HOST: z.string().default('0.0.0.0').describe('Address the HTTP server binds to'),
  ROLE: z
    .enum(ROLES, { message: 'expected all, receiver, processor or query' })
    .default('all')
    .describe('Which parts run in this process: all, receiver, processor or query (the read side; needs CLICKHOUSE_URL). A processor on the embedded engine also serves the reads, as only it can open the engine'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'expected fatal, error, warn, info, debug, trace or silent' })
    .default('info')
    .describe('pino log level'),
  DATA_DIR: z.string().default('./data').describe('Local state: clickhouse/ (embedded engine) and log/ (embedded record log)'),
  SHUTDOWN_TIMEOUT: duration('30s').describe('Longest a graceful shutdown waits for in-flight work'),
  TRUST_PROXY: bool(false).describe('Trust X-Forwarded-* headers from a proxy in front'),
};

/** Every slice under the heading the README's configuration table gives it. */
const configSections = [
  { title: 'Service', shape: serviceConfigShape },
  { title: 'Record log (Kafka or embedded)', shape: ingestConfigShape },
  { title: 'Receiver', shape: receiverConfigShape },
  { title: 'ClickHouse', shape: clickHouseConfigShape },
  { title: 'Read side', shape: queryConfigShape },
  { title: 'Processor', shape: processorConfigShape },
] as const;

export const configSchema = z.object({
  ...serviceConfigShape,
  ...ingestConfigShape,
  ...receiverConfigShape,
  ...clickHouseConfigShape,
  ...queryConfigShape,
  ...processorConfigShape,
});

/**
 * Values of different components that only make sense together: one series at the receiver's label
 * limits must fit in a record, or a request carrying it could never be published and the sender
 * would retry it for ever; the read side alone needs a ClickHouse server, and so does a cluster.
 */
const checkedSchema = configSchema.superRefine((c, ctx) => {
  if (c.ROLE === 'query' && !c.CLICKHOUSE_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['ROLE'],
      message: 'ROLE=query needs CLICKHOUSE_URL: the embedded engine can be read only by the process that owns it (ROLE=all serves the read side on it)',
    });
  }
  if (c.CLICKHOUSE_CLUSTER !== undefined && c.CLICKHOUSE_URL === undefined) {
    ctx.addIssue({ code: 'custom', path: ['CLICKHOUSE_CLUSTER'], message: 'needs CLICKHOUSE_URL: the embedded engine is one server; set CLICKHOUSE_URL to a node of the cluster, or unset CLICKHOUSE_CLUSTER' });
  }
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

export interface ConfigVariable {
  name: string;
  fallback: string | undefined;
  description: string;
  section: string;
}

/** Name, default, description and section of every variable: the README's configuration table is tested against this. */
export function configVariables(): ConfigVariable[] {
  return configSections.flatMap(({ title, shape }) =>
    Object.entries(shape).map(([name, schema]) => ({ name, fallback: rawDefault(schema as z.ZodType), description: (schema as z.ZodType).description ?? '', section: title })),
  );
}
