// The Helm chart (deploy/helm/k8s-expenses), linted and rendered by the real helm for the default
// values and for values-production.yaml, and the rendered manifests checked as data: every
// variable a pod gets exists in the configuration schema and parses, probes, resources and the
// security context are set, the autoscaler and disruption budgets are there, Prometheus objects
// only when asked for, the tenants Secret is mounted as a directory, and bad values are refused
// with a message naming them. There is no Kubernetes API here: nothing is applied to a cluster.
// helm is built by scripts/test-prerequisites.sh; without it these tests fail and say so.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTenantsFile } from '../../../receiver/tenants-file.ts';
import { renderValuesSchema, VALUES_SCHEMA_FILE } from '../../../scripts/helm-values-schema.ts';
import { configVariables, loadConfig } from '../../../service/config.ts';
import { SERVICE_COMMAND } from '../../../service/node-flags.ts';
import { CHART_DIR, findManifest, helm, NAMESPACE, PRODUCTION_VALUES, RELEASE, renderChart, renderRefusal, type Manifest } from '../../support/helm.ts';

const COMPONENTS = ['receiver', 'processor', 'query'] as const;
const PORT = 9201;
const KNOWN_VARIABLES = new Set(configVariables().map((v) => v.name));
const name = (suffix: string) => `${RELEASE}-k8s-expenses-${suffix}`;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: { name: string; emptyDir?: object; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
}

function podSpec(workload: Manifest): PodSpec {
  return workload.spec.template.spec as PodSpec;
}

function podLabels(workload: Manifest): Record<string, string> {
  return workload.spec.template.metadata.labels as Record<string, string>;
}

function envOf(container: Container): Map<string, EnvVar> {
  return new Map(container.env.map((e) => [e.name, e]));
}

function plainEnv(container: Container): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container.env) out[e.name] = e.value ?? `<from secret ${e.valueFrom?.secretKeyRef?.name}>`;
  return out;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function workloads(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job');
}

function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
}

let defaults: Manifest[];
let production: Manifest[];

beforeAll(() => {
  defaults = renderChart();
  production = renderChart({ valuesFiles: [PRODUCTION_VALUES] });
});

describe('helm lint', () => {
  it.each([
    ['the default values', []],
    ['values-production.yaml', ['--values', PRODUCTION_VALUES]],
  ])('passes with %s, strict', (_label, extra) => {
    const run = helm(['lint', CHART_DIR, '--strict', '--namespace', NAMESPACE, ...extra]);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(run.stdout).not.toMatch(/\[(ERROR|WARNING)\]/);
  });
});

describe('helm install --dry-run=client (no cluster)', () => {
  it('renders the notes: the write URL in the cluster, and a warning when authentication is off', () => {
    const args = ['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--dry-run=client'];
    const open = helm(args);
    expect(open.status, open.stderr).toBe(0);
    const notes = open.stdout.slice(open.stdout.indexOf('NOTES:'));
    expect(notes).toContain(`http://${name('receiver')}.${NAMESPACE}.svc:${PORT}/api/v1/write`);
    expect(notes).toContain(`http://${name('query')}.${NAMESPACE}.svc:${PORT}/allocation/compute`);
    expect(notes).toMatch(/WARNING: no tenants file/);
    const closed = helm([...args, '--values', PRODUCTION_VALUES]);
    expect(closed.status, closed.stderr).toBe(0);
    expect(closed.stdout).toContain('https://k8s-expenses.example.com/api/v1/write');
    expect(closed.stdout).not.toMatch(/WARNING: no tenants file/);
  });
});

describe('the default values', () => {
  it('render the three components, their Services, the autoscaler, the disruption budgets and the migration Job, and nothing optional', () => {
    expect(kinds(defaults)).toEqual(
      [
        `Deployment/${name('receiver')}`,
        `Deployment/${name('processor')}`,
        `Deployment/${name('query')}`,
        `Service/${name('receiver')}`,
        `Service/${name('query')}`,
        `HorizontalPodAutoscaler/${name('receiver')}`,
        `PodDisruptionBudget/${name('receiver')}`,
        `PodDisruptionBudget/${name('processor')}`,
        `PodDisruptionBudget/${name('query')}`,
        `Job/${name('migrations')}`,
      ].sort(),
    );
  });

  it('scale the receiver by CPU, leaving its replica count to the autoscaler', () => {
    const hpa = findManifest(defaults, 'HorizontalPodAutoscaler', name('receiver'));
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: name('receiver') });
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(findManifest(defaults, 'Deployment', name('receiver')).spec).not.toHaveProperty('replicas');
  });

  it('give the receiver as many decode threads as its CPU limit allows, unless its config says otherwise', () => {
    const threads = (manifests: Manifest[]) => plainEnv(podSpec(findManifest(manifests, 'Deployment', name('receiver'))).containers[0]).DECODE_THREADS;
    expect(threads(defaults)).toBe('2');
    expect(threads(renderChart({ set: { 'receiver.resources.limits.cpu': '1500m' } }))).toBe('2');
    expect(threads(renderChart({ set: { 'receiver.resources.limits.cpu': '500m' } }))).toBe('1');
    expect(threads(renderChart({ set: { 'receiver.config.DECODE_THREADS': '0' } }))).toBe('0');
    for (const component of ['processor', 'query']) expect(plainEnv(podSpec(findManifest(defaults, 'Deployment', name(component))).containers[0])).not.toHaveProperty('DECODE_THREADS');
  });

  it('set the receiver replicas themselves when the autoscaler is off', () => {
    const manifests = renderChart({ set: { 'receiver.autoscaling.enabled': 'false', 'receiver.replicas': '3' } });
    expect(manifests.some((m) => m.kind === 'HorizontalPodAutoscaler')).toBe(false);
    expect(findManifest(manifests, 'Deployment', name('receiver')).spec.replicas).toBe(3);
  });

  it('give each component a disruption budget selecting exactly its pods', () => {
    for (const component of COMPONENTS) {
      const pdb = findManifest(defaults, 'PodDisruptionBudget', name(component));
      expect(pdb.apiVersion).toBe('policy/v1');
      expect(pdb.spec.maxUnavailable).toBe(1);
      const matching = workloads(defaults).filter((w) => selects(pdb.spec.selector.matchLabels, podLabels(w)));
      expect(matching.map((w) => w.metadata.name)).toEqual([name(component)]);
    }
  });

  it('run as many processors as the documented default, within the partitions', () => {
    const processor = findManifest(defaults, 'Deployment', name('processor'));
    const partitions = Number(plainEnv(podSpec(processor).containers[0]).KAFKA_TOPIC_PARTITIONS);
    expect(processor.spec.replicas).toBe(2);
    expect(partitions).toBe(6);
    // Replaced one at a time, never one more than asked for.
    expect(processor.spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});

describe.each([
  ['the default values', () => defaults],
  ['values-production.yaml', () => production],
])('every workload with %s', (_label, manifests) => {
  it('runs the service as ROLE=<component> and the migrations with the CLI, from the same image', () => {
    const images = new Set<string>();
    for (const component of COMPONENTS) {
      const container = podSpec(findManifest(manifests(), 'Deployment', name(component))).containers[0];
      expect(container.args).toEqual(SERVICE_COMMAND);
      expect(plainEnv(container).ROLE).toBe(component);
      images.add(container.image);
    }
    const job = findManifest(manifests(), 'Job', name('migrations'));
    expect(podSpec(job).containers[0].args).toEqual(['node', 'dist/cli/migrate.js']);
    images.add(podSpec(job).containers[0].image);
    expect(images.size).toBe(1);
  });

  it('sets only variables of the configuration schema, and values that parse', () => {
    for (const workload of workloads(manifests())) {
      for (const container of podSpec(workload).containers) {
        for (const e of container.env) expect(KNOWN_VARIABLES.has(e.name), `${workload.metadata.name}: ${e.name} is not in service/config.ts`).toBe(true);
        // ROLE=query is checked above; the rest must pass the service's own validation.
        const { ROLE: _role, ...env } = plainEnv(container);
        expect(() => loadConfig(env), workload.metadata.name).not.toThrow();
      }
    }
  });

  it('probes /healthz for liveness and /ready for readiness on the port the process listens on', () => {
    for (const component of COMPONENTS) {
      const container = podSpec(findManifest(manifests(), 'Deployment', name(component))).containers[0];
      const port = container.ports?.find((p) => p.name === 'http')?.containerPort;
      expect(port).toBe(PORT);
      expect(Number(plainEnv(container).PORT)).toBe(port);
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'http' });
    }
  });

  it('requests CPU and memory and limits memory', () => {
    for (const workload of workloads(manifests())) {
      const { resources } = podSpec(workload).containers[0];
      expect(resources?.requests?.cpu, workload.metadata.name).toBeTruthy();
      expect(resources?.requests?.memory, workload.metadata.name).toBeTruthy();
      expect(resources?.limits?.memory, workload.metadata.name).toBeTruthy();
    }
  });

  it('runs as the image user 1000, unprivileged, on a read-only root with writable DATA_DIR and /tmp', () => {
    for (const workload of workloads(manifests())) {
      const pod = podSpec(workload);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      const container = pod.containers[0];
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      const emptyDirs = new Set(pod.volumes?.filter((v) => v.emptyDir).map((v) => v.name));
      const writable = (container.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath);
      expect(writable).toContain('/tmp');
      const dataDir = plainEnv(container).DATA_DIR;
      if (workload.kind === 'Deployment') expect(writable).toContain(dataDir);
    }
  });

  it('stops within the grace period: SHUTDOWN_TIMEOUT drains before the kubelet kills', () => {
    for (const component of COMPONENTS) {
      const deployment = findManifest(manifests(), 'Deployment', name(component));
      const timeout = loadConfig({ ...plainEnv(podSpec(deployment).containers[0]), ROLE: undefined }).SHUTDOWN_TIMEOUT;
      expect(podSpec(deployment).terminationGracePeriodSeconds! * 1000).toBeGreaterThan(timeout);
    }
  });

  it('gives the receiver Kafka and no ClickHouse, the query API ClickHouse and no Kafka, the processor both', () => {
    const env = (component: string) => plainEnv(podSpec(findManifest(manifests(), 'Deployment', name(component))).containers[0]);
    expect(env('receiver')).toHaveProperty('KAFKA_BROKERS');
    expect(env('receiver')).not.toHaveProperty('CLICKHOUSE_URL');
    expect(env('query')).toHaveProperty('CLICKHOUSE_URL');
    expect(env('query')).not.toHaveProperty('KAFKA_BROKERS');
    expect(env('processor')).toMatchObject({ KAFKA_BROKERS: expect.any(String), CLICKHOUSE_URL: expect.any(String) });
  });
});

describe('the migration Job', () => {
  it('runs before install and upgrade, and is replaced on the next run', () => {
    const job = findManifest(defaults, 'Job', name('migrations'));
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    expect(podSpec(job)).toMatchObject({ restartPolicy: 'Never' });
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
  });

  it('migrates with the processor’s CLICKHOUSE_TTL, the retention the table is created with', () => {
    const manifests = renderChart({ setString: { 'processor.config.CLICKHOUSE_TTL': '90 DAY' } });
    const job = findManifest(manifests, 'Job', name('migrations'));
    expect(plainEnv(podSpec(job).containers[0]).CLICKHOUSE_TTL).toBe('90 DAY');
  });

  it('reads a password given in values from a hook Secret created before it, as the release’s own Secrets do not exist yet', () => {
    const manifests = renderChart({ setString: { 'clickhouse.password': 's3cret' } });
    const podSecret = findManifest(manifests, 'Secret', name('clickhouse'));
    expect(podSecret.metadata.annotations?.['helm.sh/hook']).toBeUndefined();
    expect(podSecret.stringData).toEqual({ password: 's3cret' });
    const hookSecret = findManifest(manifests, 'Secret', name('migrations'));
    expect(hookSecret.stringData).toEqual({ password: 's3cret' });
    expect(Number(hookSecret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(findManifest(manifests, 'Job', name('migrations')).metadata.annotations?.['helm.sh/hook-weight']));

    const jobPassword = envOf(podSpec(findManifest(manifests, 'Job', name('migrations'))).containers[0]).get('CLICKHOUSE_PASSWORD');
    expect(jobPassword?.valueFrom?.secretKeyRef).toEqual({ name: name('migrations'), key: 'password' });
    for (const component of ['processor', 'query']) {
      const password = envOf(podSpec(findManifest(manifests, 'Deployment', name(component))).containers[0]).get('CLICKHOUSE_PASSWORD');
      expect(password?.valueFrom?.secretKeyRef).toEqual({ name: name('clickhouse'), key: 'password' });
      expect(password?.value).toBeUndefined();
    }
  });

  it('is left out when disabled (the processor migrates at start-up anyway)', () => {
    const manifests = renderChart({ set: { 'migrations.enabled': 'false' } });
    expect(manifests.some((m) => m.kind === 'Job')).toBe(false);
  });
});

describe('values-production.yaml', () => {
  it('points at three brokers and a ClickHouse URL, with topic replication 3', () => {
    const env = plainEnv(podSpec(findManifest(production, 'Deployment', name('processor'))).containers[0]);
    expect(env.KAFKA_BROKERS.split(',')).toHaveLength(3);
    expect(env.KAFKA_REPLICATION_FACTOR).toBe('3');
    expect(env.CLICKHOUSE_URL).toMatch(/^https:\/\//);
  });

  it('runs the migrations ON CLUSTER: CLICKHOUSE_CLUSTER in the Job, the processor and the query API, not in the default values', () => {
    const clusterOf = (manifests: typeof production, kind: string, component: string) =>
      plainEnv(podSpec(findManifest(manifests, kind, name(component))).containers[0]).CLICKHOUSE_CLUSTER;
    expect(clusterOf(production, 'Job', 'migrations')).toBe('finops');
    expect(clusterOf(production, 'Deployment', 'processor')).toBe('finops');
    expect(clusterOf(production, 'Deployment', 'query')).toBe('finops');
    expect(clusterOf(renderChart({}), 'Deployment', 'processor')).toBeUndefined();
  });

  it('reads the ClickHouse password from the existing Secret in every workload, the Job included', () => {
    for (const workload of workloads(production).filter((w) => w.metadata.name !== name('receiver'))) {
      const password = envOf(podSpec(workload).containers[0]).get('CLICKHOUSE_PASSWORD');
      expect(password?.valueFrom?.secretKeyRef, workload.metadata.name).toEqual({ name: 'k8s-expenses-clickhouse', key: 'password' });
    }
    expect(production.some((m) => m.kind === 'Secret')).toBe(false);
  });

  it('mounts the tenants Secret as a directory (never a subPath, which would not see updates) with TENANTS_FILE in it', () => {
    for (const component of ['receiver', 'query']) {
      const deployment = findManifest(production, 'Deployment', name(component));
      const pod = podSpec(deployment);
      const volume = pod.volumes?.find((v) => v.secret?.secretName === 'k8s-expenses-tenants');
      expect(volume, component).toBeDefined();
      const mount = pod.containers[0].volumeMounts?.find((m) => m.name === volume!.name);
      expect(mount).toMatchObject({ readOnly: true });
      expect(mount?.subPath).toBeUndefined();
      expect(plainEnv(pod.containers[0]).TENANTS_FILE).toBe(path.posix.join(mount!.mountPath, 'tenants.json'));
    }
    const processor = podSpec(findManifest(production, 'Deployment', name('processor')));
    expect(plainEnv(processor.containers[0])).not.toHaveProperty('TENANTS_FILE');
  });

  it('routes the write path to the receiver and the allocation API to the query Service, over TLS', () => {
    const ingress = findManifest(production, 'Ingress', `${RELEASE}-k8s-expenses`);
    expect(ingress.spec.tls).toEqual([{ hosts: ['k8s-expenses.example.com'], secretName: 'k8s-expenses-tls' }]);
    const routes = new Map<string, string>();
    for (const rule of ingress.spec.rules) {
      expect(rule.host).toBe('k8s-expenses.example.com');
      for (const p of rule.http.paths) routes.set(p.path, p.backend.service.name);
    }
    expect(routes.get('/api/v1/write')).toBe(name('receiver'));
    expect(routes.get('/allocation')).toBe(name('query'));
    for (const service of new Set(routes.values())) {
      const svc = findManifest(production, 'Service', service);
      expect(svc.spec.ports.map((p: { name: string }) => p.name)).toContain('http');
    }
  });

  it('lets the per-component config override the shared one, and prints big numbers as integers', () => {
    const manifests = renderChart({ valuesFiles: [PRODUCTION_VALUES], set: { 'receiver.config.MAX_INFLIGHT_BYTES': '268435456', 'config.LOG_LEVEL': 'warn', 'receiver.config.LOG_LEVEL': 'debug' } });
    const receiver = plainEnv(podSpec(findManifest(manifests, 'Deployment', name('receiver'))).containers[0]);
    expect(receiver.MAX_INFLIGHT_BYTES).toBe('268435456');
    expect(receiver.LOG_LEVEL).toBe('debug');
    expect(plainEnv(podSpec(findManifest(manifests, 'Deployment', name('processor'))).containers[0]).LOG_LEVEL).toBe('warn');
  });
});

describe('Prometheus objects', () => {
  it('are absent by default and present when enabled', () => {
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      expect(defaults.some((m) => m.kind === kind), kind).toBe(false);
      expect(production.filter((m) => m.kind === kind), kind).toHaveLength(1);
    }
    const onlyMonitor = renderChart({ set: { 'serviceMonitor.enabled': 'true' } });
    expect(onlyMonitor.some((m) => m.kind === 'ServiceMonitor')).toBe(true);
    expect(onlyMonitor.some((m) => m.kind === 'PrometheusRule')).toBe(false);
  });

  it('scrape /metrics of every component’s pods, ready or not, and not the migration Job', () => {
    const monitor = production.find((m) => m.kind === 'ServiceMonitor')!;
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [NAMESPACE] });
    const services = production.filter((m) => m.kind === 'Service' && selects(monitor.spec.selector.matchLabels, m.metadata.labels ?? {}));
    expect(services).toHaveLength(1);
    const metrics = services[0];
    expect(metrics.spec.publishNotReadyAddresses).toBe(true);
    const scraped = workloads(production).filter((w) => selects(metrics.spec.selector, podLabels(w)));
    expect(scraped.map((w) => w.metadata.name).sort()).toEqual(COMPONENTS.map(name).sort());
  });
});

describe('values the chart refuses, naming them', () => {
  it.each([
    ['more processors than partitions', { set: { 'processor.replicas': '7', 'kafka.topicPartitions': '6' } }, /processor\.replicas \(7\) exceeds kafka\.topicPartitions \(6\)/],
    ['a variable the chart sets itself, in config', { setString: { 'config.KAFKA_BROKERS': 'k:9092' } }, /config\.KAFKA_BROKERS: the chart sets KAFKA_BROKERS itself; use kafka\.brokers/],
    ['a component variable the chart sets itself', { setString: { 'processor.config.ROLE': 'all' } }, /processor\.config\.ROLE: the chart sets ROLE itself/],
    ['a misspelt variable', { setString: { 'processor.config.FLUSH_INTERVALL': '30s' } }, /'\/processor\/config': additional properties 'FLUSH_INTERVALL' not allowed/],
    ['no brokers', { set: { 'kafka.brokers': 'null' } }, /'\/kafka': missing property 'brokers'/],
    ['a broker with a scheme', { set: { 'kafka.brokers': '{http://kafka:9092}' } }, /'\/kafka\/brokers\/0': 'http:\/\/kafka:9092' does not match/],
    ['a ClickHouse cluster name with a space', { setString: { 'clickhouse.cluster': 'fin ops' } }, /'\/clickhouse\/cluster': 'fin ops' does not match/],
    ['CLICKHOUSE_CLUSTER in config', { setString: { 'config.CLICKHOUSE_CLUSTER': 'finops' } }, /config\.CLICKHOUSE_CLUSTER: the chart sets CLICKHOUSE_CLUSTER itself; use clickhouse\.cluster/],
    ['a ClickHouse URL without http://', { setString: { 'clickhouse.url': 'clickhouse:8123' } }, /'\/clickhouse\/url': 'clickhouse:8123' does not match/],
    ['an Ingress without a tenants file', { set: { 'ingress.enabled': 'true' } }, /ingress\.enabled without a tenants file/],
    ['both an existing tenants Secret and entries', { valuesFiles: [PRODUCTION_VALUES], set: { 'tenants.entries[0].id': 'acme' } }, /set existingSecret or entries, not both/],
  ])('%s', (_label, options, message) => {
    expect(renderRefusal(options)).toMatch(message);
  });

  it('accepts an Ingress without a tenants file when a proxy in front authenticates', () => {
    const manifests = renderChart({ set: { 'ingress.enabled': 'true', 'tenants.allowUnauthenticated': 'true' } });
    expect(manifests.some((m) => m.kind === 'Ingress')).toBe(true);
  });
});

describe('the tenants file from values', () => {
  it('becomes a Secret the service reads as a valid tenants file', () => {
    const digest = 'ab'.repeat(32);
    const manifests = renderChart({ set: { 'tenants.entries[0].id': 'acme', 'tenants.entries[0].tokens_sha256[0]': digest } });
    const secret = findManifest(manifests, 'Secret', name('tenants'));
    const text = secret.stringData?.['tenants.json'];
    expect(parseTenantsFile(text!, 'the chart’s Secret').tenants).toEqual([{ id: 'acme', tokens_sha256: [digest], basic: [], read_tokens_sha256: [], read_basic: [] }]);
    const receiver = podSpec(findManifest(manifests, 'Deployment', name('receiver')));
    expect(receiver.volumes?.find((v) => v.name === 'tenants')?.secret?.secretName).toBe(name('tenants'));
  });
});

describe('values.schema.json', () => {
  it('lists exactly the configuration schema’s variables for `config` (regenerate: npx tsx scripts/helm-values-schema.ts)', () => {
    const text = readFileSync(VALUES_SCHEMA_FILE, 'utf8');
    expect(renderValuesSchema(text)).toBe(text);
  });
});
