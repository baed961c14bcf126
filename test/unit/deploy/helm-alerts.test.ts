// The chart's PrometheusRule: every metric its alerts read is one the service exports, the rules
// pass `promtool check rules`, and `promtool test rules` shows each alert firing on the series of
// the trouble it names and staying quiet on healthy ones (and on another release's series).
// helm and promtool come from scripts/test-prerequisites.sh.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECEIVER_ERRORS } from '../../../receiver/errors.ts';
import { NAMESPACE, PRODUCTION_VALUES, RELEASE, renderChart, ROOT } from '../../support/helm.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleGroup {
  name: string;
  rules: Rule[];
}

const SOURCE_DIRS = ['receiver', 'processor', 'query', 'ingest', 'service'];
const JOB = `${RELEASE}-k8s-expenses-metrics`;

/** Every metric name registered in the service's sources (prom-client `name: '...'`). */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const dir of SOURCE_DIRS) {
    for (const file of readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(path.join(ROOT, dir, file), 'utf8');
      for (const m of text.matchAll(/\bname:\s*'(k8s_expenses_[a-z0-9_]+)'/g)) names.add(m[1]);
    }
  }
  return names;
}

function promtool(args: string[]): { status: number; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('promtool is not installed: Debian package prometheus (scripts/test-prerequisites.sh installs it; npm test runs that script)');
  }
  if (result.error) throw result.error;
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

let groups: RuleGroup[];
let rules: Rule[];
let dir: string;

beforeAll(() => {
  const rule = renderChart({ valuesFiles: [PRODUCTION_VALUES] }).find((m) => m.kind === 'PrometheusRule');
  if (!rule) throw new Error('values-production.yaml renders no PrometheusRule');
  groups = rule.spec.groups as RuleGroup[];
  rules = groups.flatMap((g) => g.rules);
  dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-expenses-alerts-'));
});

describe('the PrometheusRule', () => {
  it('carries the alerts README Operations recommends', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'K8sExpensesClusterStoppedSending',
      'K8sExpensesProcessorLagGrowing',
      'K8sExpensesClickHouseWriteFailures',
      'K8sExpensesReceiverErrors',
      'K8sExpensesWritesRefused',
      'K8sExpensesSamplesTooLate',
      'K8sExpensesPoisonRecords',
      'K8sExpensesReceiverInternalErrors',
      'K8sExpensesInvalidSamples',
      'K8sExpensesRowsNotFinite',
      'K8sExpensesTenantOverSeriesLimit',
      'K8sExpensesNegativeIdle',
      'K8sExpensesSeriesCacheTooSmall',
      'K8sExpensesDecodeThreadDied',
    ]);
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    // The table's rows (the paragraph after it lists metrics that are not alerts).
    const section = readme
      .slice(readme.indexOf('**Metrics worth alerting on.**'), readme.indexOf('**Write failures.**'))
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .join('\n');
    const recommended = new Set([...section.matchAll(/`(k8s_expenses_[a-z0-9_]+)/g)].map((m) => m[1]));
    const alerted = new Set(rules.flatMap((r) => [...r.expr.matchAll(/k8s_expenses_[a-z0-9_]+/g)].map((m) => m[0])));
    expect([...recommended].filter((m) => !alerted.has(m))).toEqual([]);
  });

  it('reads only metrics the service exports', () => {
    const exported = exportedMetrics();
    // The scan itself must find the metrics, or this test would pass on nothing.
    expect(exported.has('k8s_expenses_receiver_requests_total')).toBe(true);
    for (const r of rules) {
      const used = [...r.expr.matchAll(/k8s_expenses_[a-z0-9_]+/g)].map((m) => m[0]);
      expect(used.length, r.alert).toBeGreaterThan(0);
      for (const metric of used) expect(exported.has(metric), `${r.alert}: ${metric}`).toBe(true);
    }
  });

  it('counts as refused writes every receiver code but the 5xx ones (their own alert) and a sender that went away', () => {
    const refused = rules.find((r) => r.alert === 'K8sExpensesWritesRefused')!;
    const excluded = /reason!~"([^"]+)"/.exec(refused.expr)?.[1].split('|') ?? [];
    const codes = Object.entries(RECEIVER_ERRORS);
    const expected = codes.filter(([code, spec]) => spec.status >= 500 || code === 'client-aborted').map(([code]) => code);
    expect(excluded.sort()).toEqual(expected.sort());
  });

  it('passes promtool check rules', () => {
    const file = path.join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ groups }));
    const run = promtool(['check', 'rules', file]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('fires each alert on its trouble and not on healthy series or another release’s (promtool test rules)', () => {
    // Annotations are checked by `promtool check rules`; without them the expected alerts are their labels.
    const bare = groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }) => r) }));
    writeFileSync(path.join(dir, 'bare-rules.json'), JSON.stringify({ groups: bare }));
    const series = (metric: string, labels: Record<string, string> = {}, own = true) => {
      const all = own ? { namespace: NAMESPACE, job: JOB, ...labels } : { namespace: 'elsewhere', job: 'other', ...labels };
      return `${metric}{${Object.entries(all).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
    };
    const severity = 'warning';
    const tests = [
      {
        // prod's newest sample ages a minute per minute from 0 (passes 900 s at 16 min, fires 5 min later); dev stays fresh.
        input_series: [
          { series: series('k8s_expenses_processor_newest_sample_age_seconds', { tenant: 'acme', cluster: 'prod' }), values: '0+60x40' },
          { series: series('k8s_expenses_processor_newest_sample_age_seconds', { tenant: 'acme', cluster: 'dev' }), values: '30x40' },
          { series: series('k8s_expenses_processor_newest_sample_age_seconds', { tenant: 'acme', cluster: 'x' }, false), values: '5000x40' },
        ],
        alert_rule_test: [
          { eval_time: '15m', alertname: 'K8sExpensesClusterStoppedSending', exp_alerts: [] },
          { eval_time: '30m', alertname: 'K8sExpensesClusterStoppedSending', exp_alerts: [{ exp_labels: { severity, tenant: 'acme', cluster: 'prod' } }] },
        ],
      },
      {
        // Partition 0 grows past 10000 records; 1 is high but steady; 2 grows but stays small.
        input_series: [
          { series: series('k8s_expenses_processor_consumer_lag_records', { partition: '0' }), values: '0+1000x60' },
          { series: series('k8s_expenses_processor_consumer_lag_records', { partition: '1' }), values: '50000x60' },
          { series: series('k8s_expenses_processor_consumer_lag_records', { partition: '2' }), values: '0+10x60' },
        ],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'K8sExpensesProcessorLagGrowing', exp_alerts: [] },
          { eval_time: '40m', alertname: 'K8sExpensesProcessorLagGrowing', exp_alerts: [{ exp_labels: { severity, partition: '0' } }] },
        ],
      },
      {
        // One code keeps failing; another failed a while ago and stopped.
        input_series: [
          { series: series('k8s_expenses_processor_write_failures_total', { code: 'clickhouse-unavailable' }), values: '0+1x30' },
          { series: series('k8s_expenses_processor_write_failures_total', { code: 'clickhouse-readonly' }), values: '3x30' },
        ],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'K8sExpensesClickHouseWriteFailures', exp_alerts: [{ exp_labels: { severity, code: 'clickhouse-unavailable' } }] },
        ],
      },
      {
        // 10 of 110 requests a minute answered 503: above 5 %.
        input_series: [
          { series: series('k8s_expenses_receiver_requests_total', { status: '204', tenant: 'acme' }), values: '0+100x30' },
          { series: series('k8s_expenses_receiver_requests_total', { status: '503', tenant: 'acme' }), values: '0+10x30' },
        ],
        alert_rule_test: [
          { eval_time: '8m', alertname: 'K8sExpensesReceiverErrors', exp_alerts: [] },
          { eval_time: '25m', alertname: 'K8sExpensesReceiverErrors', exp_alerts: [{ exp_labels: { severity } }] },
        ],
      },
      {
        // 1 of 101 requests a minute answered 503: below 5 %.
        input_series: [
          { series: series('k8s_expenses_receiver_requests_total', { status: '204', tenant: 'acme' }), values: '0+100x30' },
          { series: series('k8s_expenses_receiver_requests_total', { status: '503', tenant: 'acme' }), values: '0+1x30' },
        ],
        alert_rule_test: [{ eval_time: '25m', alertname: 'K8sExpensesReceiverErrors', exp_alerts: [] }],
      },
      {
        // A sender with a wrong token; a saturated receiver and dropped connections are not refusals.
        input_series: [
          { series: series('k8s_expenses_receiver_requests_rejected_total', { reason: 'auth-invalid' }), values: '0+1x40' },
          { series: series('k8s_expenses_receiver_requests_rejected_total', { reason: 'saturated' }), values: '0+5x40' },
          { series: series('k8s_expenses_receiver_requests_rejected_total', { reason: 'client-aborted' }), values: '0+5x40' },
        ],
        alert_rule_test: [{ eval_time: '35m', alertname: 'K8sExpensesWritesRefused', exp_alerts: [{ exp_labels: { severity, reason: 'auth-invalid' } }] }],
      },
      {
        input_series: [
          { series: series('k8s_expenses_processor_samples_total', { result: 'too_late' }), values: '0+1x70' },
          { series: series('k8s_expenses_processor_samples_total', { result: 'accepted' }), values: '0+100x70' },
        ],
        alert_rule_test: [{ eval_time: '65m', alertname: 'K8sExpensesSamplesTooLate', exp_alerts: [{ exp_labels: { severity } }] }],
      },
      {
        // One record skipped at minute 10.
        input_series: [{ series: series('k8s_expenses_processor_poison_records_total', { reason: 'undecodable' }), values: '0x10 1x20' }],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'K8sExpensesPoisonRecords', exp_alerts: [] },
          { eval_time: '15m', alertname: 'K8sExpensesPoisonRecords', exp_alerts: [{ exp_labels: { severity } }] },
        ],
      },
      {
        // One 500 at minute 10.
        input_series: [{ series: series('k8s_expenses_receiver_requests_rejected_total', { reason: 'internal' }), values: '0x10 1x20' }],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'K8sExpensesReceiverInternalErrors', exp_alerts: [] },
          { eval_time: '15m', alertname: 'K8sExpensesReceiverInternalErrors', exp_alerts: [{ exp_labels: { severity } }] },
          { eval_time: '15m', alertname: 'K8sExpensesWritesRefused', exp_alerts: [] },
        ],
      },
      {
        input_series: [
          { series: series('k8s_expenses_processor_samples_total', { result: 'invalid' }), values: '0+1x70' },
          { series: series('k8s_expenses_processor_samples_total', { result: 'accepted' }), values: '0+100x70' },
        ],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'K8sExpensesInvalidSamples', exp_alerts: [] },
          { eval_time: '65m', alertname: 'K8sExpensesInvalidSamples', exp_alerts: [{ exp_labels: { severity } }] },
        ],
      },
      {
        input_series: [{ series: series('k8s_expenses_processor_rows_dropped_total', { reason: 'non_finite' }), values: '0x10 2x20' }],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'K8sExpensesRowsNotFinite', exp_alerts: [] },
          { eval_time: '15m', alertname: 'K8sExpensesRowsNotFinite', exp_alerts: [{ exp_labels: { severity } }] },
        ],
      },
      {
        input_series: [{ series: series('k8s_expenses_processor_series_dropped_total', { reason: 'tenant_max_series' }), values: '0+3x40' }],
        alert_rule_test: [
          { eval_time: '10m', alertname: 'K8sExpensesTenantOverSeriesLimit', exp_alerts: [] },
          { eval_time: '35m', alertname: 'K8sExpensesTenantOverSeriesLimit', exp_alerts: [{ exp_labels: { severity } }] },
        ],
      },
      {
        input_series: [{ series: series('k8s_expenses_processor_negative_idle_node_hours_total', { resource: 'cpu' }), values: '0+1x150' }],
        alert_rule_test: [
          { eval_time: '30m', alertname: 'K8sExpensesNegativeIdle', exp_alerts: [] },
          { eval_time: '130m', alertname: 'K8sExpensesNegativeIdle', exp_alerts: [{ exp_labels: { severity, resource: 'cpu' } }] },
        ],
      },
      {
        // r-1 empties its series cache every minute; r-2 once in ten minutes (its series nearly fit).
        input_series: [
          { series: series('k8s_expenses_receiver_series_cache_resets_total', { pod: 'r-1' }), values: '0+1x60' },
          { series: series('k8s_expenses_receiver_series_cache_resets_total', { pod: 'r-2' }), values: '0+0.1x60' },
        ],
        alert_rule_test: [
          { eval_time: '20m', alertname: 'K8sExpensesSeriesCacheTooSmall', exp_alerts: [] },
          { eval_time: '50m', alertname: 'K8sExpensesSeriesCacheTooSmall', exp_alerts: [{ exp_labels: { severity, pod: 'r-1' } }] },
        ],
      },
      {
        // One decode thread replaced at minute 10.
        input_series: [{ series: series('k8s_expenses_receiver_decode_worker_restarts_total'), values: '0x10 1x20' }],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'K8sExpensesDecodeThreadDied', exp_alerts: [] },
          { eval_time: '15m', alertname: 'K8sExpensesDecodeThreadDied', exp_alerts: [{ exp_labels: { severity } }] },
        ],
      },
    ].map((t) => ({ interval: '1m', ...t }));
    // Every alert is exercised.
    expect(new Set(tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)))).toEqual(new Set(rules.map((r) => r.alert)));

    const file = path.join(dir, 'alerts.test.json');
    writeFileSync(file, JSON.stringify({ rule_files: ['bare-rules.json'], evaluation_interval: '1m', tests }));
    const run = promtool(['test', 'rules', file]);
    expect(run.status, run.output).toBe(0);
  });
});
