/**
 * The composition root: builds every plane from the frozen Config, wires them, and tears them
 * down in reverse order. The only module that imports every plane; nothing imports app/.
 *
 *   start:  [embedded engine] -> signalling link -> ...planes...
 *   close:  planes (reverse) -> signalling link -> [embedded engine]
 */
import type { Config } from '../config/config-types.js';
import { startEngine, type Engine } from '../engine/index.js';
import type { Logger } from '../observability/logger.js';
import { SignalingConnection } from '../sip/signaling-connection.js';

export interface Application {
  /** The embedded engine, when no external drachtio-server is configured. */
  readonly engine: Engine | undefined;
  readonly signaling: SignalingConnection;
  /** Idempotent; resolves when every plane has closed. */
  close(): Promise<void>;
}

export async function startApplication(config: Config, logger: Logger): Promise<Application> {
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    while (closers.length > 0) {
      const next = closers.pop()!;
      try {
        await next();
      } catch (err) {
        logger.error({ err }, 'error while closing');
      }
    }
  };
  try {
    let engine: Engine | undefined;
    if (config.drachtio.host === undefined) {
      engine = await startEngine({
        sipContacts: [...config.sip.contacts],
        adminHost: '127.0.0.1',
        adminPort: config.drachtio.port,
        secret: config.drachtio.secret,
        logger: logger.child({ component: 'engine' }),
      });
      closers.push(() => engine!.close());
    }
    const signaling = await SignalingConnection.connect({
      host: config.drachtio.host ?? '127.0.0.1',
      port: config.drachtio.port,
      secret: config.drachtio.secret,
      logger,
    });
    closers.push(() => signaling.close());

    let closed: Promise<void> | undefined;
    return {
      engine,
      signaling,
      close: () => (closed ??= close()),
    };
  } catch (err) {
    await close();
    throw err;
  }
}
