// Summarises a V8 .cpuprofile (written by `node --cpu-prof`) over a time window: top functions by
// self time, and time per area of the code (decode, record encoding, the Kafka client, fastify, ...),
// both "self" (each sample goes to the innermost frame that has a source file) and "inclusive"
// (each sample counts once for every area on its stack).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Milliseconds of samples inside the window (every thread state: idle included). */
  windowMs: number;
  /** Milliseconds the main thread was not idle. */
  busyMs: number;
  topFunctions: { name: string; where: string; selfMs: number; pct: number }[];
  areasSelf: { area: string; ms: number; pct: number }[];
  areasInclusive: { area: string; ms: number; pct: number }[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  let p = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (p.startsWith(PROJECT_ROOT + path.sep)) p = p.slice(PROJECT_ROOT.length + 1);
  // The compiled service (dist/x.js) is reported under its source (x.ts).
  if (p.startsWith('dist/') && p.endsWith('.js')) p = `${p.slice(5, -3)}.ts`;
  return p;
}

/** Which part of the receiver a source file belongs to. */
export function areaOf(url: string): string | undefined {
  if (!url) return undefined;
  const p = shortUrl(url);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(p);
  if (nm) {
    const pkg = nm[1];
    if (pkg === '@platformatic/wasm-utils') return 'kafka client: lz4/snappy (WebAssembly)';
    if (pkg === '@platformatic/dynamic-buffer') return 'kafka client: buffers';
    if (pkg === '@node-rs/crc32') return 'kafka client: record batch + crc';
    if (pkg === '@platformatic/kafka') {
      if (/protocol\/compression/.test(nm[2])) return 'kafka client: compression';
      if (/protocol\/(records|crc32c|writer|murmur2)|apis\/producer\/produce/.test(nm[2])) return 'kafka client: record batch + crc';
      if (/protocol\/reader|apis\/consumer\/fetch|clients\/consumer/.test(nm[2])) return 'kafka client: fetch + decode';
      return 'kafka client (other)';
    }
    if (pkg.startsWith('@fastify/') || pkg === 'fastify' || pkg === 'find-my-way' || pkg === 'light-my-request' || pkg === 'avvio') return 'fastify';
    if (pkg === 'pino' || pkg.startsWith('pino-') || pkg === 'sonic-boom') return 'pino';
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return 'tsx loader';
    return pkg;
  }
  if (p === 'receiver/cluster-records.ts' || p === 'receiver/decode/labels.ts') return 'prepareRecords (validate, group)';
  if (p.startsWith('receiver/decode/')) return 'decode (snappy + protobuf)';
  if (p === 'ingest/record-format.ts' || p === 'ingest/record-encode.ts' || p === 'ingest/record-symbols.ts' || p === 'ingest/varint.ts') return 'record encoding';
  if (p.startsWith('ingest/kafka/') || p === 'ingest/group-commit.ts' || p === 'ingest/record-log.ts') return 'publisher (ours)';
  if (p.startsWith('ingest/embedded/')) return 'embedded log';
  if (p.startsWith('receiver/')) return 'receiver route (ours)';
  if (p.startsWith('processor/')) return 'processor';
  if (p.startsWith('service/')) return 'service (ours)';
  if (p.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([a-z_]+)/.exec(p);
    const mod = m?.[1] ?? 'internal';
    if (['http', 'http2', '_http_server', '_http_common', '_http_outgoing', '_http_incoming', 'net', 'stream_base_commons', 'streams', 'stream', 'timers', 'async_hooks', 'process', 'events', 'dns'].includes(mod)) return 'node http/net/streams';
    if (mod === 'zlib') return 'node zlib';
    if (mod === 'buffer') return 'node buffer';
    if (mod === 'fs') return 'node fs';
    return `node ${mod}`;
  }
  return p;
}

function special(name: string): string | undefined {
  if (name === '(garbage collector)') return 'GC (main thread)';
  if (name === '(idle)') return '(idle)';
  if (name === '(program)') return '(program: native, unattributed)';
  if (name === '(root)') return '(root)';
  return undefined;
}

/** `fromUs`/`toUs`: the window in the profile's clock (CLOCK_MONOTONIC microseconds). */
export function summariseProfile(file: string, fromUs = -Infinity, toUs = Infinity, top = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) byId.set(n.id, n);
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfMs = new Map<string, { name: string; where: string; ms: number }>();
  const areaSelf = new Map<string, number>();
  const areaIncl = new Map<string, number>();
  let windowMs = 0;
  let idleMs = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    // The time until the next sample belongs to this one.
    const dt = (i + 1 < prof.timeDeltas.length ? prof.timeDeltas[i + 1] : 0) / 1000;
    if (dt <= 0) continue;
    windowMs += dt;
    const leaf = byId.get(prof.samples[i])!;
    const sp = special(leaf.callFrame.functionName);
    if (sp === '(idle)') {
      idleMs += dt;
      add(areaSelf, sp, dt);
      continue;
    }
    const where = leaf.callFrame.url ? `${shortUrl(leaf.callFrame.url)}:${leaf.callFrame.lineNumber + 1}` : '(native)';
    const name = leaf.callFrame.functionName || '(anonymous)';
    const key = `${name} ${where}`;
    const entry = selfMs.get(key) ?? { name, where, ms: 0 };
    entry.ms += dt;
    selfMs.set(key, entry);

    // Self area: the innermost frame with a source file (a builtin such as TypedArray.set counts
    // for the code that called it); GC and (program) are their own areas.
    let selfArea = sp;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const area = areaOf(frame.url);
      if (area) {
        selfArea ??= area;
        seen.add(area);
      }
    }
    add(areaSelf, selfArea ?? '(native, no JS caller)', dt);
    if (sp) seen.add(sp);
    for (const a of seen) add(areaIncl, a, dt);
  }
  const busyMs = windowMs - idleMs;
  const pct = (ms: number) => Math.round((ms / Math.max(busyMs, 1e-9)) * 1000) / 10;
  const sorted = (m: Map<string, number>) =>
    [...m].filter(([a]) => a !== '(idle)').sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, ms: Math.round(ms), pct: pct(ms) }));
  return {
    windowMs: Math.round(windowMs),
    busyMs: Math.round(busyMs),
    topFunctions: [...selfMs.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.ms), pct: pct(e.ms) })),
    areasSelf: sorted(areaSelf),
    areasInclusive: sorted(areaIncl),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(`  main thread: ${s.busyMs} ms busy of ${s.windowMs} ms sampled (percentages are of busy time)`);
  lines.push('  by area, self (innermost frame with a source file):');
  for (const a of s.areasSelf) lines.push(`    ${a.pct.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(6)} ms  ${a.area}`);
  lines.push('  by area, inclusive (anywhere on the stack):');
  for (const a of s.areasInclusive) lines.push(`    ${a.pct.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(6)} ms  ${a.area}`);
  lines.push('  top functions by self time:');
  for (const f of s.topFunctions) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(6)} ms  ${f.name}  ${f.where}`);
  return lines.join('\n');
}
