import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../../../scripts/readme-sections.ts';
import { configSchema, configVariables, loadConfig } from '../../../service/config.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has its generated sections (configuration table, cost rules, SQL cookbook) up to date', () => {
    // Run `npx tsx scripts/readme-sections.ts` after changing the schema, RULES.md or COOKBOOK.md.
    expect(renderReadme(readme)).toBe(readme);
  });

  it('lists every configuration variable once, with a default the schema itself accepts', () => {
    const rows = [...readme.matchAll(/^\| `([A-Z_0-9]+)` \| ([^|]+) \|/gm)].map((m) => ({ name: m[1], fallback: m[2].trim() }));
    expect(rows.map((r) => r.name).sort()).toEqual(Object.keys(configSchema.shape).sort());
    const defaults = loadConfig({});
    for (const row of rows) {
      if (row.fallback === '(unset)') {
        expect(defaults[row.name as keyof typeof defaults], row.name).toBeUndefined();
        continue;
      }
      const text = row.fallback === '(empty)' ? '' : row.fallback.replace(/^`|`$/g, '');
      // Setting the documented default explicitly must give what leaving it unset gives.
      const explicit = loadConfig({ [row.name]: text });
      expect(explicit[row.name as keyof typeof explicit], row.name).toEqual(defaults[row.name as keyof typeof defaults]);
    }
  });

  it('describes every variable', () => {
    for (const v of configVariables()) expect(v.description.length, v.name).toBeGreaterThan(10);
  });

  it('names the two fresh-machine commands, and CI runs the test one', () => {
    expect(readme).toContain('`npm install && npm start`');
    expect(readme).toContain('`npm install && npm test`');
    const ci = readFileSync(new URL('../../../.ci/run', import.meta.url), 'utf8');
    expect(ci).toMatch(/npm install[\s\S]*npm test/);
  });
});
