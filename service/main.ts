// Process entry point: `npm start`. Configuration errors stop start-up with a message naming the variable.
import { errorMessage } from '../core/errors.ts';
import { TenantsFileError } from '../receiver/tenants-file.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startService } from './service.ts';

// A SIGHUP before the service is up must not kill it (Node's default for SIGHUP is to exit).
let reload: () => void = () => undefined;
process.on('SIGHUP', () => reload());

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
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  reload = () => {
    logger.info('SIGHUP: reloading the tenants file');
    service.reload();
  };
}

void main();
