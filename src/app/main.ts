/**
 * `npm start`: read the configuration once, start the application, stop cleanly on SIGTERM/SIGINT.
 */
import { isAppError } from '../common/errors.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../observability/logger.js';
import { startApplication } from './application.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(isAppError(err) ? `${err.code}: ${err.message}` : err);
    process.exit(2);
  }
  const logger = createLogger({ level: config.log.level, base: { service: 'siprec-b2bua' } });
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (kept running)'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (kept running)'));
  const app = await startApplication(config, logger);
  logger.info('ready');
  // First SIGTERM/SIGINT: drain (new calls 503, calls in progress run on up to calls.drainSeconds),
  // then close. A second signal closes at once.
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: closing now');
      void app.close().then(() => process.exit(0));
      return;
    }
    stopping = true;
    logger.info({ signal, drainSeconds: config.calls.drainSeconds }, 'stopping: draining calls');
    void app.calls
      .drain(config.calls.drainSeconds * 1000)
      .then((cut) => logger.info({ cut }, 'drained'))
      .then(() => app.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main().catch((err: unknown) => {
  console.error(isAppError(err) ? `${err.code}: ${err.message}` : err);
  process.exit(1);
});
