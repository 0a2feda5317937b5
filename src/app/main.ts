/**
 * `npm start`: read the configuration once, start the application, stop cleanly on SIGTERM/SIGINT.
 */
import type { Config } from '../config/config-types.js';
import { loadConfig } from '../config/load-config.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { createLogger } from '../observability/logger.js';
import { startApplication } from './application.js';
import { startErrorLine } from './start-error-line.js';

/** The configuration once read, so that a start failure can name the setting behind a port. */
let loaded: Config | undefined;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(startErrorLine(err));
    process.exit(2);
  }
  loaded = config;
  const logger = createLogger({ level: config.log.level, base: { service: 'siprec-b2bua' } });
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (kept running)'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (kept running)'));
  TypedEmitter.listenerErrorFallback = (err, event, emitter) => logger.error({ err, event, emitter }, 'event listener failed (the other listeners ran)');
  const app = await startApplication(config, logger);
  // the web console (docs/console.md): open that URL, log in with admin.token
  logger.info({ console: `${app.adminUrl}/console/` }, 'ready');
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

// one line without a stack for an operator's mistake (start-error-line.ts)
void main().catch((err: unknown) => {
  console.error(startErrorLine(err, loaded));
  process.exit(1);
});
