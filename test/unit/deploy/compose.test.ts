// docker-compose.yml cannot run on these machines, so its wiring is checked here: Debian's
// docker-compose validates and normalises the whole file offline (`docker-compose config`), Python's
// YAML (which docker-compose itself runs on) turns that into JSON, and the checks compare services,
// ports, environment variables (against the config schema), dependencies, volumes, the tenants file
// and the Prometheus configuration (`promtool check config`) with what the project expects.
// docker-compose and promtool are installed by scripts/test-prerequisites.sh; without them these
// tests fail and say so.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTenantsFile } from '../../../receiver/tenants-file.ts';
import { configSchema, loadConfig } from '../../../service/config.ts';
import { SERVICE_COMMAND } from '../../../service/node-flags.ts';
import { CLICKHOUSE_PLUGIN, DASHBOARD_FILE, loadDashboard } from '../../support/grafana.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

/** Services built from this project's Dockerfile: their variables must exist in service/config.ts. */
const PROJECT_SERVICES = ['migrate', 'receiver', 'processor', 'demo-exporter'];
const THIRD_PARTY_IMAGES: Record<string, RegExp> = {
  kafka: /^apache\/kafka:\d+\.\d+\.\d+$/,
  clickhouse: /^clickhouse\/clickhouse-server:\d+\.\d+\.\d+(\.\d+)?$/,
  prometheus: /^prom\/prometheus:v\d+\.\d+\.\d+$/,
  grafana: /^grafana\/grafana:\d+\.\d+\.\d+$/,
};

interface Service {
  image?: string;
  build?: { context: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | null>;
  ports?: (string | { target: number; published?: number | string; host_ip?: string })[];
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  depends_on?: Record<string, { condition: string }> | string[];
  restart?: string;
  healthcheck?: { test?: string[] | string; disable?: boolean; interval?: string };
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

function notInstalled(tool: string): Error {
  return new Error(
    `${tool} is not installed: the compose tests need Debian's ${tool === 'promtool' ? 'prometheus' : tool} package (scripts/test-prerequisites.sh installs it; npm test runs that script)`,
  );
}

function run(command: string, args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw notInstalled(command);
    throw result.error;
  }
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The Python that runs docker-compose (it has PyYAML, a dependency of Debian's docker-compose), else python3. */
function pythonWithYaml(): string {
  const compose = which('docker-compose');
  if (!compose) throw notInstalled('docker-compose');
  const shebang = /^#!\s*(\S*python[\d.]*)\s*$/.exec(readFileSync(compose, 'utf8').split('\n', 1)[0]);
  const python = shebang?.[1] ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import yaml'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${python} cannot import yaml (Debian: python3-yaml, which docker-compose depends on): ${probe.error?.message ?? probe.stderr}`);
  }
  return python;
}

let python: string | undefined;

function yamlToJson<T>(yaml: string): T {
  python ??= pythonWithYaml();
  const result = run(python, ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], yaml);
  if (result.status !== 0) throw new Error(`cannot parse YAML: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

function environment(service: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.environment ?? {})) out[k] = v ?? '';
  return out;
}

/** [hostIp, published, target] of each published port, in either the v1 ("127.0.0.1:80:80/tcp") or v2 (object) form. */
function ports(service: Service): { hostIp: string; published: number; target: number }[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip ?? '', published: Number(p.published), target: p.target };
    const parts = p.replace(/\/tcp$/, '').split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop());
    return { hostIp: parts.join(':'), published, target };
  });
}

/** [source, target, readOnly] of each mount, in either form. */
function mounts(service: Service): { source: string; target: string; readOnly: boolean }[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target, readOnly: v.read_only === true };
    const [source, target, mode = 'rw'] = v.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

function dependencies(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

/** `disable: true`, which docker-compose 1.x normalises to `test: [NONE]`. */
function healthCheckDisabled(service: Service): boolean {
  const test = service.healthcheck?.test;
  return service.healthcheck?.disable === true || (Array.isArray(test) && test[0] === 'NONE');
}

function commandOf(service: Service): string[] {
  const c = service.command ?? [];
  return typeof c === 'string' ? c.split(/\s+/) : c;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The host path a container path comes from, through the service's bind mounts. */
function hostPath(service: Service, containerPath: string): string | undefined {
  for (const m of mounts(service)) {
    if (!path.isAbsolute(m.source)) continue; // a named volume
    if (containerPath === m.target) return m.source;
    if (containerPath.startsWith(`${m.target}/`)) return path.join(m.source, containerPath.slice(m.target.length + 1));
  }
  return undefined;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

let compose: ComposeFile;
let configRun: { status: number; stdout: string; stderr: string };

beforeAll(() => {
  configRun = run('docker-compose', ['-f', COMPOSE_FILE, 'config']);
  if (configRun.status === 0) compose = yamlToJson<ComposeFile>(configRun.stdout);
});

const service = (name: string): Service => {
  const s = compose?.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

describe('docker-compose.yml', () => {
  it('is valid for docker-compose (`docker-compose config` exits 0)', () => {
    expect(configRun.stderr).not.toMatch(/invalid|error/i);
    expect(configRun.status, configRun.stderr).toBe(0);
    expect(run('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q']).status).toBe(0);
  });

  it('runs Kafka, ClickHouse, the migration job, receiver, processor, demo exporter, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['clickhouse', 'demo-exporter', 'grafana', 'kafka', 'migrate', 'processor', 'prometheus', 'receiver']);
  });

  it('pins the official images and builds the project image from the Dockerfile', () => {
    for (const [name, pattern] of Object.entries(THIRD_PARTY_IMAGES)) expect(service(name).image).toMatch(pattern);
    for (const name of PROJECT_SERVICES) {
      const s = service(name);
      expect(s.image, name).toBe('k8s-expenses:local');
      const context = typeof s.build === 'string' ? s.build : s.build?.context;
      expect(path.resolve(ROOT, context ?? '!'), name).toBe(path.resolve(ROOT));
    }
  });

  it('gives the project services only variables of the config schema, with values it accepts', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of PROJECT_SERVICES) {
      const env = environment(service(name));
      for (const key of Object.keys(env)) expect(known.has(key), `${name}: ${key} is not in service/config.ts`).toBe(true);
      expect(() => loadConfig(env), name).not.toThrow();
    }
    expect(environment(service('receiver')).ROLE).toBe('receiver');
    expect(environment(service('processor')).ROLE).toBe('processor');
  });

  it('runs compiled commands that exist in the image (node dist/..., built from a source file)', () => {
    const compiled = (command: string[]) => {
      expect(command[0]).toBe('node');
      const script = /^dist\/(.+)\.js$/.exec(command[1]);
      expect(script, command.join(' ')).not.toBeNull();
      expect(existsSync(path.join(ROOT, `${script![1]}.ts`)), `${script![1]}.ts`).toBe(true);
      expect(command.join(' ')).not.toMatch(/tsx|--import|--loader/);
    };
    const migrate = commandOf(service('migrate'));
    compiled(migrate);
    expect(migrate).toEqual(['node', 'dist/cli/migrate.js']);
    const exporter = commandOf(service('demo-exporter'));
    compiled(exporter);
    expect(exporter[1]).toBe('dist/demo/main.js');
    expect(exporter).toContain('--exporter-only');
    expect(flag(exporter, '--host')).toBe('0.0.0.0');
    // The receiver and the processor run the image's default command (dist/service/main.js).
    expect(service('receiver').command).toBeUndefined();
    expect(service('processor').command).toBeUndefined();
  });

  it('connects the services to each other', () => {
    const kafka = environment(service('kafka'));
    const advertised = kafka.KAFKA_ADVERTISED_LISTENERS.split(',').map((l) => l.replace(/^[A-Z_]+:\/\//, ''));
    const clickhouse = environment(service('clickhouse'));
    for (const name of ['receiver', 'processor']) {
      const env = environment(service(name));
      for (const broker of env.KAFKA_BROKERS.split(',')) expect(advertised, name).toContain(broker);
    }
    expect(environment(service('receiver')).KAFKA_TOPIC).toBe(environment(service('processor')).KAFKA_TOPIC);
    for (const name of ['migrate', 'processor']) {
      const env = environment(service(name));
      const url = new URL(env.CLICKHOUSE_URL);
      expect([url.hostname, url.port], name).toEqual(['clickhouse', '8123']);
      expect(env.CLICKHOUSE_USER, name).toBe(clickhouse.CLICKHOUSE_USER);
      expect(env.CLICKHOUSE_PASSWORD, name).toBe(clickhouse.CLICKHOUSE_PASSWORD);
      expect(env.CLICKHOUSE_DATABASE, name).toBe(environment(service('migrate')).CLICKHOUSE_DATABASE);
    }
  });

  it('publishes the receiver on 9201 and the other ports on loopback only', () => {
    const receiverPort = Number(environment(service('receiver')).PORT);
    expect(ports(service('receiver'))).toEqual([{ hostIp: '', published: 9201, target: receiverPort }]);
    expect(ports(service('processor')).map((p) => p.target)).toEqual([Number(environment(service('processor')).PORT)]);
    expect(ports(service('clickhouse')).map((p) => p.target)).toEqual([8123]);
    expect(ports(service('prometheus')).map((p) => p.target)).toEqual([9090]);
    expect(ports(service('demo-exporter')).map((p) => p.target)).toEqual([Number(flag(commandOf(service('demo-exporter')), '--port'))]);
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'receiver') continue;
      for (const p of ports(s)) expect(p.hostIp, `${name} publishes ${p.published} beyond loopback`).toBe('127.0.0.1');
    }
    expect(service('kafka').ports).toBeUndefined();
  });

  it('starts services in order: migrations after ClickHouse, the processor after the migrations succeeded', () => {
    expect(dependencies(service('migrate'))).toEqual({ clickhouse: 'service_healthy' });
    expect(dependencies(service('receiver'))).toEqual({ kafka: 'service_healthy' });
    expect(dependencies(service('processor'))).toEqual({
      migrate: 'service_completed_successfully',
      kafka: 'service_healthy',
      clickhouse: 'service_healthy',
      receiver: 'service_healthy',
    });
    expect(dependencies(service('prometheus'))).toEqual({ 'demo-exporter': 'service_healthy', receiver: 'service_healthy' });
    expect(dependencies(service('kafka'))).toEqual({});
    expect(dependencies(service('clickhouse'))).toEqual({});
  });

  it('restarts long-running services unless stopped, never the one-shot migration', () => {
    for (const [name, s] of Object.entries(compose.services)) expect(s.restart, name).toBe(name === 'migrate' ? 'no' : 'unless-stopped');
  });

  it('has a health check on every long-running service (every depends_on service_healthy target included)', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'migrate') {
        // The image's HEALTHCHECK means nothing for a one-shot job.
        expect(healthCheckDisabled(s)).toBe(true);
        continue;
      }
      expect(s.healthcheck?.test, name).toBeDefined();
      expect(healthCheckDisabled(s), name).toBe(false);
    }
    for (const name of ['receiver', 'processor']) {
      const test = service(name).healthcheck!.test as string[];
      expect(test.join(' ')).toContain(`http://127.0.0.1:${environment(service(name)).PORT}/ready`);
    }
  });

  it('keeps state in named volumes and mounts only files of deploy/', () => {
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['clickhouse-data', 'grafana-data', 'kafka-data', 'prometheus-data']);
    const named = (name: string) => mounts(service(name)).filter((m) => !path.isAbsolute(m.source));
    expect(named('kafka')).toEqual([{ source: 'kafka-data', target: environment(service('kafka')).KAFKA_LOG_DIRS, readOnly: false }]);
    expect(named('clickhouse')).toEqual([{ source: 'clickhouse-data', target: '/var/lib/clickhouse', readOnly: false }]);
    expect(named('prometheus')).toEqual([{ source: 'prometheus-data', target: flag(commandOf(service('prometheus')), '--storage.tsdb.path'), readOnly: false }]);
    expect(named('grafana')).toEqual([{ source: 'grafana-data', target: '/var/lib/grafana', readOnly: false }]);
    for (const [name, s] of Object.entries(compose.services)) {
      for (const m of mounts(s).filter((x) => path.isAbsolute(x.source))) {
        expect(m.source.startsWith(path.join(ROOT, 'deploy')), `${name} mounts ${m.source}`).toBe(true);
        expect(existsSync(m.source), `${name} mounts ${m.source}, which does not exist`).toBe(true);
        expect(m.readOnly, `${name} mounts ${m.source} writable`).toBe(true);
      }
    }
  });

  it("gives the receiver a tenants file holding the hash of Prometheus' demo token", () => {
    const receiver = service('receiver');
    const tenantsFile = hostPath(receiver, environment(receiver).TENANTS_FILE);
    expect(tenantsFile, 'TENANTS_FILE is not inside a mounted directory').toBeDefined();
    const tenants = parseTenantsFile(readFileSync(tenantsFile!, 'utf8'), tenantsFile!);

    const prometheus = service('prometheus');
    const configFile = hostPath(prometheus, flag(commandOf(prometheus), '--config.file')!);
    expect(configFile).toBe(path.join(ROOT, 'deploy/prometheus/prometheus.yml'));
    const config = yamlToJson<{ remote_write: { authorization?: { type?: string; credentials_file?: string } }[] }>(readFileSync(configFile!, 'utf8'));
    const auth = config.remote_write[0].authorization;
    expect(auth?.type).toBe('Bearer');
    // Relative to the configuration file, as Prometheus resolves it (promtool does not check it exists).
    const tokenFile = path.resolve(path.dirname(configFile!), auth!.credentials_file!);
    expect(existsSync(tokenFile), `${tokenFile} is missing`).toBe(true);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(tenants.tenants.find((t) => t.id === 'demo')?.tokens_sha256).toContain(sha256(token));
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const file = path.join(ROOT, 'deploy/prometheus/prometheus.yml');

  it('passes `promtool check config`', () => {
    const result = run('promtool', ['check', 'config', file]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS/);
  });

  it('scrapes the demo exporter with honor_labels, labels the cluster and writes to the receiver', () => {
    interface PromConfig {
      global: { external_labels?: Record<string, string> };
      scrape_configs: { job_name: string; honor_labels?: boolean; static_configs: { targets: string[] }[] }[];
      remote_write: { url: string }[];
    }
    const config = yamlToJson<PromConfig>(readFileSync(file, 'utf8'));
    expect(config.global.external_labels?.[environment(service('receiver')).CLUSTER_LABEL ?? 'cluster_id']).toBe('demo-cluster');
    const exporterPort = flag(commandOf(service('demo-exporter')), '--port');
    expect(config.scrape_configs).toEqual([{ job_name: 'kubecost', honor_labels: true, static_configs: [{ targets: [`demo-exporter:${exporterPort}`] }] }]);
    expect(config.remote_write.map((r) => r.url)).toEqual([`http://receiver:${environment(service('receiver')).PORT}/api/v1/write`]);
  });
});

describe('Dockerfile and .dockerignore', () => {
  // No Docker engine runs here: the image is checked by reading its instructions.
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  /** The instructions of each stage, by its name (AS ...), in order. */
  const stages: { from: string; name: string; lines: string[] }[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1], name: from[2] ?? '', lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const all = (lines: string[], keyword: string) => lines.filter((l) => l.startsWith(`${keyword} `)).map((l) => l.slice(keyword.length + 1).trim());
  const build = () => stages.find((st) => st.name === 'build')!;
  const runtime = () => stages.at(-1)!;
  const buildSources = () => JSON.parse(`[${/const SOURCES = \[([^\]]*)\]/.exec(readFileSync(path.join(ROOT, 'scripts/build.mjs'), 'utf8'))![1].replace(/'/g, '"')}]`) as string[];

  it('has a build stage and a runtime stage on one pinned Node LTS slim image', () => {
    expect(stages.map((st) => st.name)).toEqual(['build', 'runtime']);
    for (const st of stages) expect(st.from).toMatch(/^node:\d+\.\d+\.\d+-(bookworm|trixie)-slim$/);
    expect(new Set(stages.map((st) => st.from)).size).toBe(1);
    // An LTS line: even-numbered, at least the oldest one still supported.
    const major = Number(/^node:(\d+)\./.exec(stages[0].from)![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
  });

  it('compiles in the build stage: every source directory the build reads, the build script, npm run build', () => {
    const copied = all(build().lines, 'COPY').flatMap((c) => c.split(/\s+/).slice(0, -1));
    for (const entry of [...buildSources(), 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'package.json']) {
      expect(copied, entry).toContain(entry);
      expect(existsSync(path.join(ROOT, entry)), entry).toBe(true);
    }
    const runs = all(build().lines, 'RUN');
    expect(runs.at(-1)).toBe('npm run build');
    // Full dependencies (TypeScript), but not the embedded engine.
    expect(runs.find((r) => r.includes('npm install'))).toMatch(/npm pkg delete optionalDependencies\.chdb\s+&& npm install\b(?!.*--omit=dev)/);
  });

  it('runs with production dependencies only and the compiled dist/ of the build stage', () => {
    const install = all(runtime().lines, 'RUN').find((r) => r.includes('npm install'));
    expect(install).toMatch(/npm install\b.*--omit=dev/);
    expect(install).toMatch(/--omit=optional/);
    expect(install).toMatch(/test ! -e node_modules\/chdb/);
    const copies = all(runtime().lines, 'COPY');
    expect(copies).toContainEqual(expect.stringMatching(/^--from=build \/app\/dist \.\/dist$/));
    // No sources in the runtime image: only the package files and dist/.
    expect(copies.filter((c) => !c.startsWith('--from=build'))).toEqual(['package.json package-lock.json ./']);
  });

  it('runs node dist/service/main.js as PID 1 under a non-root user, on port 9201, with a health check', () => {
    const lines = runtime().lines;
    const user = all(lines, 'USER');
    expect(user.length).toBeGreaterThan(0);
    expect(user.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(all(lines, 'EXPOSE')).toEqual(['9201']);
    expect(all(lines, 'HEALTHCHECK').join(' ')).toMatch(/\/healthz/);
    expect(JSON.parse(all(lines, 'CMD').at(-1)!)).toEqual(SERVICE_COMMAND);
    expect(existsSync(path.join(ROOT, 'service/main.ts'))).toBe(true);
  });

  it('npm start runs the compiled service with the same Node options as the image', () => {
    const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    // The last command of the script, after the build check and the environment it sets.
    const command = start.split('&&').at(-1)!.trim().split(/\s+/).filter((word) => !/^[A-Z_]+=/.test(word));
    expect(command).toEqual(SERVICE_COMMAND);
  });

  it('.dockerignore keeps local state, dependencies and old builds out, and lets in what the build stage copies', () => {
    const entries = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['node_modules', 'data', 'dist', '.git']) expect(entries).toContain(entry);
    // The last matching entry decides, as Docker reads the file; "!" lets a path in again.
    const ignored = (file: string) => {
      let result = false;
      for (const entry of entries) {
        const negated = entry.startsWith('!');
        const pattern = negated ? entry.slice(1) : entry;
        if (file === pattern || file.startsWith(`${pattern}/`)) result = !negated;
      }
      return result;
    };
    for (const copy of all(build().lines, 'COPY')) {
      const sources = copy.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(ignored(source), `${source} is copied but ignored`).toBe(false);
    }
  });
});

describe('Grafana: docker-compose.yml and deploy/grafana/provisioning', () => {
  const GRAFANA_DIR = path.join(ROOT, 'deploy/grafana');
  // Where the image reads provisioning files (GF_PATHS_PROVISIONING).
  const DATASOURCES = '/etc/grafana/provisioning/datasources';
  const DASHBOARD_PROVIDERS = '/etc/grafana/provisioning/dashboards';

  interface DatasourcesFile {
    apiVersion: number;
    datasources: { name: string; uid: string; type: string; jsonData: Record<string, unknown>; secureJsonData?: Record<string, string> }[];
  }
  interface ProvidersFile {
    apiVersion: number;
    providers: { name: string; type: string; folder?: string; allowUiUpdates?: boolean; options: { path: string } }[];
  }

  const grafana = () => service('grafana');
  const provisioned = <T>(containerDir: string, file: string): T => {
    const dir = hostPath(grafana(), containerDir);
    expect(dir, `${containerDir} is not mounted`).toBeDefined();
    return yamlToJson<T>(readFileSync(path.join(dir!, file), 'utf8'));
  };
  /** Grafana's `$VAR` / `${VAR}` lookups in provisioning values, from the service's environment. */
  const resolved = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    const env = environment(grafana());
    return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, braced?: string, bare?: string) => {
      const name = (braced ?? bare)!;
      if (env[name] === undefined) throw new Error(`provisioning refers to ${name}, which the grafana service does not set`);
      return env[name];
    });
  };

  it('installs the ClickHouse data source plugin, pinned, before Grafana starts', () => {
    const env = environment(grafana());
    expect(env.GF_PLUGINS_PREINSTALL_SYNC).toMatch(new RegExp(`^${CLICKHOUSE_PLUGIN}@\\d+\\.\\d+\\.\\d+$`));
    // Deprecated: Grafana 12 only translates it into preinstall_sync.
    expect(env.GF_INSTALL_PLUGINS).toBeUndefined();
  });

  it('serves port 3000 on loopback to anonymous viewers, with the admin password the README gives', () => {
    const env = environment(grafana());
    expect(ports(grafana())).toEqual([{ hostIp: '127.0.0.1', published: 3000, target: 3000 }]);
    expect([env.GF_AUTH_ANONYMOUS_ENABLED, env.GF_AUTH_ANONYMOUS_ORG_ROLE]).toEqual(['true', 'Viewer']);
    expect(env.GF_SECURITY_ADMIN_PASSWORD ?? 'admin').not.toBe('admin');
    const credentials = `\`${env.GF_SECURITY_ADMIN_USER}\` / \`${env.GF_SECURITY_ADMIN_PASSWORD}\``;
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8').includes(credentials), `README.md should give ${credentials}`).toBe(true);
  });

  it('starts once ClickHouse is healthy and is health-checked on /api/health', () => {
    expect(dependencies(grafana())).toEqual({ clickhouse: 'service_healthy' });
    expect((grafana().healthcheck?.test as string[]).join(' ')).toContain('http://127.0.0.1:3000/api/health');
  });

  it('mounts the provisioning folders and the dashboards where the dashboard provider looks for them', () => {
    expect(hostPath(grafana(), DATASOURCES)).toBe(path.join(GRAFANA_DIR, 'provisioning/datasources'));
    expect(hostPath(grafana(), DASHBOARD_PROVIDERS)).toBe(path.join(GRAFANA_DIR, 'provisioning/dashboards'));
    const { apiVersion, providers } = provisioned<ProvidersFile>(DASHBOARD_PROVIDERS, 'k8s-expenses.yaml');
    expect(apiVersion).toBe(1);
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ type: 'file', allowUiUpdates: false });
    expect(hostPath(grafana(), providers[0].options.path)).toBe(path.dirname(DASHBOARD_FILE));
    expect(hostPath(grafana(), environment(grafana()).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH)).toBe(DASHBOARD_FILE);
  });

  it("provisions the data source the dashboard selects: the compose ClickHouse, with the stack's user, password and database", () => {
    const { apiVersion, datasources } = provisioned<DatasourcesFile>(DATASOURCES, 'k8s-expenses.yaml');
    expect(apiVersion).toBe(1);
    expect(datasources).toHaveLength(1);
    const [ds] = datasources;
    const selected = loadDashboard().templating.list.find((v) => v.name === 'datasource');
    expect([ds.type, ds.uid]).toEqual([CLICKHOUSE_PLUGIN, selected?.current?.value]);
    expect(ds.jsonData).toMatchObject({ host: 'clickhouse', protocol: 'http' });
    expect(ports(service('clickhouse')).map((p) => p.target)).toContain(ds.jsonData.port);
    const clickhouse = environment(service('clickhouse'));
    expect(resolved(ds.jsonData.username)).toBe(clickhouse.CLICKHOUSE_USER);
    expect(resolved(ds.secureJsonData?.password)).toBe(clickhouse.CLICKHOUSE_PASSWORD);
    expect(resolved(ds.jsonData.defaultDatabase)).toBe(environment(service('migrate')).CLICKHOUSE_DATABASE);
  });
});
