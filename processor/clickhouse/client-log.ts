// Routes the ClickHouse client's own messages into the service's log. Left alone, the client prints
// each failed request as a multi-line block of its own on stderr, next to the service's JSON; and
// every such failure also reaches the caller, which reports it (a migration retry, a failed write,
// a refused query), so the client's view is kept to warnings, one line per cause per minute.
import type { ClickHouseClientConfigOptions, ErrorLogParams, Logger as ClientLogger, LogParams, WarnLogParams } from '@clickhouse/client';
import { ClickHouseLogLevel } from '@clickhouse/client';
import { errorMessage } from '../../core/errors.ts';
import { createLogLimiter, warnLimited } from '../../core/log-limiter.ts';
import type { Log } from '../../core/log.ts';

/** The client's `log` option: a logger class bound to `log` (the client takes a class, not an instance). */
export function clientLogOption(log: Log): NonNullable<ClickHouseClientConfigOptions['log']> {
  const limiter = createLogLimiter();
  const fields = ({ module, args }: LogParams) => ({ component: 'clickhouse-client', module, operation: args?.operation, query_id: args?.query_id });
  const warn = ({ err, ...params }: WarnLogParams) =>
    warnLimited(log, limiter, `${params.message} ${err ? errorMessage(err) : ''}`, { ...fields(params), error: err ? errorMessage(err) : undefined }, `ClickHouse client: ${params.message}`);
  class ServiceClickHouseLogger implements ClientLogger {
    trace(params: LogParams) {
      log.debug(fields(params), `ClickHouse client: ${params.message}`);
    }
    debug(params: LogParams) {
      log.debug(fields(params), `ClickHouse client: ${params.message}`);
    }
    info(params: LogParams) {
      log.info(fields(params), `ClickHouse client: ${params.message}`);
    }
    warn(params: WarnLogParams) {
      warn(params);
    }
    error(params: ErrorLogParams) {
      warn(params);
    }
  }
  return { LoggerClass: ServiceClickHouseLogger, level: ClickHouseLogLevel.WARN };
}
