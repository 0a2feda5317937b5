/**
 * What the engine core's collaborators share, one instance per engine: the options, the guarded
 * timers, the counters, the session-timer policy (RFC 4028), cdr frames, and the primitives every
 * handler uses: put text on the wire, the listen point and Contact for a transport, find an app,
 * hand a frame to an app, and echo what was sent (`OK|application|...|Msg sent:|`).
 */
import type { Clock, Timers } from '../common/clock.js';
import type { Logger } from '../observability/logger.js';
import type { AppConnection, AppServer } from './app-server.js';
import { CdrEmitter } from './cdr-emitter.js';
import { newUuid, protocolTime } from './ids.js';
import type { NatFlowPolicy } from './nat-flow.js';
import type { RequestGate } from './request-gate.js';
import { SessionTimerPolicy } from './session-timer.js';
import { hostport } from './sip-address.js';
import type { ListenPoint, MessageSource, SipProtocol, SipTransport } from './sip-transport.js';
import type { Target, TransactionContext } from './transaction-context.js';

/** The engine's counters (index.ts `stats()`), written by the core and its handlers. */
export interface EngineCounters {
  messagesReceived: number;
  messagesSent: number;
  malformedDropped: number;
  badRequestsAnswered: number;
  retransmissionsSent: number;
  retransmissionsAbsorbed: number;
  /** In-dialog requests sent to the peer's flow instead of its Contact or first route (nat-flow.ts). */
  natFlowRequests: number;
}

export interface EngineCoreOptions {
  transport: SipTransport;
  apps: AppServer;
  logger: Logger;
  timers: Timers;
  clock: Clock;
  t1: number;
  t2: number;
  t4: number;
  /** Min-SE in seconds (RFC 4028; default 90). */
  minSessionExpires?: number;
  /** Outbound mode: dial this app (srf.listen) for new requests no connected app routed. */
  requestHandler?: { host: string; port: number };
  /** NAT mode per dialog peer (nat-flow.ts); default DETECT_NAT, drachtio-server's NAT detection. */
  natFlow?: NatFlowPolicy;
  /** Asked about every request that matches no transaction (request-gate.ts); default: all allowed. */
  requestGate?: RequestGate;
}

/** What the engine core's collaborators share (the header above). */
export class EngineContext {
  readonly log: Logger;
  readonly transport: SipTransport;
  readonly apps: AppServer;
  readonly clock: Clock;
  /** The injected timers, with every callback guarded: a bug in one timer must not stop the process. */
  readonly timers: Timers;
  /** What transactions get: the guarded timers, T1/T2/T4, send, and the retransmission counter. */
  readonly txn: TransactionContext;
  readonly sessionTimers: SessionTimerPolicy;
  readonly cdr: CdrEmitter;
  #closed = false;

  constructor(
    readonly options: EngineCoreOptions,
    readonly counters: EngineCounters,
  ) {
    this.log = options.logger;
    this.transport = options.transport;
    this.apps = options.apps;
    this.clock = options.clock;
    this.timers = guardedTimers(options.timers, (err) => this.log.error({ err }, 'engine: error in a timer callback'));
    this.txn = {
      timers: this.timers, t1: options.t1, t2: options.t2, t4: options.t4,
      send: (target, text, onError) => this.send(target, text, onError),
      countRetransmission: () => {
        this.counters.retransmissionsSent++;
      },
    };
    this.sessionTimers = new SessionTimerPolicy(options.minSessionExpires);
    this.cdr = new CdrEmitter(options.apps, () => this.now());
  }

  /** True once the engine closed: nothing more goes on the wire. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent. */
  close(): void {
    this.#closed = true;
  }

  send(target: Target, text: string, onError?: (err: Error) => void): void {
    if (this.#closed) return;
    this.counters.messagesSent++;
    if (this.log.isLevelEnabled('debug')) this.log.debug({ to: `${target.protocol}/${target.host}:${target.port}`, sip: text }, 'engine: send');
    this.transport.send(target.protocol, target.host, target.port, text, onError, target.serverName, target.reconnect);
  }

  now(): string {
    return protocolTime(this.clock.now());
  }

  point(protocol: SipProtocol): ListenPoint {
    return this.transport.pointFor(protocol) ?? (this.transport.points[0] as ListenPoint);
  }

  /**
   * The engine's Contact for a transport. TLS: `<sips:host:port>` when the request URI was sips:
   * (RFC 3261 section 8.1.1.8 requires a SIPS Contact then), else `<sip:host:port;transport=tls>`.
   */
  contactFor(protocol: SipProtocol, sips = false): string {
    const p = this.point(protocol);
    if (protocol === 'tls' && sips) return `<sips:${hostport(p)}>`;
    return `<sip:${hostport(p)}${protocol === 'udp' ? '' : `;transport=${protocol}`}>`;
  }

  appById(id: number | undefined): AppConnection | undefined {
    return id === undefined ? undefined : this.apps.byId(id);
  }

  /** Deliver a SIP message to an app: `uuid|sip|source|bytes|proto|addr|port|time|txnId|dialogId|[...]` + CRLF + SIP. */
  toApp(app: AppConnection, meta: string, text: string, bytes: number): void {
    app.send(`${newUuid()}|sip|${meta.replace('{bytes}', String(bytes))}\r\n${text}`);
  }

  /**
   * Deliver a message received from the network:
   * `network|bytes|proto|addr|port|time|txnId|dialogId|` (+ `recvAddr|recvPort|` for new requests).
   */
  forwardToApp(app: AppConnection, buf: Buffer, source: MessageSource, txnId: string, dialogId: string, withLocal = false): void {
    const local = withLocal ? `${source.local.host}|${source.local.port}|` : '';
    this.toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.now()}|${txnId}|${dialogId}|${local}`, buf.toString('utf8'), buf.length);
  }

  /** Reply to an app's `sip` message with what went on the wire: `OK|application|...|<txnId>|[<dialogId>||]Msg sent:|` + SIP. */
  echo(app: AppConnection, msgId: string, target: { protocol: string; host: string; port: number }, txnId: string, text: string, dialogId?: string): void {
    const bytes = Buffer.byteLength(text);
    const dlg = dialogId === undefined ? '' : `${dialogId}||`;
    app.respond(msgId, `OK|application|${bytes}|${target.protocol}|${target.host}|${target.port}|${this.now()}|${txnId}|${dlg}Msg sent:|`, text);
  }
}

function guardedTimers(t: Timers, onError: (err: unknown) => void): Timers {
  const guard = (fn: () => void) => (): void => {
    try {
      fn();
    } catch (err) {
      onError(err);
    }
  };
  return {
    setTimeout: (fn, ms) => t.setTimeout(guard(fn), ms),
    clearTimeout: (h) => t.clearTimeout(h),
    setInterval: (fn, ms) => t.setInterval(guard(fn), ms),
    clearInterval: (h) => t.clearInterval(h),
  };
}
