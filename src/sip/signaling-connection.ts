/**
 * The app's link to a drachtio server: the embedded engine (default) or an external
 * drachtio-server. drachtio-srf reconnects by itself after a lost connection (back-off from
 * 150 ms); this wrapper logs those transitions and resolves connect() on the first successful
 * authentication.
 */
import type { EventEmitter } from 'node:events';
import Srf from 'drachtio-srf';
import { AppError } from '../common/errors.js';
import type { Logger } from '../observability/logger.js';

export interface SignalingConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  readonly logger: Logger;
  /** How long connect() waits for the first authentication; default 10,000 ms. */
  readonly connectTimeoutMs?: number;
}

export class SignalingConnection {
  readonly srf: Srf;
  #connected = false;
  #closed = false;
  #hostports: string[] = [];

  private constructor(srf: Srf) {
    this.srf = srf;
  }

  /** Connects and waits for the drachtio server to accept the secret. */
  static connect(opts: SignalingConnectionOptions): Promise<SignalingConnection> {
    const srf = new Srf();
    const conn = new SignalingConnection(srf);
    const log = opts.logger.child({ component: 'signaling' });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.close();
        reject(new AppError('SIGNALING_UNAVAILABLE', `no drachtio server at ${opts.host}:${opts.port} after ${opts.connectTimeoutMs ?? 10_000} ms`));
      }, opts.connectTimeoutMs ?? 10_000);
      srf.on('connect', (err: Error | null, hostport?: string) => {
        if (err) {
          clearTimeout(timer);
          conn.close();
          reject(new AppError('SIGNALING_UNAVAILABLE', err.message, { cause: err }));
          return;
        }
        conn.#connected = true;
        conn.#hostports = String(hostport ?? '').split(',').filter(Boolean);
        log.info({ host: opts.host, port: opts.port, sip: conn.#hostports }, 'connected to drachtio server');
        clearTimeout(timer);
        resolve(conn);
      });
      srf.on('error', (e: Error) => {
        conn.#connected = false;
        if (!conn.#closed) log.warn({ err: e.message }, 'drachtio connection error');
      });
      // 'reconnecting' is emitted by srf but missing from its bundled types.
      (srf as unknown as EventEmitter).on('reconnecting', (info: { delay: number; attempt: number }) => {
        conn.#connected = false;
        log.warn(info, 'reconnecting to drachtio server');
      });
      srf.connect({ host: opts.host, port: opts.port, secret: opts.secret });
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** SIP endpoints the server offers, e.g. ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060']. */
  get hostports(): readonly string[] {
    return this.#hostports;
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected = false;
    try {
      this.srf.disconnect();
    } catch {
      // never connected: nothing to close
    }
  }
}
