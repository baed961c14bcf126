// `npm run build`: compiles the service, its command-line tools and the demo to dist/, and copies what
// the compiled code reads at run time (migrations/, proto/) beside it, so dist/ has the layout of the
// sources and every relative path resolves the same way.
//
// `node scripts/build.mjs --if-stale` (what `npm start`, `npm run sql`, ... run first) does nothing
// when dist/ is newer than every source file, so a fresh clone, or a checkout with edited sources,
// still starts the code it has. Plain JavaScript: it runs before anything is compiled.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.built');
const SOURCES = ['core', 'receiver', 'ingest', 'processor', 'query', 'cli', 'service', 'demo', 'migrations', 'proto'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
const ASSETS = ['migrations', 'proto'];

function newestMtime(entry) {
  const full = path.join(ROOT, entry);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(full)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

function isStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return [...SOURCES, ...CONFIG_FILES].some((entry) => newestMtime(entry) > built);
}

function build() {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
  for (const asset of ASSETS) cpSync(path.join(ROOT, asset), path.join(DIST, asset), { recursive: true });
  mkdirSync(DIST, { recursive: true });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

const ifStale = process.argv.includes('--if-stale');
if (!ifStale || isStale()) {
  if (ifStale) process.stderr.write('building dist/ (the sources changed since the last build) ...\n');
  const started = Date.now();
  try {
    build();
  } catch {
    process.stderr.write('build failed: fix the errors above, or run `npm run typecheck`\n');
    process.exit(1);
  }
  if (ifStale) process.stderr.write(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
