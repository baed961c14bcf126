// The ClickHouse configuration slice, shared by whatever opens the client: the processor's writes,
// the query role's reads, `npm run migrate` and `npm run sql`.
import { z } from 'zod';
import { identifier, optionalText, type ConfigOf } from '../../core/config-fields.ts';
import { checkClusterName } from './cluster-ddl.ts';
import { ttlClause } from './migration-files.ts';

const serverUrl = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  // new URL('localhost:8123') parses with the protocol "localhost:": only http(s) is a server URL.
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL such as http://clickhouse:8123, got "${v}"` });
    return z.NEVER;
  }
  return v;
});

const retention = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  try {
    ttlClause(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a number and DAY, WEEK, MONTH or YEAR, such as "395 DAY" (unset keeps rows forever), got "${v}"` });
    return z.NEVER;
  }
  return v;
});

const clusterName = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  try {
    return checkClusterName(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^CLICKHOUSE_CLUSTER must be/, 'expected') });
    return z.NEVER;
  }
});

export const clickHouseConfigShape = {
  CLICKHOUSE_URL: serverUrl.describe('ClickHouse server URL (unset: the embedded engine under DATA_DIR/clickhouse)'),
  CLICKHOUSE_USER: z.string().default('default').describe('ClickHouse user'),
  CLICKHOUSE_PASSWORD: z.string().default('').describe('ClickHouse password'),
  CLICKHOUSE_DATABASE: identifier('default', 'a database name').describe('ClickHouse database'),
  CLICKHOUSE_CLUSTER: clusterName.describe(
    'ClickHouse cluster (remote_servers) to run the migrations ON CLUSTER: replicated tables under Distributed ones, inserts deduplicated (unset: one server; needs CLICKHOUSE_URL)',
  ),
  CLICKHOUSE_TTL: retention.describe('Optional retention of k8s_expenses and k8s_node_expenses, e.g. "395 DAY" (unset: keep forever)'),
  BILLING_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code of three capital letters, such as "EUR"')
    .default('USD')
    .describe("The currency of the price series (ISO 4217), shown as BillingCurrency by the FOCUS view k8s_expenses_focus (applied to the view by every start's migrations)"),
};

export type ClickHouseConfig = ConfigOf<typeof clickHouseConfigShape>;
