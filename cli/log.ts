// `npm run -s log -- check|repair`: the embedded log (DATA_DIR/log) after a crash or a full disk.
// `check` reads every segment and says what start-up will make of it, changing nothing; `repair`
// (with the service stopped) sets damaged bytes aside beside their segment and keeps every intact
// record at its offset. Exit codes: 0 done (check: start-up will go ahead), 1 damage that needs a
// repair, a refused or failed repair, 2 bad usage or configuration.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { errorCode, errorMessage } from '../core/errors.ts';
import { describeLog, diagnoseLog, REPAIR_COMMAND } from '../ingest/embedded/log-diagnosis.ts';
import { currentOwner } from '../ingest/embedded/log-owner.ts';
import { repairLog } from '../ingest/embedded/log-repair.ts';
import { ConfigError, loadConfig } from '../service/config.ts';

const USAGE = `usage: npm run -s log -- <command>
  check    reads DATA_DIR/log and reports its damage, changing nothing
           (exit 1 when start-up would stop on it)
  repair   with the service stopped: sets damaged bytes aside in a file beside their segment and
           keeps every intact record at its offset; prints what it did`;

async function check(dir: string): Promise<number> {
  const owner = await currentOwner(dir);
  const d = await diagnoseLog(dir);
  const out = [describeLog(d)];
  if (owner) out.push(`note: process ${owner.pid} (${owner.role}) has the log open; its newest append may be in flight`);
  if (d.obsolete.length > 0) out.push(`${d.obsolete.length} fully committed segment(s) are deleted at the next start`);
  if (d.tornTail) {
    const t = d.tornTail;
    out.push(`torn tail: ${t.segment} from byte ${t.byte} (offset ${t.offset}: ${t.detail}), ${t.cutBytes} bytes: start-up cuts it (a write a crash interrupted, never acknowledged)`);
  }
  for (const p of d.problems) out.push(`DAMAGED: ${p.message}`);
  out.push(d.problems.length > 0 ? `start-up stops on this; with the service stopped, run ${REPAIR_COMMAND}` : 'start-up reads it as it is');
  process.stdout.write(`${out.join('\n')}\n`);
  return d.problems.length > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if ((command !== 'check' && command !== 'repair') || rest.length > 0) {
    process.stderr.write(`log: ${command ? `unknown arguments: ${argv.join(' ')}` : 'no command given'}\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const dir = path.resolve(config.DATA_DIR, 'log');
  if (!existsSync(dir)) {
    process.stderr.write(`log: there is no embedded log at ${dir}: set DATA_DIR to the service's data directory\n`);
    return 1;
  }
  if (config.KAFKA_BROKERS) process.stderr.write(`note: KAFKA_BROKERS is set, so the service uses Kafka, not this log\n`);
  if (command === 'check') return check(dir);
  for (const line of await repairLog(dir)) process.stdout.write(`${line}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`log: ${errorMessage(err)} (${errorCode(err)})\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  },
);
