// The chart in deploy/helm/k8s-expenses, linted and rendered by the real helm that
// scripts/test-prerequisites.sh builds into a cache directory (the version its HELM_VERSION names).
// No Kubernetes API is involved: `helm template` renders offline, and the manifests are read as data.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { yamlDocuments } from './yaml.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART_DIR = path.join(ROOT, 'deploy/helm/k8s-expenses');
export const PRODUCTION_VALUES = path.join(CHART_DIR, 'values-production.yaml');
export const RELEASE = 'costs';
export const NAMESPACE = 'finops';

/** The version the prerequisites script installs: one place names it. */
export function helmVersion(): string {
  const script = readFileSync(path.join(ROOT, 'scripts/test-prerequisites.sh'), 'utf8');
  const version = /^HELM_VERSION=(\S+)$/m.exec(script)?.[1];
  if (!version) throw new Error('scripts/test-prerequisites.sh names no HELM_VERSION');
  return version;
}

export function helmBinary(): string {
  const version = helmVersion();
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = process.env.HELM_CACHE_DIR || path.join(cache, 'k8s-expenses', `helm-${version}`);
  const binary = path.join(dir, 'helm');
  if (!existsSync(binary)) {
    throw new Error(`helm ${version} is not installed at ${binary}: run \`bash scripts/test-prerequisites.sh\` (npm test runs it), which builds it once with go install`);
  }
  return binary;
}

let helmHome: string | undefined;

export interface HelmRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with its own empty configuration, cache and data directories, and no cluster. */
export function helm(args: string[]): HelmRun {
  helmHome ??= mkdtempSync(path.join(os.tmpdir(), 'k8s-expenses-helm-'));
  const env = {
    ...process.env,
    HELM_CACHE_HOME: path.join(helmHome, 'cache'),
    HELM_CONFIG_HOME: path.join(helmHome, 'config'),
    HELM_DATA_HOME: path.join(helmHome, 'data'),
    KUBECONFIG: path.join(helmHome, 'no-kubeconfig'),
  };
  const result = spawnSync(helmBinary(), args, { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  /** Values files, in order (the chart's values.yaml always comes first). */
  valuesFiles?: string[];
  /** --set-string name=value pairs, applied last. */
  setString?: Record<string, string>;
  /** --set name=value pairs (typed: numbers, booleans, lists in braces), applied last. */
  set?: Record<string, string>;
}

function templateArgs(options: RenderOptions): string[] {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const [name, value] of Object.entries(options.set ?? {})) args.push('--set', `${name}=${value}`);
  for (const [name, value] of Object.entries(options.setString ?? {})) args.push('--set-string', `${name}=${value}`);
  return args;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // The shape differs by kind; each test reads the fields it checks.
  spec?: any;
  stringData?: Record<string, string>;
}

/** `helm template` output as manifests; a failing render throws with helm's message. */
export function renderChart(options: RenderOptions = {}): Manifest[] {
  const run = helm(templateArgs(options));
  if (run.status !== 0) throw new Error(`helm template failed (${run.status}): ${run.stderr}`);
  return yamlDocuments<Manifest>(run.stdout);
}

/** Renders values the chart must refuse; returns helm's error output. */
export function renderRefusal(options: RenderOptions): string {
  const run = helm(templateArgs(options));
  if (run.status === 0) throw new Error(`helm template accepted values it should refuse: ${JSON.stringify(options)}`);
  return run.stderr;
}

export function findManifest(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
}
