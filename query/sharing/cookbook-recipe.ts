// COOKBOOK.md's "Sharing idle and shared namespaces": the sharing rule's own SQL (sharing-sql.ts),
// rendered with literal values, so the recipe and the allocation API cannot drift apart. A unit
// test compares COOKBOOK.md with it; `npx tsx query/sharing/cookbook-recipe.ts` rewrites the section.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { literalValues } from '../sql-values.ts';
import { IDLE, sharingCtes, type SharingSpec } from './sharing-sql.ts';

export const SHARING_HEADING = '## Sharing idle and shared namespaces';
const SHARING_RECIPE_TITLE = 'Cost by namespace, idle and kube-system shared, last 7 days';

/** The recipe's rule: the API's shareIdle=true&shareNamespaces=kube-system&shareSplit=weighted&aggregate=namespace. */
const RECIPE_SPEC: SharingSpec = {
  source: 'k8s_expenses FINAL',
  where: 'hour >= now() - INTERVAL 7 DAY',
  bucket: '0',
  name: 'namespace',
  passes: '1',
  idle: 'cluster',
  shareIdle: true,
  includeIdle: false,
  sharedNamespaces: ['kube-system'],
  split: 'weighted',
  quantities: [],
  carried: [],
};

export function sharingRecipeSql(): string {
  return [
    `-- ${SHARING_RECIPE_TITLE}`,
    sharingCtes(RECIPE_SPEC, literalValues).trimEnd(),
    'SELECT',
    '    tenant_id,',
    '    name AS namespace,',
    '    round(sum(own_cost + shared_cost), 6) AS cost,',
    '    round(sum(own_cost - idle_cost), 6) AS direct,',
    '    round(sum(idle_cost), 6) AS idle,',
    '    round(sum(shared_cost), 6) AS shared_namespaces',
    'FROM allocations',
    'GROUP BY tenant_id, namespace',
    'ORDER BY tenant_id, cost DESC, namespace',
  ].join('\n');
}

export function sharingSection(): string {
  return [
    SHARING_HEADING,
    '',
    `Idle is what nodes cost beyond what their pods were charged: rows with namespace \`${IDLE}\`, one per`,
    'node and hour, whose `cpu_cost`, `ram_cost` and `gpu_cost` are the idle of each resource (negative',
    'when pods were charged above capacity). Shared namespaces such as `kube-system` serve everyone.',
    'The query below spreads both, in three steps:',
    '',
    "1. Each piece of a cluster's cost gets the cluster's idle CPU cost times its share of the",
    "   cluster's CPU cost, and the same for RAM and GPU.",
    '2. `kube-system`, with the idle it received, goes to the other pods of its cluster in proportion',
    '   to their cost before idle; it stays itself in a cluster where nobody else runs.',
    '3. Idle of a resource nobody used stays as `__idle__`.',
    '',
    'Nothing is created or lost: `cost` adds up to the same total as without sharing. `direct` is',
    "what a namespace's own rows cost, `idle` and `shared_namespaces` what it received. This is the",
    "allocation API's rule (`aggregate=namespace&shareIdle=true&shareNamespaces=kube-system`), and this",
    "SQL is generated from the API's own code. To spread idle per node, write `node AS idle_scope`;",
    "for one tenant, add `AND tenant_id = '...'` to the `WHERE` of `expense_rows`.",
    '',
    '```sql',
    sharingRecipeSql(),
    '```',
  ].join('\n');
}

/** `cookbook` with its sharing section replaced by (or, if absent, appended as) the generated one. */
export function withSharingSection(cookbook: string): string {
  const start = cookbook.indexOf(`${SHARING_HEADING}\n`);
  if (start === -1) return `${cookbook.trimEnd()}\n\n${sharingSection()}\n`;
  const next = cookbook.indexOf('\n## ', start + SHARING_HEADING.length);
  const end = next === -1 ? cookbook.length : next + 1;
  return `${cookbook.slice(0, start)}${sharingSection()}\n${next === -1 ? '' : `\n${cookbook.slice(end)}`}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = fileURLToPath(new URL('../COOKBOOK.md', import.meta.url));
  writeFileSync(file, withSharingSection(readFileSync(file, 'utf8')));
}
