// Vitest global setup: builds dist/ when the sources changed since the last build, once, before any
// test file runs, so the tests that start the service or a command-line tool as a process run the
// compiled code that `npm start` and the image run, and never a half-written dist/.
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from './kafka-broker.ts';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}
