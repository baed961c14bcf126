// The import rules the README's "Architecture" section states, checked on every import of the
// source folders, so the architecture stays visible in the folders: dependencies point inward.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_FOLDERS = ['core', 'receiver', 'ingest', 'processor', 'query', 'cli', 'service'];

/** Project folders each folder may import (besides itself); the most specific prefix applies. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  'processor/cost-model': ['core'],
  ingest: ['core'],
  receiver: ['core', 'ingest'],
  processor: ['core', 'ingest'],
  query: ['core', 'processor/clickhouse'],
  cli: ['core', 'receiver', 'ingest', 'processor', 'query', 'service'],
  service: ['core', 'receiver', 'ingest', 'processor', 'query'],
};

/** Packages only an adapter may import, so the rest of the code does not know which client is in use. */
const PACKAGE_OWNERS: Record<string, string[]> = {
  '@platformatic/kafka': ['ingest/kafka'],
  chdb: ['processor/clickhouse'],
  '@clickhouse/client': ['processor', 'query', 'service', 'cli'],
  fastify: ['receiver', 'query', 'service'],
};

interface Import {
  file: string;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(pattern)) {
    out.push({ file: path.relative(ROOT, file), specifier: m[1] ?? m[2] ?? m[3] });
  }
  return out;
}

/** The rule that governs a file: the longest ALLOWED key its path starts with. */
function ownerOf(relative: string): string | undefined {
  return Object.keys(ALLOWED)
    .filter((key) => relative === key || relative.startsWith(`${key}/`))
    .sort((a, b) => b.length - a.length)[0];
}

const allImports = SOURCE_FOLDERS.flatMap((folder) => sourceFiles(path.join(ROOT, folder))).flatMap(importsOf);

describe('architecture: dependencies point inward', () => {
  it('finds the source files and their imports', () => {
    expect(allImports.length).toBeGreaterThan(200);
  });

  it('every project import stays within what its folder may import', () => {
    const violations: string[] = [];
    for (const { file, specifier } of allImports) {
      if (!specifier.startsWith('.')) continue;
      const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier));
      const from = ownerOf(file)!;
      const to = ownerOf(target) ?? target.split('/')[0];
      if (to === from || target.startsWith(`${from}/`)) continue;
      const allowed = ALLOWED[from].some((prefix) => target === prefix || target.startsWith(`${prefix}/`));
      if (!allowed) violations.push(`${file} imports ${target}`);
    }
    expect(violations).toEqual([]);
  });

  it('the cost model is pure: no package, no I/O', () => {
    const impure = allImports.filter((i) => i.file.startsWith('processor/cost-model/') && !i.specifier.startsWith('.'));
    expect(impure).toEqual([]);
  });

  it('client libraries are imported only by their adapters', () => {
    const violations: string[] = [];
    for (const { file, specifier } of allImports) {
      const owners = PACKAGE_OWNERS[specifier.startsWith('chdb') ? 'chdb' : specifier];
      if (owners && !owners.some((prefix) => file.startsWith(`${prefix}/`))) violations.push(`${file} imports ${specifier}`);
    }
    expect(violations).toEqual([]);
  });

  it('the rules themselves catch a violation', () => {
    // A receiver file importing service/ is refused; one importing ingest/ is fine.
    expect(ALLOWED[ownerOf('receiver/index.ts')!]).not.toContain('service');
    expect(ALLOWED[ownerOf('processor/cost-model/rows.ts')!]).toEqual(['core']);
    expect(ownerOf('processor/clickhouse/client.ts')).toBe('processor');
  });
});
