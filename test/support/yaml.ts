// YAML streams (`helm template` output) as plain data, without a YAML library in the project:
// Python's PyYAML (Debian's python3-yaml, which docker-compose depends on; scripts/test-prerequisites.sh
// installs both) parses them and hands JSON back.
import { spawnSync } from 'node:child_process';

const PARSE = 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d is not None], sys.stdout)';

/** Every non-empty document of a YAML stream, in order. */
export function yamlDocuments<T = unknown>(text: string): T[] {
  const result = spawnSync('python3', ['-c', PARSE], { input: text, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`python3 is needed to read YAML (scripts/test-prerequisites.sh installs it): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`cannot parse YAML: ${result.stderr}`);
  return JSON.parse(result.stdout) as T[];
}
