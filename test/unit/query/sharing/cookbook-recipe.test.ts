import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARING_HEADING, sharingRecipeSql, sharingSection, withSharingSection } from '../../../../query/sharing/cookbook-recipe.ts';
import { checkReadOnlyQuery } from '../../../../query/sql-guard.ts';

const cookbook = readFileSync(join(import.meta.dirname, '../../../../query/COOKBOOK.md'), 'utf8');

describe("COOKBOOK.md's sharing recipe", () => {
  it('is the sharing rule of the allocation API, as generated (npx tsx query/sharing/cookbook-recipe.ts rewrites it)', () => {
    expect(cookbook).toContain(`${sharingSection()}\n`);
    expect(withSharingSection(cookbook)).toBe(cookbook);
  });

  it('passes the guard of `npm run sql`', () => {
    expect(checkReadOnlyQuery(sharingRecipeSql(), { database: 'k8s' })).toMatchObject({ ok: true });
  });

  it('replaces a stale section in place and appends a missing one', () => {
    const stale = `# Title\n\n${SHARING_HEADING}\n\nold text\n\n## Next\n\nkept\n`;
    expect(withSharingSection(stale)).toBe(`# Title\n\n${sharingSection()}\n\n## Next\n\nkept\n`);
    expect(withSharingSection('# Title\n')).toBe(`# Title\n\n${sharingSection()}\n`);
    expect(withSharingSection(`# Title\n\n${SHARING_HEADING}\n\nold\n`)).toBe(`# Title\n\n${sharingSection()}\n`);
  });
});
