// The Grafana dashboard of deploy/grafana, and the SQL Grafana's ClickHouse data source
// (grafana-clickhouse-datasource) sends to ClickHouse for it. Grafana turns a panel's rawSql into
// SQL in three steps, reproduced here in the same order:
//  1. the plugin's front end replaces `$__conditionalAll(condition, $var)` by `1=1` when the
//     variable is All or empty, else by the condition;
//  2. Grafana replaces variables: `${var:sqlstring}` quotes each value and doubles its quotes;
//     a plain `$var` / `${var}` takes the plugin's own format (several values 'a','b', one value as is);
//  3. the plugin's back end expands its macros, exactly as its documentation shows:
//     `$__timeFilter(c)` -> `c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)`,
//     `$__fromTime` / `$__toTime` -> `toDateTime(<s>)`, `$__interval_s` -> the interval in whole
//     seconds (at least 1), `$__timeInterval(c)` -> `toStartOfInterval(toDateTime(c), INTERVAL <s> second)`.
// Anything else (another macro, format or variable) throws, so a typo in the dashboard fails a test
// instead of reaching ClickHouse.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GRAFANA_DIR = fileURLToPath(new URL('../../deploy/grafana/', import.meta.url));
export const DASHBOARD_FILE = `${GRAFANA_DIR}dashboards/k8s-expenses.json`;
export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface ClickHouseTarget {
  refId: string;
  datasource?: DatasourceRef;
  editorType?: string;
  queryType?: string;
  format?: number;
  rawSql?: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: DatasourceRef;
  interval?: string;
  targets?: ClickHouseTarget[];
  /** Panels of a collapsed row. */
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { editorType?: string; rawSql?: string };
  datasource?: DatasourceRef;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  refresh?: number;
  /** Grafana's option filter, `/pattern/flags`. */
  regex?: string;
  allowCustomValue?: boolean;
  current?: { text?: unknown; value?: unknown };
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  time: { from: string; to: string };
  templating: { list: Variable[] };
  panels: Panel[];
}

export function loadDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every panel, those inside rows included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** The panels that show data (not rows). */
export function dataPanels(dashboard: Dashboard): Panel[] {
  return allPanels(dashboard).filter((p) => p.type !== 'row');
}

export function panelTitled(dashboard: Dashboard, title: string): Panel {
  const panel = dataPanels(dashboard).find((p) => p.title === title);
  if (!panel) throw new Error(`the dashboard has no panel titled "${title}"`);
  return panel;
}

/** The one query of a panel (every panel of this dashboard has exactly one). */
export function panelSql(dashboard: Dashboard, title: string): string {
  const targets = panelTitled(dashboard, title).targets ?? [];
  if (targets.length !== 1 || !targets[0].rawSql) throw new Error(`panel "${title}" should have exactly one query with rawSql`);
  return targets[0].rawSql;
}

export function queryVariable(dashboard: Dashboard, name: string): Variable & { query: { rawSql: string } } {
  const variable = dashboard.templating.list.find((v) => v.name === name);
  if (typeof variable?.query !== 'object' || !variable.query.rawSql) throw new Error(`the dashboard has no query variable "${name}" with rawSql`);
  return variable as Variable & { query: { rawSql: string } };
}

export function variableSql(dashboard: Dashboard, name: string): string {
  return queryVariable(dashboard, name).query.rawSql;
}

/** A variable's `/pattern/flags` as a RegExp (undefined when it has none). */
export function variableRegex(variable: Variable): RegExp | undefined {
  if (!variable.regex) return undefined;
  const m = /^\/(.*)\/([a-z]*)$/s.exec(variable.regex);
  if (!m) throw new Error(`variable ${variable.name}: regex "${variable.regex}" is not /pattern/flags`);
  return new RegExp(m[1], m[2]);
}

/** The options Grafana offers for a query variable whose query returned `values` (its regex applied; no capture groups used here). */
export function variableOptions(variable: Variable, values: readonly string[]): string[] {
  const regex = variableRegex(variable);
  return regex ? values.filter((v) => regex.test(v)) : [...values];
}

/** A selection: one value, several, or All (which expands to every option). */
export type VariableValue = string | readonly string[] | { all: readonly string[] };

export interface QueryContext {
  /** The dashboard's time range, epoch milliseconds. */
  from: number;
  to: number;
  /** The query interval Grafana computed for the panel, in seconds. */
  intervalSeconds: number;
  variables: Readonly<Record<string, VariableValue>>;
}

/** The macros this module expands: the dashboard may use these and no others. */
export const SUPPORTED_MACROS: readonly string[] = ['conditionalAll', 'timeFilter', 'fromTime', 'toTime', 'interval_s', 'timeInterval'];

/** Names of the `$__name` macros a query uses. */
export function macrosUsed(sql: string): string[] {
  return [...new Set([...sql.matchAll(/\$__(\w+)/g)].map((m) => m[1]))];
}

/** The SQL Grafana sends to ClickHouse for `rawSql` in context `ctx`. */
export function interpolate(rawSql: string, ctx: QueryContext): string {
  return expandMacros(replaceVariables(applyConditionalAll(rawSql, ctx), ctx), ctx);
}

const CONDITIONAL_ALL = '$__conditionalAll(';

function applyConditionalAll(sql: string, ctx: QueryContext): string {
  let out = sql;
  for (let at = out.indexOf(CONDITIONAL_ALL); at >= 0; at = out.indexOf(CONDITIONAL_ALL)) {
    const { args, end } = macroArguments(out, at + CONDITIONAL_ALL.length - 1);
    if (args.length !== 2) throw new Error(`$__conditionalAll takes a condition and a variable, got ${args.length} arguments`);
    // The plugin recognises only `$name` and `${name}` here; with any other form it always keeps the condition.
    const name = /^\$(?:\{(\w+)\}|(\w+))$/.exec(args[1].trim());
    if (!name) throw new Error(`$__conditionalAll's second argument must be $name or \${name}, got "${args[1].trim()}"`);
    const value = variable(ctx, name[1] ?? name[2]);
    const everything = typeof value === 'object' && 'all' in value;
    const empty = value === '' || (Array.isArray(value) && value.length === 0);
    out = out.slice(0, at) + (everything || empty ? '1=1' : args[0]) + out.slice(end);
  }
  return out;
}

function variable(ctx: QueryContext, name: string): VariableValue {
  const value = ctx.variables[name];
  if (value === undefined) throw new Error(`variable "${name}" has no value in this context`);
  return value;
}

function replaceVariables(sql: string, ctx: QueryContext): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]/g, (match, braced?: string, format?: string, bare?: string, old?: string, oldFormat?: string) => {
    const name = braced ?? bare ?? old!;
    // `$__name` is a macro, for step 3.
    if (name.startsWith('__')) return match;
    const value = variable(ctx, name);
    const values = typeof value === 'object' && 'all' in value ? value.all : value;
    return formatValue(values, format ?? oldFormat);
  });
}

function formatValue(value: string | readonly string[], format: string | undefined): string {
  if (format === 'sqlstring') {
    const quote = (v: string) => `'${v.replaceAll("'", "''")}'`;
    return typeof value === 'string' ? quote(value) : value.map(quote).join(',');
  }
  // The plugin's format for a plain `$var`: no escaping at all.
  if (format === undefined) return typeof value === 'string' ? value : `'${value.join("','")}'`;
  throw new Error(`variable format "${format}" is not supported here`);
}

function expandMacros(sql: string, ctx: QueryContext): string {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const interval = Math.max(Math.trunc(ctx.intervalSeconds), 1);
  let out = '';
  let from = 0;
  for (const m of sql.matchAll(/\$__(\w+)/g)) {
    const name = m[1];
    const start = m.index;
    let end = start + m[0].length;
    let args: string[] = [];
    if (sql[end] === '(') ({ args, end } = macroArguments(sql, end));
    const arity = (n: number) => {
      if (args.length !== n) throw new Error(`$__${name} takes ${n} argument(s), got ${args.length}`);
    };
    let expansion: string;
    switch (name) {
      case 'timeFilter':
        arity(1);
        expansion = `${args[0]} >= toDateTime(${seconds(ctx.from)}) AND ${args[0]} <= toDateTime(${seconds(ctx.to)})`;
        break;
      case 'fromTime':
        arity(0);
        expansion = `toDateTime(${seconds(ctx.from)})`;
        break;
      case 'toTime':
        arity(0);
        expansion = `toDateTime(${seconds(ctx.to)})`;
        break;
      case 'interval_s':
        arity(0);
        expansion = String(interval);
        break;
      case 'timeInterval':
        arity(1);
        expansion = `toStartOfInterval(toDateTime(${args[0]}), INTERVAL ${interval} second)`;
        break;
      default:
        throw new Error(`macro $__${name} is not one this dashboard may use (${SUPPORTED_MACROS.join(', ')})`);
    }
    if (start < from) throw new Error(`macro $__${name} inside another macro's arguments`);
    out += sql.slice(from, start) + expansion;
    from = end;
  }
  return out + sql.slice(from);
}

/** The comma-separated arguments of the parenthesis at `open` (nested parentheses kept), trimmed, and the index after `)`. */
function macroArguments(sql: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let argStart = open + 1;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if ((c === ',' && depth === 1) || depth === 0) {
      args.push(sql.slice(argStart, i).trim());
      argStart = i + 1;
    }
    if (depth === 0) return { args: args.length === 1 && args[0] === '' ? [] : args, end: i + 1 };
  }
  throw new Error(`unbalanced parentheses after position ${open}`);
}
