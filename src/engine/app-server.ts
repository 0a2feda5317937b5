/**
 * The app-facing side of the engine (docs/engine.md protocol section 2-4, docs/engine.md item A1-A5): a TCP
 * listener for drachtio-srf apps (inbound mode), one AppConnection per socket, authentication,
 * route/remove_route with round-robin selection per verb, ping, and framed replies.
 *
 * `sip` (and `proxy`) messages are handed to the engine core through `onSipMessage`; everything
 * an app sends is untrusted, so a bad frame closes that app's connection and nothing else.
 */
import net from 'node:net';
import type { Logger } from '../observability/logger.js';
import { FrameDecoder, encodeFrame, splitPayload } from './frame-codec.js';
import { newUuid } from './ids.js';

/** Version reported in the authenticate reply: >= v0.8.2 makes srf enable pings. */
export const SERVER_VERSION = 'v0.9.10';

export class AppConnection {
  readonly id: number;
  authenticated = false;
  readonly verbs = new Set<string>();
  /** True for outbound-mode connections the engine dialled. */
  outbound = false;
  onAuthenticated: (() => void) | undefined;
  #closed = false;
  readonly #socket: net.Socket;

  constructor(id: number, socket: net.Socket) {
    this.id = id;
    this.#socket = socket;
  }

  get connected(): boolean {
    return !this.#closed && !this.#socket.destroyed;
  }

  #corked = false;

  /**
   * Send one framed payload; silently ignored once the connection is gone. Writes made in the
   * same event-loop turn are coalesced into one writev (cork/uncork): under load this cuts the
   * syscalls to the app several-fold.
   */
  send(payload: string): void {
    if (!this.connected) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      // setImmediate (not nextTick): every datagram read in the same poll phase joins one writev
      setImmediate(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(encodeFrame(payload));
  }

  /** `uuid|response|<msgId>|<rest>` [+ CRLF + sip]. */
  respond(msgId: string, rest: string, sip?: string): void {
    this.send(`${newUuid()}|response|${msgId}|${rest}${sip === undefined ? '' : '\r\n' + sip}`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
  }
}

export interface AppServerOptions {
  host: string;
  port: number;
  secret: string;
  logger: Logger;
  /** Returns the authenticate reply's hostport list (e.g. 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060'). */
  hostports: () => string;
  onSipMessage: (app: AppConnection, msgId: string, tokens: string[], sip: string) => void;
  onDisconnect: (app: AppConnection) => void;
}

export class AppServer {
  readonly #opts: AppServerOptions;
  readonly #server: net.Server;
  readonly #apps = new Set<AppConnection>();
  readonly #routes = new Map<string, AppConnection[]>();
  readonly #rr = new Map<string, number>();
  #nextId = 1;
  #closed = false;
  address = { host: '', port: 0 };

  constructor(opts: AppServerOptions) {
    this.#opts = opts;
    this.#server = net.createServer((s) => this.#accept(s));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', reject);
        const a = this.#server.address() as net.AddressInfo;
        this.address = { host: this.#opts.host, port: a.port };
        resolve();
      });
    });
  }

  get connectedApps(): number {
    let n = 0;
    for (const a of this.#apps) if (a.authenticated) n++;
    return n;
  }

  /** Pick the next app (round-robin) that routed this verb (lower-case), or undefined. */
  pick(verb: string): AppConnection | undefined {
    const list = this.#routes.get(verb);
    if (!list || list.length === 0) return undefined;
    const i = (this.#rr.get(verb) ?? 0) % list.length;
    this.#rr.set(verb, i + 1);
    return list[i];
  }

  byId(id: number): AppConnection | undefined {
    for (const a of this.#apps) if (a.id === id) return a.connected ? a : undefined;
    return undefined;
  }

  hasRoute(verb: string): boolean {
    return (this.#routes.get(verb)?.length ?? 0) > 0;
  }

  /** Every app that routed a verb (for cdr:* fan-out). */
  routed(verb: string): readonly AppConnection[] {
    return this.#routes.get(verb) ?? [];
  }

  #accept(socket: net.Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#attach(socket, false);
  }

  /**
   * Outbound mode (docs/engine.md protocol section 2): dial an app that did `srf.listen()`, wait for
   * its `authenticate`, and resolve with the authenticated connection.
   */
  dial(host: string, port: number, timeoutMs = 5000): Promise<AppConnection> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('app server closed'));
        return;
      }
      const socket = net.connect({ host, port });
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error('outbound app did not authenticate in time')), timeoutMs);
      socket.once('error', fail);
      socket.once('close', () => fail(new Error('outbound app connection closed')));
      socket.once('connect', () => {
        const app = this.#attach(socket, true);
        app.onAuthenticated = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(app);
        };
      });
    });
  }

  /** Outbound-mode connections (the engine closes the idle ones). */
  outboundApps(): AppConnection[] {
    return [...this.#apps].filter((a) => a.outbound);
  }

  #attach(socket: net.Socket, outbound: boolean): AppConnection {
    socket.setNoDelay(true);
    const app = new AppConnection(this.#nextId++, socket);
    app.outbound = outbound;
    this.#apps.add(app);
    const decoder = new FrameDecoder();
    const log = this.#opts.logger;
    socket.on('data', (chunk: Buffer) => {
      const r = decoder.push(chunk);
      for (const payload of r.frames) {
        try {
          this.#handle(app, payload);
        } catch (err) {
          log.error({ err, app: app.id }, 'engine: error handling app message');
        }
        if (!app.connected) return;
      }
      if (r.error) {
        log.warn({ app: app.id, reason: r.error, code: 'ENGINE_FRAME_INVALID' }, 'engine: invalid frame from app; closing');
        app.close();
      }
    });
    socket.on('error', (err) => log.debug({ err, app: app.id }, 'engine: app socket error'));
    socket.on('close', () => {
      this.#apps.delete(app);
      for (const [verb, list] of this.#routes) {
        const rest = list.filter((a) => a !== app);
        if (rest.length) this.#routes.set(verb, rest);
        else this.#routes.delete(verb);
      }
      app.close();
      if (app.authenticated) log.info({ app: app.id }, 'engine: app disconnected');
      this.#opts.onDisconnect(app);
    });
    return app;
  }

  #handle(app: AppConnection, payload: string): void {
    const { tokens, sip } = splitPayload(payload);
    const msgId = tokens[0] ?? '';
    const type = tokens[1];
    if (!app.authenticated) {
      if (type !== 'authenticate') {
        app.close();
        return;
      }
      if (tokens[2] !== this.#opts.secret) {
        this.#opts.logger.warn({ app: app.id, code: 'ENGINE_AUTH_FAILED' }, 'engine: app authentication failed');
        app.respond(msgId, 'NO|incorrect secret');
        setImmediate(() => app.close());
        return;
      }
      app.authenticated = true;
      const hp = this.#opts.hostports();
      app.respond(msgId, `OK|${hp}|${SERVER_VERSION}|${hp}`);
      app.onAuthenticated?.();
      this.#opts.logger.info({ app: app.id }, 'engine: app authenticated');
      return;
    }
    switch (type) {
      case 'route': {
        const verb = (tokens[2] ?? '').toLowerCase();
        if (verb && !app.verbs.has(verb)) {
          app.verbs.add(verb);
          const list = this.#routes.get(verb) ?? [];
          list.push(app);
          this.#routes.set(verb, list);
        }
        app.respond(msgId, 'OK');
        return;
      }
      case 'remove_route': {
        const verb = (tokens[2] ?? '').toLowerCase();
        app.verbs.delete(verb);
        const list = (this.#routes.get(verb) ?? []).filter((a) => a !== app);
        if (list.length) this.#routes.set(verb, list);
        else this.#routes.delete(verb);
        app.respond(msgId, 'OK');
        return;
      }
      case 'ping':
        app.respond(msgId, 'OK|pong');
        return;
      case 'sip':
      case 'proxy':
        this.#opts.onSipMessage(app, msgId, tokens, sip);
        return;
      default:
        app.respond(msgId, `NOK|unknown message type ${type ?? ''}`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const a of this.#apps) a.close();
    this.#apps.clear();
    this.#routes.clear();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
