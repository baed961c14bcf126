// The log lines of service processes a test started (several runs of one when it was restarted),
// kept in a file for a failure to be looked into, and their errors for the failure message.
import { appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitAllFinal, type PodHour } from './expenses.ts';
import type { ServiceProcess } from './service-process.ts';

/** Writes every log line of every run to a file in the temp directory; returns its path. */
export async function writeLogs(name: string, runs: readonly ServiceProcess[]): Promise<string> {
  const file = path.join(tmpdir(), `k8s-expenses-${name}-${process.pid}.log`);
  await writeFile(file, runs.map((run, i) => run.logs.map((l) => `[run ${i}] ${JSON.stringify(l)}`).join('\n')).join('\n'));
  return file;
}

/** Error and fatal lines (pino level 50 and above) of every run, prefixed with the run. */
export function errorLines(name: string, runs: readonly ServiceProcess[]): string[] {
  return runs.flatMap((run, i) => run.logs.filter((l) => (l.level ?? 0) >= 50).map((l) => `[${name} run ${i}] ${JSON.stringify(l)}`));
}

/**
 * waitAllFinal on the newest run, naming the log file and the first errors when it times out.
 * `requireFinal` false accepts provisional rows: for a test about the values, after a pause longer
 * than IDLE_FINALIZE (see test/integration/faults/idle-close-reopened.test.ts).
 * (The embedded engine belongs to the process, so the rows are read through its SQL endpoint.)
 */
export async function finalRows(name: string, runs: readonly ServiceProcess[], sqlUrl: string, timeoutMs = 180_000, requireFinal = true): Promise<Map<string, PodHour>> {
  try {
    return await waitAllFinal(runs[runs.length - 1].url, sqlUrl, timeoutMs, `${name} to write everything${requireFinal ? ' final' : ''}`, requireFinal);
  } catch (err) {
    // The processor's own view (lag, open hours, newest samples) tells a stuck hour from a slow one.
    const metrics = await fetch(`${runs[runs.length - 1].url}/metrics`, { signal: AbortSignal.timeout(5_000) })
      .then(async (res) => (await res.text()).split('\n').filter((l) => l.startsWith('k8s_expenses_processor_')).join('\n'))
      .catch((e: unknown) => `(no metrics: ${(e as Error).message})`);
    const file = await writeLogs(name, runs);
    await appendFile(file, `\n--- metrics of the last run ---\n${metrics}\n`);
    throw new Error(`${(err as Error).message}; logs and metrics in ${file}\n${errorLines(name, runs).slice(0, 10).join('\n')}`, { cause: err });
  }
}
