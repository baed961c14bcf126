// The README's generated sections: the configuration table (from the config schema), the table
// definition (its latest migration), the cost rules (processor/cost-model/RULES.md) and the SQL cookbook (query/COOKBOOK.md).
// `npx tsx scripts/readme-sections.ts` rewrites them; a unit test fails when they are stale.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configVariables } from '../service/config.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

/** One table per component slice, under the slice's heading. */
export function configTable(): string {
  const lines: string[] = [];
  let section: string | undefined;
  for (const v of configVariables()) {
    if (v.section !== section) {
      if (section !== undefined) lines.push('');
      section = v.section;
      lines.push(`### ${section}`, '', '| Variable | Default | Meaning |', '|---|---|---|');
    }
    const fallback = v.fallback === undefined ? '(unset)' : v.fallback === '' ? '(empty)' : `\`${v.fallback}\``;
    lines.push(`| \`${v.name}\` | ${fallback} | ${v.description.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}

/** Shifts a document's headings one level down so it nests under the README's sections. */
function nested(file: string): string {
  return readFileSync(new URL(file, `file://${root}`), 'utf8')
    .trim()
    .replace(/^(#+) /gm, '#$1 ');
}

/**
 * The table's current definition, straight from the latest migration that defines it: the one that
 * created it, or a later one that replaced it (`-- convert-table: k8s_expenses`).
 */
function schema(): string {
  const dir = new URL('migrations/', `file://${root}`);
  const defining = readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .filter((file) => /CREATE TABLE IF NOT EXISTS \{database\}\.k8s_expenses\s*\(/.test(readFileSync(new URL(file, dir), 'utf8')));
  const [created, latest] = [defining[0], defining[defining.length - 1]];
  const origin =
    created === latest
      ? `Created by \`migrations/${created}\``
      : `Created by \`migrations/${created}\` and replaced, keeping its rows, by \`migrations/${latest}\`, whose definition this is`;
  return [
    '## The `k8s_expenses` table',
    '',
    `${origin} (\`{database}\` and \`{ttl}\` are filled in from \`CLICKHOUSE_DATABASE\` and \`CLICKHOUSE_TTL\`). The view`,
    '`k8s_expenses_final` is `SELECT * EXCEPT (is_deleted) FROM k8s_expenses FINAL`: the latest live row of every key.',
    '',
    '```sql',
    readFileSync(new URL(latest, dir), 'utf8').trim(),
    '```',
  ].join('\n');
}

export function sections(): Record<string, string> {
  return {
    'config-table': configTable(),
    schema: schema(),
    rules: nested('processor/cost-model/RULES.md'),
    cookbook: nested('query/COOKBOOK.md'),
  };
}

export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, body] of Object.entries(sections())) {
    const pattern = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!pattern.test(out)) throw new Error(`README.md has no <!-- ${name}:start --> ... <!-- ${name}:end --> markers`);
    out = out.replace(pattern, (_m, start: string, end: string) => `${start}\n${body}\n${end}`);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = `${root}README.md`;
  writeFileSync(file, renderReadme(readFileSync(file, 'utf8')));
}
