// The generated part of the Helm chart's values.schema.json: the variables `config` (and each
// component's `config`) may set, one property per variable of the configuration schema, so Helm
// refuses a misspelt name at lint, template and install time instead of the service ignoring it.
// `npx tsx scripts/helm-values-schema.ts` rewrites it; a unit test fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configVariables } from '../service/config.ts';

export const VALUES_SCHEMA_FILE = fileURLToPath(new URL('../deploy/helm/k8s-expenses/values.schema.json', import.meta.url));

/** JSON Schema of a `config:` map: the configuration table's variables, nothing else. */
export function configDefinition(): object {
  const properties: Record<string, object> = {};
  for (const v of configVariables()) {
    const fallback = v.fallback === undefined ? 'unset' : v.fallback === '' ? 'empty' : v.fallback;
    properties[v.name] = { type: ['string', 'number', 'boolean'], description: `${v.description} (default: ${fallback})` };
  }
  return {
    type: 'object',
    description: 'Environment variables of the configuration table (README, Configuration) as VAR: value',
    additionalProperties: false,
    properties,
  };
}

/** The schema file's text with its `definitions.config` regenerated. */
export function renderValuesSchema(text: string): string {
  const schema = JSON.parse(text) as { definitions?: Record<string, unknown> };
  if (!schema.definitions) throw new Error(`${VALUES_SCHEMA_FILE} has no "definitions"`);
  schema.definitions.config = configDefinition();
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(VALUES_SCHEMA_FILE, renderValuesSchema(readFileSync(VALUES_SCHEMA_FILE, 'utf8')));
}
