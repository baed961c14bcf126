// Process entry point: `npm start`. Configuration errors stop start-up with a message naming the variable.
import { isatty } from 'node:tty';
import { errorMessage } from '../core/errors.ts';
import { TenantsFileError } from '../receiver/tenants-file.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startService } from './service.ts';

// SIGHUP re-reads the tenants file (`kill -HUP <pid>`); one before the service is up must not kill
// it (Node's default for SIGHUP is to exit). A SIGHUP also comes when the terminal the service was
// started in closes: then it stops as on SIGTERM, rather than live on unseen, holding its ports and
// its data directory.
const startedOnTerminal = isatty(1);
let reload: () => void = () => undefined;
let hangUp: () => void = () => endByHangUp();
process.on('SIGHUP', () => (startedOnTerminal && !isatty(1) ? hangUp() : reload()));

/**
 * Ends the process by the hang-up signal itself, as a process without a handler would: Node's own
 * exit aborts while restoring a terminal that hung up, and the parent learns why the process ended.
 */
function endByHangUp(): void {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  let service;
  try {
    service = await startService(config, logger);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TenantsFileError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }

  let signals = 0;
  let failing = false;
  // A role that failed for good (a migration edited after it was applied, a refused password):
  // waiting longer cannot help, so the process stops, saying why, and the orchestrator restarts
  // it or a person reads the line.
  service.started.catch((err: unknown) => {
    if (signals > 0) return;
    failing = true;
    logger.fatal({ err }, `stopping: ${errorMessage(err)}`);
    const timer = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT);
    timer.unref();
    void service.stop().finally(() => process.exit(1));
  });

  const shutdown = (signal: string) => {
    if (failing) return;
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT }, 'graceful shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT);
    timer.unref();
    service.stop().then(
      () => {
        logger.info('stopped');
        if (signal === 'SIGHUP') endByHangUp();
        else process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  hangUp = () => shutdown('SIGHUP');
  reload = () => {
    logger.info('SIGHUP: reloading the tenants file');
    service.reload();
  };
}

void main();
