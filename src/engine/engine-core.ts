/**
 * The engine core: joins the SIP side (transport, transactions, dialogs) with the app side
 * (drachtio protocol). Network messages arrive in `onSipData`, app `sip` messages in `onAppSip`.
 *
 * Behaviour follows drachtio-server as described in drachtio-protocol.md section 6 and the
 * engine checklist (items referenced as A1..F31 in comments).
 */
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Clock, Timers } from '../common/clock.js';
import type { Logger } from '../observability/logger.js';
import type { AppConnection, AppServer } from './app-server.js';
import { ClientTransaction, type ClientTxnHooks } from './client-transaction.js';
import { Dialog, makeDialogId } from './dialog.js';
import { newBranch, newCallId, newCseq, newTag, newUuid, protocolTime } from './ids.js';
import { buildResponse, canAnswer, fixLocalhost, stampTopVia } from './message-builder.js';
import {
  buildAckForNon2xx,
  buildAppResponse,
  buildCancel,
  buildInDialogRequest,
  buildNewRequest,
  contentTypeFor,
  hasOptionTag,
} from './request-builders.js';
import { ServerTransaction, type ServerTxnHooks } from './server-transaction.js';
import {
  firstListItem,
  getHeader,
  getHeaderList,
  getTag,
  parseAppSip,
  parseCSeq,
  parseNameAddr,
  parseSipMessage,
  parseSipUri,
  parseVia,
  serializeSipMessage,
  uriParam,
  withTag,
  type SipHeader,
  type SipMessage,
} from './sip-message.js';
import type { ListenPoint, MessageSource, SipProtocol, SipTransport } from './sip-transport.js';
import { SessionTimerPolicy, supportsTimer } from './session-timer.js';
import type { Target, TransactionContext } from './transaction-context.js';

export interface EngineCounters {
  messagesReceived: number;
  messagesSent: number;
  malformedDropped: number;
  badRequestsAnswered: number;
  retransmissionsSent: number;
  retransmissionsAbsorbed: number;
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
}

const NO_DIALOG = 'Server error: unable to find dialog for dialog id provided';

export class EngineCore {
  readonly counters: EngineCounters = {
    messagesReceived: 0, messagesSent: 0, malformedDropped: 0, badRequestsAnswered: 0,
    retransmissionsSent: 0, retransmissionsAbsorbed: 0,
  };
  readonly #o: EngineCoreOptions;
  readonly #log: Logger;
  readonly #ctx: TransactionContext;
  readonly #serverByKey = new Map<string, ServerTransaction>();
  readonly #serverById = new Map<string, ServerTransaction>();
  readonly #clientByKey = new Map<string, ClientTransaction>();
  readonly #clientById = new Map<string, ClientTransaction>();
  readonly #dialogs = new Map<string, Dialog>();
  readonly #serverHooks: ServerTxnHooks;
  readonly #clientHooks: ClientTxnHooks;
  readonly #sessionTimers: SessionTimerPolicy;
  /** The injected timers, with every callback guarded: a bug in one timer must not stop the process. */
  readonly #timers: Timers;
  #closed = false;

  constructor(o: EngineCoreOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.#timers = guardedTimers(o.timers, (err) => this.#log.error({ err }, 'engine: error in a timer callback'));
    this.#ctx = {
      timers: this.#timers, t1: o.t1, t2: o.t2, t4: o.t4,
      send: (target, text, onError) => this.#send(target, text, onError),
      countRetransmission: () => {
        this.counters.retransmissionsSent++;
      },
    };
    this.#serverHooks = {
      onTerminated: (t) => {
        if (this.#serverByKey.get(t.key) === t) this.#serverByKey.delete(t.key);
        this.#serverById.delete(t.id);
      },
      onAckTimeout: (t) => this.#onAckTimeout(t),
      onPendingTimeout: (t) => {
        this.#serverById.delete(t.id);
        this.#log.debug({ txnId: t.id }, 'engine: app did not answer in time; request dropped');
      },
    };
    this.#clientHooks = {
      onTerminated: (t) => {
        if (this.#clientByKey.get(t.key) === t) this.#clientByKey.delete(t.key);
        this.#clientById.delete(t.id);
      },
      onLocalFailure: (t, status) => this.#onLocalFailure(t, status),
    };
    this.#sessionTimers = new SessionTimerPolicy(o.minSessionExpires);
  }

  get activeServerTransactions(): number {
    return this.#serverByKey.size;
  }
  get activeClientTransactions(): number {
    return this.#clientByKey.size;
  }
  get activeDialogs(): number {
    return this.#dialogs.size;
  }

  // ------------------------------------------------------------------ helpers

  #send(target: Target, text: string, onError?: (err: Error) => void): void {
    if (this.#closed) return;
    this.counters.messagesSent++;
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ to: `${target.protocol}/${target.host}:${target.port}`, msg: text }, 'engine: send');
    this.#o.transport.send(target.protocol, target.host, target.port, text, onError, target.serverName);
  }

  #now(): string {
    return protocolTime(this.#o.clock.now());
  }

  #point(protocol: SipProtocol): ListenPoint {
    return this.#o.transport.pointFor(protocol) ?? (this.#o.transport.points[0] as ListenPoint);
  }

  /**
   * The engine's Contact for a transport. TLS: `<sips:host:port>` when the request URI was sips:
   * (RFC 3261 section 8.1.1.8 requires a SIPS Contact then), else `<sip:host:port;transport=tls>`.
   */
  #contactFor(protocol: SipProtocol, sips = false): string {
    const p = this.#point(protocol);
    if (protocol === 'tls' && sips) return `<sips:${hostport(p)}>`;
    return `<sip:${hostport(p)}${protocol === 'udp' ? '' : `;transport=${protocol}`}>`;
  }

  #appById(id: number | undefined): AppConnection | undefined {
    return id === undefined ? undefined : this.#o.apps.byId(id);
  }

  /** Deliver a SIP message to an app: `uuid|sip|source|bytes|proto|addr|port|time|txnId|dialogId|[...]` + CRLF + SIP. */
  #toApp(app: AppConnection, meta: string, text: string, bytes: number): void {
    app.send(`${newUuid()}|sip|${meta.replace('{bytes}', String(bytes))}\r\n${text}`);
  }

  /**
   * cdr:attempt / cdr:start / cdr:stop frames (drachtio-protocol.md section 4.3, checklist A7),
   * sent only to apps that routed the verb: `uuid|cdr:<event>|<source>|<time>[|<extra>]` + CRLF + SIP.
   */
  #cdr(event: 'attempt' | 'start' | 'stop', source: 'network' | 'application', sip: () => string, extra?: string): void {
    const verb = `cdr:${event}`;
    if (!this.#o.apps.hasRoute(verb)) return;
    const payload = `|${verb}|${source}|${this.#now()}${extra === undefined ? '' : '|' + extra}\r\n${sip()}`;
    for (const app of this.#o.apps.routed(verb)) app.send(newUuid() + payload);
  }

  #serverTxn(msg: SipMessage, source: MessageSource, key: string): ServerTransaction {
    const t = new ServerTransaction(
      this.#ctx, newUuid(), key, msg,
      { protocol: source.protocol, host: source.remoteHost, port: source.remotePort },
      this.#serverHooks, 128 * this.#o.t1,
    );
    this.#serverByKey.set(key, t);
    this.#serverById.set(t.id, t);
    return t;
  }

  /** Answer a request with an engine-generated response through a server transaction (absorbs retransmissions). */
  #reject(msg: SipMessage, source: MessageSource, key: string, status: number, extra: SipHeader[] = []): ServerTransaction {
    const t = this.#serverTxn(msg, source, key);
    t.detached = true;
    this.#serverById.delete(t.id);
    t.respond(status, serializeSipMessage(buildResponse(msg, status, newTag(), extra)));
    return t;
  }

  // ------------------------------------------------------------------ network side

  /** An oversized message (513 over TCP when answerable), or a TCP stream with a bad Content-Length (400) or garbage. */
  onTooLarge(source: MessageSource, head: Buffer | undefined, reason: 'too-large' | 'bad-content-length' | 'garbage' = 'too-large'): void {
    this.counters.messagesReceived++;
    if (head && source.protocol !== 'udp') {
      const r = parseSipMessage(Buffer.concat([head, Buffer.from('\r\n\r\n')]), { stream: false });
      const msg = r.ok ? r.msg : r.msg;
      if (msg && canAnswer(msg)) {
        stampTopVia(msg, source);
        const status = reason === 'too-large' ? 513 : 400;
        this.#send({ protocol: source.protocol, host: source.remoteHost, port: source.remotePort }, serializeSipMessage(buildResponse(msg, status, newTag())));
        this.counters.badRequestsAnswered++;
        return;
      }
    }
    this.counters.malformedDropped++;
  }

  onSipData(buf: Buffer, source: MessageSource): void {
    if (this.#closed) return;
    this.counters.messagesReceived++;
    try {
      const r = parseSipMessage(buf, { stream: source.protocol !== 'udp' });
      if (!r.ok) {
        this.#malformed(r.error, r.msg, source);
        return;
      }
      // what the app gets: CRLF line ends and `SIP/2.0` even when the peer wrote otherwise
      const wire = r.wire ?? buf;
      if (this.#log.isLevelEnabled('debug')) this.#log.debug({ from: `${source.remoteHost}:${source.remotePort}`, msg: wire.toString('utf8') }, 'engine: recv');
      if (r.msg.isRequest) this.#onRequest(r.msg, wire, source);
      else this.#onResponse(r.msg, wire, source);
    } catch (err) {
      this.counters.malformedDropped++;
      this.#log.error({ err }, 'engine: error handling SIP message');
    }
  }

  #malformed(error: string, msg: SipMessage | undefined, source: MessageSource): void {
    if (msg && canAnswer(msg)) {
      stampTopVia(msg, source);
      this.#send(
        { protocol: source.protocol, host: source.remoteHost, port: source.remotePort },
        serializeSipMessage(buildResponse(msg, 400, newTag(), [], `Bad Request (${error})`)),
      );
      this.counters.badRequestsAnswered++;
    } else {
      this.counters.malformedDropped++;
    }
    this.#log.debug({ error, from: `${source.remoteHost}:${source.remotePort}` }, 'engine: malformed SIP message');
  }

  #txnKey(msg: SipMessage, method: string): string {
    const via = parseVia(firstListItem(getHeader(msg, 'via') ?? '')) ;
    const branch = via?.branch;
    if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
    const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '');
    return `${getHeader(msg, 'call-id')}|${cseq?.seq}|${getTag(getHeader(msg, 'from'))}|${branch ?? ''}|${method}`;
  }

  #onRequest(msg: SipMessage, buf: Buffer, source: MessageSource): void {
    const method = msg.method;
    if (method === 'ACK') {
      const inv = this.#serverByKey.get(this.#txnKey(msg, 'INVITE'));
      if (inv && (inv.state === 'completed' || inv.state === 'confirmed')) {
        inv.ackReceived();
        return;
      }
      this.#onAck2xx(msg, buf, source);
      return;
    }
    const key = this.#txnKey(msg, method);
    const existing = this.#serverByKey.get(key);
    if (existing) {
      existing.retransmitReceived();
      this.counters.retransmissionsAbsorbed++;
      return;
    }
    stampTopVia(msg, source);
    if (method === 'CANCEL') {
      this.#onCancel(msg, buf, source, key);
      return;
    }
    if (getTag(getHeader(msg, 'to')) !== undefined) {
      this.#onInDialog(msg, buf, source, key);
      return;
    }
    if (method === 'BYE' || method === 'UPDATE' || method === 'PRACK') {
      this.#reject(msg, source, key, 481);
      return;
    }
    this.#onNewRequest(msg, buf, source, key);
  }

  #onNewRequest(msg: SipMessage, buf: Buffer, source: MessageSource, key: string): void {
    const app = this.#o.apps.pick(msg.method.toLowerCase());
    if (msg.method === 'INVITE') this.#cdr('attempt', 'network', () => buf.toString('utf8'));
    if (!app && this.#o.requestHandler) {
      this.#dialOut(msg, buf, source, key, this.#o.requestHandler);
      return;
    }
    if (!app) {
      const t = this.#reject(msg, source, key, 503);
      if (msg.method === 'INVITE') this.#cdr('stop', 'application', () => t.lastResponse ?? '', 'call-rejected');
      return;
    }
    const t = this.#serverTxn(msg, source, key);
    t.appId = app.id;
    if (msg.method === 'INVITE') {
      t.respond(100, serializeSipMessage(buildResponse(msg, 100)));
      const fromTag = getTag(getHeader(msg, 'from')) ?? '';
      t.dialogId = makeDialogId(getHeader(msg, 'call-id') ?? '', fromTag);
      const se = this.#sessionTimers.checkRequest(msg);
      if (se.reject) {
        t.detached = true;
        this.#serverById.delete(t.id);
        t.respond(422, serializeSipMessage(buildResponse(msg, 422, newTag(), [{ name: 'min-se', value: String(se.minSe) }])));
        return;
      }
    }
    this.#toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.#now()}|${t.id}||${source.local.host}|${source.local.port}|`, buf.toString('utf8'), buf.length);
  }

  /** Outbound mode: dial the request handler, then hand it the request on the new connection. */
  #dialOut(msg: SipMessage, buf: Buffer, source: MessageSource, key: string, handler: { host: string; port: number }): void {
    const t = this.#serverTxn(msg, source, key);
    if (msg.method === 'INVITE') {
      t.respond(100, serializeSipMessage(buildResponse(msg, 100)));
      t.dialogId = makeDialogId(getHeader(msg, 'call-id') ?? '', getTag(getHeader(msg, 'from')) ?? '');
    }
    this.#armOutboundSweep();
    this.#o.apps.dial(handler.host, handler.port).then(
      (app) => {
        this.#outboundSince.set(app.id, this.#o.clock.monotonic());
        if (!t.open || t.detached) return;
        t.appId = app.id;
        this.#toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.#now()}|${t.id}||${source.local.host}|${source.local.port}|`, buf.toString('utf8'), buf.length);
      },
      (err: unknown) => {
        this.#log.warn({ err, handler }, 'engine: outbound app unreachable');
        if (t.open && !t.detached) {
          t.detached = true;
          this.#serverById.delete(t.id);
          t.respond(503, serializeSipMessage(buildResponse(msg, 503, newTag())));
        }
      },
    );
  }

  readonly #outboundSince = new Map<number, number>();
  #sweepTimer: ReturnType<Timers['setInterval']> | undefined;

  /** Close outbound connections that no dialog or transaction uses any more (checked every 32 s). */
  #armOutboundSweep(): void {
    if (this.#sweepTimer !== undefined || this.#closed) return;
    this.#sweepTimer = this.#timers.setInterval(() => {
      const inUse = new Set<number | undefined>();
      for (const d of this.#dialogs.values()) inUse.add(d.appId);
      for (const t of this.#serverByKey.values()) inUse.add(t.appId);
      for (const t of this.#clientByKey.values()) inUse.add(t.appId);
      const now = this.#o.clock.monotonic();
      for (const app of this.#o.apps.outboundApps()) {
        const since = this.#outboundSince.get(app.id) ?? now;
        if (!inUse.has(app.id) && now - since > 5000) {
          this.#outboundSince.delete(app.id);
          app.close();
        }
      }
    }, 32_000);
  }

  /** Find the dialog an in-dialog request (To-tag present) belongs to. */
  #findDialog(msg: SipMessage): Dialog | undefined {
    const callId = getHeader(msg, 'call-id') ?? '';
    const fromTag = getTag(getHeader(msg, 'from')) ?? '';
    const toTag = getTag(getHeader(msg, 'to')) ?? '';
    const uas = this.#dialogs.get(makeDialogId(callId, fromTag));
    if (uas && uas.role === 'uas' && uas.localTag === toTag) return uas;
    const uac = this.#dialogs.get(makeDialogId(callId, toTag));
    if (uac && uac.role === 'uac' && (uac.remoteTag === fromTag || uac.remoteTag === '')) return uac;
    return undefined;
  }

  #onAck2xx(msg: SipMessage, buf: Buffer, source: MessageSource): void {
    const d = this.#findDialog(msg);
    const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '');
    const st = d?.serverInvite;
    if (!d || !st || !cseq || st.state !== 'accepted' || (parseCSeq(getHeader(st.request, 'cseq') ?? '')?.seq ?? -1) !== cseq.seq) {
      this.counters.retransmissionsAbsorbed++;
      return;
    }
    st.ack2xx();
    d.serverInvite = undefined;
    const app = this.#appById(d.appId);
    if (!app) return;
    const txnId = st.id === d.initialTxnId ? st.id : newUuid();
    this.#toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.#now()}|${txnId}|${d.id}|`, buf.toString('utf8'), buf.length);
  }

  #onCancel(msg: SipMessage, buf: Buffer, source: MessageSource, key: string): void {
    const inv = this.#serverByKey.get(this.#txnKey(msg, 'INVITE'));
    if (!inv) {
      this.#reject(msg, source, key, 481);
      return;
    }
    const d = inv.dialogId ? this.#dialogs.get(inv.dialogId) : undefined;
    if (inv.open) {
      this.#reject(msg, source, key, 200);
      const tag = inv.toTag ?? newTag();
      inv.toTag = tag;
      inv.respond(487, serializeSipMessage(buildResponse(inv.request, 487, tag)));
      this.#cdr('stop', 'application', () => inv.lastResponse ?? '', 'call-canceled');
      inv.detached = true;
      this.#serverById.delete(inv.id);
      if (d && d.state === 'early') this.#removeDialog(d);
      const app = this.#appById(inv.appId);
      if (app) this.#toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.#now()}|${inv.id}|${inv.dialogId ?? ''}|`, buf.toString('utf8'), buf.length);
      return;
    }
    if (inv.state === 'accepted' && d) {
      // D19: a CANCEL after the 200 OK: 481, then tear the dialog down.
      this.#reject(msg, source, key, 481);
      this.#teardown(d, 'SIP ;cause=200 ;text="CANCEL after 200 OK"');
      return;
    }
    this.#reject(msg, source, key, 200);
  }

  #onInDialog(msg: SipMessage, buf: Buffer, source: MessageSource, key: string): void {
    const method = msg.method;
    const d = this.#findDialog(msg);
    if (!d) {
      this.#reject(msg, source, key, 481);
      return;
    }
    const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '');
    if (!cseq) return;
    if (d.remoteCseq >= 0 && cseq.seq < d.remoteCseq) {
      this.#reject(msg, source, key, 500);
      return;
    }
    d.remoteCseq = cseq.seq;
    // the dialog's own app; after a reconnect (srf keeps its dialogs) any app that routed the method or INVITEs
    const app = this.#appById(d.appId) ?? this.#o.apps.pick(method.toLowerCase()) ?? this.#o.apps.pick('invite');
    if (app) d.appId = app.id;
    if (method === 'PRACK') {
      const rack = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(getHeader(msg, 'rack') ?? '');
      const st = d.serverInvite;
      if (!rack || !st || !st.prackReceived(Number(rack[1]))) {
        this.#reject(msg, source, key, 481);
        return;
      }
      // The engine answers the PRACK itself (srf only hands it to the waiting callback).
      const t = this.#reject(msg, source, key, 200);
      if (app) this.#toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.#now()}|${t.id}|${d.id}|`, buf.toString('utf8'), buf.length);
      return;
    }
    if (method === 'BYE') {
      // a BYE also ends any 2xx retransmission still waiting for its ACK
      if (d.serverInvite?.state === 'accepted') d.serverInvite.terminate();
      this.#removeDialog(d);
      this.#cdr('stop', 'network', () => buf.toString('utf8'), 'normal-release');
      if (!app) {
        this.#reject(msg, source, key, 200);
        return;
      }
    }
    if (!app) {
      this.#reject(msg, source, key, 503);
      return;
    }
    if (method === 'INVITE' && d.state === 'confirmed') {
      // RFC 3261 section 14.2: glare with our own re-INVITE -> 491; overlapping incoming re-INVITE -> 500
      if (d.pendingReinviteTxnId !== undefined) {
        this.#reject(msg, source, key, 491);
        return;
      }
      if (d.serverInvite !== undefined && (d.serverInvite.open || d.serverInvite.state === 'accepted')) {
        this.#reject(msg, source, key, 500, [{ name: 'retry-after', value: String(1 + Math.floor(Math.random() * 10)) }]);
        return;
      }
    }
    if (method === 'INVITE' || method === 'UPDATE') {
      const contact = parseNameAddr(firstListItem(getHeader(msg, 'contact') ?? ''));
      if (contact) d.remoteTarget = contact.uri;
      const se = this.#sessionTimers.checkRequest(msg);
      if (se.reject) {
        this.#reject(msg, source, key, 422, [{ name: 'min-se', value: String(se.minSe) }]);
        return;
      }
    }
    const t = this.#serverTxn(msg, source, key);
    t.appId = app.id;
    t.dialogId = d.id;
    t.toTag = d.localTag;
    if (method === 'INVITE') {
      t.respond(100, serializeSipMessage(buildResponse(msg, 100)));
      d.serverInvite = t;
    }
    this.#toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.#now()}|${t.id}|${d.id}|`, buf.toString('utf8'), buf.length);
  }

  #onResponse(msg: SipMessage, buf: Buffer, source: MessageSource): void {
    const key = this.#txnKey(msg, msg.method);
    const ct = this.#clientByKey.get(key);
    const status = msg.status;
    if (!ct) {
      if (msg.method === 'INVITE' && status >= 200 && status < 300) this.#stray2xx(msg);
      else this.counters.retransmissionsAbsorbed++;
      return;
    }
    if (msg.method === 'CANCEL') {
      ct.receive(status);
      return;
    }
    if (ct.receive(status) === 'absorb') {
      this.counters.retransmissionsAbsorbed++;
      return;
    }
    const held = ct.pendingCancel;
    if (held) {
      ct.pendingCancel = undefined;
      if (status < 200) held.start();
      else held.terminate(); // the INVITE ended first: the CANCEL is never sent
    }
    let dialogId = '';
    if (ct.isInvite) {
      if (status === 100) return;
      dialogId = ct.dialogId ?? '';
      if (!this.#uacInviteResponse(ct, msg)) return;
    }
    if (ct.appId === undefined) {
      this.#engineRequestResponse(ct, msg);
      return;
    }
    const app = this.#appById(ct.appId);
    if (!app) return;
    this.#toApp(app, `network|{bytes}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.#now()}|${ct.id}|${dialogId}|`, buf.toString('utf8'), buf.length);
  }

  /** Dialog bookkeeping for responses to INVITEs we sent. Returns false to swallow the response. */
  #uacInviteResponse(ct: ClientTransaction, msg: SipMessage): boolean {
    const status = msg.status;
    const dialogId = ct.dialogId ?? '';
    const toTag = getTag(getHeader(msg, 'to'));
    let d = this.#dialogs.get(dialogId);
    const reinvite = d !== undefined && d.state === 'confirmed' && d.pendingReinviteTxnId === ct.id;
    if (reinvite && d) {
      if (status >= 200) {
        d.pendingReinviteTxnId = undefined;
        d.inviteSucceeded = status < 300;
        if (status < 300) {
          const c = parseNameAddr(firstListItem(getHeader(msg, 'contact') ?? ''));
          if (c) d.remoteTarget = c.uri;
          this.#sessionTimers.onUacAnswer(d, msg, (dd) => this.#sessionRefresh(dd), (dd) => this.#sessionExpired(dd), this.#timers);
        } else this.#ackNon2xx(ct, msg);
      }
      return true;
    }
    if (status >= 300) {
      this.#ackNon2xx(ct, msg);
      if (d && d.state === 'early') this.#removeDialog(d);
      if (!d || d.state !== 'confirmed') this.#cdr('stop', 'network', () => serializeSipMessage(msg), ct.canceled ? 'call-canceled' : 'call-rejected');
      return true;
    }
    if (!toTag) return true;
    if (!d) {
      d = this.#newUacDialog(ct, msg, toTag);
    } else if (d.state === 'confirmed') {
      if (d.remoteTag !== toTag && status < 300) {
        // E25: a second 2xx (forked) for an INVITE that already has a dialog: ACK and BYE it.
        this.#ackAndByeFork(ct, msg);
        return false;
      }
      return false; // retransmitted 2xx: handled at dialog level
    }
    if (status < 200) {
      const rseq = getHeader(msg, 'rseq');
      if (rseq !== undefined && /^\d+$/.test(rseq.trim())) {
        const n = Number(rseq.trim());
        if (d.remoteTag === toTag && n <= d.lastRseq) return false; // retransmitted reliable 1xx
        d.lastRseq = n;
        d.lastRseqCseq = parseCSeq(getHeader(msg, 'cseq') ?? '')?.seq ?? 0;
      }
      d.remoteTag = toTag;
      d.remoteParty = getHeader(msg, 'to') ?? d.remoteParty;
      this.#uacRefresh(d, msg);
      return true;
    }
    d.remoteTag = toTag;
    d.remoteParty = getHeader(msg, 'to') ?? d.remoteParty;
    d.state = 'confirmed';
    d.inviteSucceeded = true;
    this.#cdr('start', 'network', () => serializeSipMessage(msg), 'uac');
    this.#uacRefresh(d, msg);
    this.#sessionTimers.onUacAnswer(d, msg, (dd) => this.#sessionRefresh(dd), (dd) => this.#sessionExpired(dd), this.#timers);
    return true;
  }

  #uacRefresh(d: Dialog, msg: SipMessage): void {
    const c = parseNameAddr(firstListItem(getHeader(msg, 'contact') ?? ''));
    if (c) d.remoteTarget = c.uri;
    const rr = getHeaderList(msg, 'record-route');
    if (rr.length) d.routeSet = rr.reverse();
  }

  #newUacDialog(ct: ClientTransaction, msg: SipMessage, toTag: string): Dialog {
    const req = ct.request;
    const d = new Dialog(ct.dialogId ?? '', 'uac', getHeader(req, 'call-id') ?? '', getTag(getHeader(req, 'from')) ?? '');
    d.remoteTag = toTag;
    d.localParty = getHeader(req, 'from') ?? '';
    d.remoteParty = getHeader(msg, 'to') ?? '';
    d.localCseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 1;
    d.inviteCseq = d.localCseq;
    d.protocol = ct.target.protocol;
    d.localContact = getHeader(req, 'contact') ?? this.#contactFor(d.protocol);
    d.appId = ct.appId;
    d.remoteTarget = req.uri;
    this.#dialogs.set(d.id, d);
    return d;
  }

  /** A 2xx retransmission after the INVITE transaction ended: re-send the ACK (checklist D16). */
  #stray2xx(msg: SipMessage): void {
    const callId = getHeader(msg, 'call-id') ?? '';
    const d = this.#dialogs.get(makeDialogId(callId, getTag(getHeader(msg, 'from')) ?? ''));
    const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '')?.seq;
    if (d && d.role === 'uac' && d.ackText && d.ackCseq === cseq) {
      this.#send(this.#dialogTarget(d), d.ackText);
      this.counters.retransmissionsSent++;
    } else this.counters.retransmissionsAbsorbed++;
  }

  #ackNon2xx(ct: ClientTransaction, resp: SipMessage): void {
    ct.ackText = serializeSipMessage(buildAckForNon2xx(ct.request, resp));
    this.#send(ct.target, ct.ackText);
  }

  #ackAndByeFork(ct: ClientTransaction, resp: SipMessage): void {
    const toTag = getTag(getHeader(resp, 'to')) ?? '';
    const d = new Dialog(`${ct.dialogId ?? ''}#fork`, 'uac', getHeader(ct.request, 'call-id') ?? '', getTag(getHeader(ct.request, 'from')) ?? '');
    d.remoteTag = toTag;
    d.localParty = getHeader(ct.request, 'from') ?? '';
    d.remoteParty = getHeader(resp, 'to') ?? '';
    d.localCseq = parseCSeq(getHeader(ct.request, 'cseq') ?? '')?.seq ?? 1;
    d.inviteCseq = d.localCseq;
    d.protocol = ct.target.protocol;
    d.remoteTarget = ct.request.uri;
    this.#uacRefresh(d, resp);
    const ack = this.#buildInDialog(d, 'ACK', d.remoteTarget, [], '', d.inviteCseq);
    this.#send(this.#dialogTarget(d), ack.text);
    this.#sendEngineRequest(d, 'BYE', [{ name: 'reason', value: 'SIP ;cause=480 ;text="forked 2xx"' }]);
  }

  #engineRequestResponse(ct: ClientTransaction, msg: SipMessage): void {
    // Responses to requests the engine sent by itself (BYE, session refresh) need no app.
    if (ct.request.method === 'UPDATE' && msg.status >= 200) {
      const d = this.#dialogs.get(ct.dialogId ?? '');
      if (d && msg.status < 300) {
        if (getHeader(msg, 'session-expires') !== undefined) {
          this.#sessionTimers.onUacAnswer(d, msg, (dd) => this.#sessionRefresh(dd), (dd) => this.#sessionExpired(dd), this.#timers);
        } else {
          // RFC 4028 section 7.2: a 2xx without Session-Expires turns the session timer off
          this.#timers.clearTimeout(d.sessionTimer);
          d.sessionTimer = undefined;
        }
      } else if (d && msg.status !== 408 && msg.status !== 481) {
        // the peer refused the refreshing UPDATE (e.g. 405/501): stop refreshing rather than tear down
        this.#timers.clearTimeout(d.sessionTimer);
        d.sessionTimer = undefined;
      }
    }
    if (ct.request.method === 'INVITE' && msg.status >= 200 && msg.status < 300) {
      const d = this.#dialogs.get(ct.dialogId ?? '');
      if (d) {
        const ack = this.#buildInDialog(d, 'ACK', d.remoteTarget, [], '', d.inviteCseq);
        d.ackText = ack.text;
        d.ackCseq = d.inviteCseq;
        this.#send(this.#dialogTarget(d), ack.text);
      }
    }
  }

  #onLocalFailure(ct: ClientTransaction, status: 408 | 503): void {
    ct.pendingCancel?.terminate();
    ct.pendingCancel = undefined;
    const dialogId = ct.isInvite ? ct.dialogId ?? '' : '';
    if (ct.isInvite) {
      const d = this.#dialogs.get(dialogId);
      if (d && d.state === 'early') this.#removeDialog(d);
      if (d && d.pendingReinviteTxnId === ct.id) d.pendingReinviteTxnId = undefined;
    }
    const app = this.#appById(ct.appId);
    if (!app || ct.request.method === 'CANCEL') return;
    const resp = buildResponse(ct.request, status);
    const text = serializeSipMessage(resp);
    this.#toApp(app, `network|{bytes}|${ct.target.protocol}|||${this.#now()}|${ct.id}|${dialogId}|`, text, Buffer.byteLength(text));
  }

  #onAckTimeout(t: ServerTransaction): void {
    // D14: no ACK for our 2xx within 64*T1: BYE the dialog and tell the app.
    const d = t.dialogId ? this.#dialogs.get(t.dialogId) : undefined;
    if (d && d.serverInvite === t) {
      d.serverInvite = undefined;
      this.#teardown(d, 'SIP ;cause=200 ;text="ACK timeout"');
    }
  }

  // ------------------------------------------------------------------ dialogs

  #removeDialog(d: Dialog): void {
    d.state = 'terminated';
    this.#timers.clearTimeout(d.sessionTimer);
    d.sessionTimer = undefined;
    if (this.#dialogs.get(d.id) === d) this.#dialogs.delete(d.id);
  }

  #dialogTarget(d: Dialog): Target {
    const hop = d.routeSet[0];
    let uriText = d.remoteTarget;
    if (hop) {
      const na = parseNameAddr(hop);
      const u = na ? parseSipUri(na.uri) : undefined;
      if (u && uriParam(u, 'lr') !== undefined) uriText = na?.uri ?? uriText;
    }
    const u = parseSipUri(uriText);
    const t = u ? (u.scheme === 'sips' ? 'tls' : uriParam(u, 'transport')?.toLowerCase()) : undefined;
    const protocol: SipProtocol = t === 'tcp' || t === 'udp' || t === 'tls' ? t : d.protocol;
    const host = u ? stripBrackets(u.host) : '127.0.0.1';
    const port = u?.port ?? (protocol === 'tls' ? 5061 : 5060);
    return protocol === 'tls' && !isIP(host) ? { protocol, host, port, serverName: host } : { protocol, host, port };
  }

  /** Build an in-dialog request (RFC 3261 section 12.2.1.1). */
  #buildInDialog(d: Dialog, method: string, uri: string, appHeaders: SipHeader[], body: string, cseqNum?: number): { msg: SipMessage; text: string; branch: string } {
    const p = this.#point(d.protocol);
    const branch = newBranch();
    const cseq = cseqNum ?? ++d.localCseq;
    const via = `SIP/2.0/${d.protocol.toUpperCase()} ${hostport(p)};rport;branch=${branch}`;
    const msg = buildInDialogRequest(d, { method, uri, cseq, via, appHeaders, body });
    return { msg, text: serializeSipMessage(msg), branch };
  }

  /** Send an in-dialog request on the engine's own behalf (BYE, session refresh). */
  #sendEngineRequest(d: Dialog, method: string, extra: SipHeader[], body = ''): string {
    const b = this.#buildInDialog(d, method, d.remoteTarget, extra, body);
    if (method === 'INVITE') {
      d.inviteCseq = d.localCseq;
      d.inviteSucceeded = false;
    }
    const ct = new ClientTransaction(this.#ctx, newUuid(), `${b.branch}|${hostport(this.#point(d.protocol))}|${method}`, b.msg, b.text, this.#dialogTarget(d), this.#clientHooks);
    ct.dialogId = d.id;
    this.#clientByKey.set(ct.key, ct);
    this.#clientById.set(ct.id, ct);
    ct.start();
    return b.text;
  }

  /** BYE the dialog on the engine's behalf and deliver an "unsolicited" BYE to the app (D14, D19, E31). */
  #teardown(d: Dialog, reason: string): void {
    if (d.state === 'terminated') return;
    const text = this.#sendEngineRequest(d, 'BYE', [{ name: 'reason', value: reason }]);
    this.#removeDialog(d);
    this.#cdr('stop', 'application', () => text, reason.includes('session expired') ? 'session-expired' : 'normal-release');
    const app = this.#appById(d.appId);
    if (!app) return;
    const target = this.#dialogTarget(d);
    this.#toApp(app, `application|{bytes}|${target.protocol}|${target.host}|${target.port}|${this.#now()}|unsolicited|${d.id}|`, text, Buffer.byteLength(text));
  }

  #sessionRefresh(d: Dialog): void {
    if (d.state !== 'confirmed') return;
    const extra: SipHeader[] = [
      // refresher=uac: the sender of this refresh (the engine) keeps refreshing (RFC 4028 section 7.4)
      { name: 'session-expires', value: `${d.sessionExpires};refresher=uac` },
      { name: 'supported', value: 'timer' },
    ];
    this.#sendEngineRequest(d, 'UPDATE', extra);
  }

  #sessionExpired(d: Dialog): void {
    this.#teardown(d, 'SIP ;cause=408 ;text="session expired"');
  }

  // ------------------------------------------------------------------ app side

  onAppDisconnect(app: AppConnection): void {
    this.#outboundSince.delete(app.id);
    // Pending requests owned by the app can no longer be answered: let their timers clean up.
    for (const t of this.#serverById.values()) if (t.appId === app.id && t.open) t.detached = true;
  }

  onAppSip(app: AppConnection, msgId: string, tokens: string[], sip: string): void {
    try {
      const txnId = tokens[2] ?? '';
      const dialogId = tokens[3] ?? '';
      const parsed = parseAppSip(sip);
      if (!parsed.ok) {
        app.respond(msgId, `NOK|invalid SIP message: ${parsed.error}`);
        return;
      }
      const msg = parsed.msg;
      if (!msg.isRequest) {
        this.#appResponse(app, msgId, txnId, msg);
        return;
      }
      if (msg.method === 'CANCEL' && txnId) {
        this.#appCancel(app, msgId, txnId, msg);
        return;
      }
      if (dialogId) {
        this.#appInDialog(app, msgId, dialogId, msg);
        return;
      }
      void this.#appNewRequest(app, msgId, msg, tokens[4]).catch((err: unknown) => {
        app.respond(msgId, `NOK|${err instanceof Error ? err.message : String(err)}`);
      });
    } catch (err) {
      this.#log.error({ err }, 'engine: error handling app sip message');
      app.respond(msgId, 'NOK|Server error: internal error');
    }
  }

  #echo(app: AppConnection, msgId: string, target: { protocol: string; host: string; port: number }, txnId: string, text: string, dialogId?: string): void {
    const bytes = Buffer.byteLength(text);
    const dlg = dialogId === undefined ? '' : `${dialogId}||`;
    app.respond(msgId, `OK|application|${bytes}|${target.protocol}|${target.host}|${target.port}|${this.#now()}|${txnId}|${dlg}Msg sent:|`, text);
  }

  #appResponse(app: AppConnection, msgId: string, txnId: string, appMsg: SipMessage): void {
    const t = this.#serverById.get(txnId);
    if (!t || t.detached || !t.open) {
      app.respond(msgId, 'NOK|Response not sent due to unknown transaction');
      return;
    }
    const req = t.request;
    const status = appMsg.status;
    const isInvite = req.method === 'INVITE';
    const reliable = isInvite && status > 100 && status < 200 && hasOptionTag(appMsg, ['require'], '100rel');
    if (reliable && !hasOptionTag(req, ['supported', 'require'], '100rel')) {
      app.respond(msgId, 'NOK|Remote endpoint does not support 100rel');
      return;
    }
    if (status > 100 && t.toTag === undefined) t.toTag = getTag(getHeader(appMsg, 'to')) ?? newTag();
    const protocol = t.target.protocol;
    const success = status >= 200 && status < 300;
    const needsContact = reliable || (success && (isInvite || req.method === 'UPDATE' || req.method === 'SUBSCRIBE'));
    const built = buildAppResponse(req, appMsg, {
      toTag: t.toTag,
      contact: needsContact ? this.#contactFor(protocol, isSips(req.uri)) : undefined,
      hostport: hostport(this.#point(protocol)),
      rseq: reliable ? t.nextRseq : undefined,
      sessionExpires:
        (isInvite || req.method === 'UPDATE') && success && getHeader(appMsg, 'session-expires') === undefined
          ? this.#sessionTimers.answerHeader(req)
          : undefined,
      requireTimer: supportsTimer(req),
    });
    if (!built.ok) {
      app.respond(msgId, `NOK|${built.error}`);
      return;
    }
    const rseq = reliable ? t.nextRseq++ : 0;
    const resp = built.msg;
    const text = serializeSipMessage(resp);

    let dialogId: string | undefined;
    if (isInvite) {
      dialogId = t.dialogId ?? '';
      if (status > 100) this.#uasInviteDialog(t, app, status, resp);
    } else if (req.method === 'SUBSCRIBE') dialogId = t.dialogId ?? '';
    if (req.method === 'UPDATE' && status >= 200 && status < 300 && t.dialogId) {
      const d = this.#dialogs.get(t.dialogId);
      if (d && d.state === 'confirmed') this.#sessionTimers.onUasAnswer(d, req, resp, (dd) => this.#sessionRefresh(dd), (dd) => this.#sessionExpired(dd), this.#timers);
    }
    if (reliable) t.sendReliable(rseq, text);
    else t.respond(status, text);
    this.#echo(app, msgId, t.target, t.id, text, dialogId ?? '');
  }

  /** UAS dialog bookkeeping when the app answers an INVITE (E20). */
  #uasInviteDialog(t: ServerTransaction, app: AppConnection, status: number, resp: SipMessage): void {
    const id = t.dialogId ?? '';
    let d = this.#dialogs.get(id);
    if (d && d.state === 'confirmed' && t.id !== d.initialTxnId) {
      // re-INVITE answered (either role); the 2xx then waits for its ACK through d.serverInvite
      if (status >= 200 && status < 300) {
        d.serverInvite = t;
        this.#sessionTimers.onUasAnswer(d, t.request, resp, (dd) => this.#sessionRefresh(dd), (dd) => this.#sessionExpired(dd), this.#timers);
      }
      return;
    }
    if (status >= 300) {
      if (d && d.state === 'early') this.#removeDialog(d);
      this.#cdr('stop', 'application', () => serializeSipMessage(resp), 'call-rejected');
      return;
    }
    const req = t.request;
    if (!d) {
      d = new Dialog(id, 'uas', getHeader(req, 'call-id') ?? '', t.toTag ?? newTag());
      d.remoteTag = getTag(getHeader(req, 'from')) ?? '';
      d.remoteParty = getHeader(req, 'from') ?? '';
      d.localParty = withTag(getHeader(req, 'to') ?? '', d.localTag);
      d.remoteCseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0;
      d.localCseq = newCseq();
      const c = parseNameAddr(firstListItem(getHeader(req, 'contact') ?? ''));
      d.remoteTarget = c?.uri ?? req.uri;
      d.routeSet = getHeaderList(req, 'record-route');
      d.protocol = t.target.protocol;
      d.appId = app.id;
      d.initialTxnId = t.id;
      this.#dialogs.set(id, d);
    }
    d.localContact = getHeader(resp, 'contact') ?? d.localContact;
    d.serverInvite = t;
    if (status >= 200) {
      d.state = 'confirmed';
      this.#cdr('start', 'application', () => serializeSipMessage(resp), 'uas');
      this.#sessionTimers.onUasAnswer(d, req, resp, (dd) => this.#sessionRefresh(dd), (dd) => this.#sessionExpired(dd), this.#timers);
    }
  }

  #appCancel(app: AppConnection, msgId: string, txnId: string, appMsg: SipMessage): void {
    const inv = this.#clientById.get(txnId);
    if (!inv || !inv.isInvite || inv.state === 'completed' || inv.state === 'terminated') {
      app.respond(msgId, `NOK|unable to cancel unknown transaction id: ${txnId}`);
      return;
    }
    const cancel = buildCancel(inv.request, appMsg.headers);
    const text = serializeSipMessage(cancel);
    const via = parseVia(firstListItem(getHeader(inv.request, 'via') ?? ''));
    const branch = via?.branch ?? '';
    const ct = new ClientTransaction(this.#ctx, newUuid(), `${branch}|${via?.host}:${via?.port ?? ''}|CANCEL`, cancel, text, inv.target, this.#clientHooks);
    ct.appId = app.id;
    this.#clientByKey.set(ct.key, ct);
    this.#clientById.set(ct.id, ct);
    inv.canceled = true;
    // RFC 3261 section 9.1: no CANCEL before a provisional response; hold it until the first 1xx
    if (inv.state === 'calling') inv.pendingCancel = ct;
    else ct.start();
    if (msgId) this.#echo(app, msgId, this.#point(inv.target.protocol), ct.id, text);
  }

  #appInDialog(app: AppConnection, msgId: string, dialogId: string, appMsg: SipMessage): void {
    const d = this.#dialogs.get(dialogId);
    if (!d || d.state === 'terminated') {
      app.respond(msgId, `NOK|${NO_DIALOG}`);
      return;
    }
    const method = appMsg.method;
    const body = appMsg.body;
    if (method === 'ACK') {
      if (!d.inviteSucceeded) {
        app.respond(msgId, 'NOK|Server error: ACK for non-success final response is automatically generated by server');
        return;
      }
      const b = this.#buildInDialog(d, 'ACK', d.remoteTarget, appMsg.headers, body, d.inviteCseq);
      d.ackText = b.text;
      d.ackCseq = d.inviteCseq;
      const target = this.#dialogTarget(d);
      this.#send(target, b.text);
      this.#echo(app, msgId, this.#point(target.protocol), newUuid(), b.text);
      return;
    }
    if (!contentTypeFor(appMsg.headers, appMsg.body).ok) {
      app.respond(msgId, 'NOK|missing content-type');
      return;
    }
    if (method === 'BYE' && d.pendingReinviteTxnId) {
      // E23: a BYE during our own outstanding re-INVITE cancels that re-INVITE first.
      const inv = this.#clientById.get(d.pendingReinviteTxnId);
      if (inv && inv.state === 'proceeding') this.#appCancel(app, '', inv.id, { isRequest: true, method: 'CANCEL', uri: '', status: 0, reason: '', headers: [], body: '' });
    }
    const uri = method === 'PRACK' || appMsg.uri === 'sip:placeholder' ? d.remoteTarget : appMsg.uri;
    const headers = appMsg.headers.map((h) => (h.name === 'contact' ? { name: h.name, value: fixLocalhost(h.value, hostport(this.#point(d.protocol))) } : h));
    if (method === 'PRACK' && getHeader(appMsg, 'rack') === undefined) headers.push({ name: 'rack', value: `${d.lastRseq} ${d.lastRseqCseq} INVITE` });
    if (d.localCseq === 0) d.localCseq = newCseq();
    const b = this.#buildInDialog(d, method, uri, headers, body);
    const target = this.#dialogTarget(d);
    const ct = new ClientTransaction(this.#ctx, newUuid(), `${b.branch}|${hostport(this.#point(d.protocol))}|${method}`, b.msg, b.text, target, this.#clientHooks);
    ct.appId = app.id;
    if (method === 'INVITE') {
      d.inviteCseq = d.localCseq;
      d.inviteSucceeded = false;
      d.pendingReinviteTxnId = ct.id;
      ct.dialogId = d.id;
      d.localContact = getHeader(b.msg, 'contact') ?? d.localContact;
    }
    this.#clientByKey.set(ct.key, ct);
    this.#clientById.set(ct.id, ct);
    ct.start();
    if (method === 'BYE') {
      // a BYE also ends any 2xx retransmission still waiting for its ACK
      if (d.serverInvite?.state === 'accepted') d.serverInvite.terminate();
      this.#removeDialog(d);
      this.#cdr('stop', 'application', () => b.text, 'normal-release');
    }
    this.#echo(app, msgId, this.#point(target.protocol), ct.id, b.text);
  }

  async #appNewRequest(app: AppConnection, msgId: string, appMsg: SipMessage, proxy: string | undefined): Promise<void> {
    const method = appMsg.method;
    const routes = getHeaderList(appMsg, 'route');
    let hopUri = appMsg.uri;
    if (proxy) hopUri = proxy.startsWith('sip') ? proxy : `sip:${proxy}`;
    else if (routes[0]) hopUri = parseNameAddr(routes[0])?.uri ?? hopUri;
    const hop = parseSipUri(hopUri);
    const ruri = parseSipUri(appMsg.uri);
    if (!hop || (!ruri && !proxy && routes.length === 0)) {
      app.respond(msgId, `NOK|invalid request-uri ${appMsg.uri}`);
      return;
    }
    // RFC 3261 section 26.2.2: a sips: URI (next hop or Request-URI) asks for TLS to it
    const sips = hop.scheme === 'sips' || ruri?.scheme === 'sips';
    const requested = sips ? 'tls' : (uriParam(hop, 'transport') ?? (ruri ? uriParam(ruri, 'transport') : undefined))?.toLowerCase();
    let protocol: SipProtocol;
    if (requested !== undefined) {
      if (requested !== 'udp' && requested !== 'tcp' && requested !== 'tls') {
        app.respond(msgId, 'NOK|requested protocol/transport not available');
        return;
      }
      if (!this.#o.transport.hasProtocol(requested)) {
        app.respond(msgId, 'NOK|requested protocol/transport not available');
        return;
      }
      protocol = requested;
    } else protocol = this.#o.transport.hasProtocol('udp') ? 'udp' : 'tcp';
    let host = stripBrackets(hop.host);
    const serverName = protocol === 'tls' && !isIP(host) ? host : undefined;
    const port = hop.port ?? (protocol === 'tls' ? 5061 : 5060);
    if (!isIP(host)) {
      try {
        host = (await lookup(host)).address;
      } catch {
        app.respond(msgId, `NOK|unable to resolve ${host}`);
        return;
      }
    }
    if (this.#isSelf(host, port)) {
      app.respond(msgId, 'NOK|can not send request to myself');
      return;
    }
    const p = this.#point(protocol);
    const hp = hostport(p);
    const branch = newBranch();
    const built = buildNewRequest(appMsg, {
      via: `SIP/2.0/${protocol.toUpperCase()} ${hp};rport;branch=${branch}`,
      hostport: hp,
      contact: this.#contactFor(protocol, isSips(appMsg.uri)),
      callId: newCallId(),
      cseq: newCseq(),
      fromTag: newTag(),
    });
    if (!built.ok) {
      app.respond(msgId, `NOK|${built.error}`);
      return;
    }
    const msg = built.msg;
    const text = serializeSipMessage(msg);
    const target: Target = serverName === undefined ? { protocol, host, port } : { protocol, host, port, serverName };
    const ct = new ClientTransaction(this.#ctx, newUuid(), `${branch}|${hp}|${method}`, msg, text, target, this.#clientHooks);
    ct.appId = app.id;
    if (method === 'INVITE') {
      ct.dialogId = makeDialogId(getHeader(msg, 'call-id') ?? '', getTag(getHeader(msg, 'from')) ?? '');
      this.#cdr('attempt', 'application', () => text);
    }
    this.#clientByKey.set(ct.key, ct);
    this.#clientById.set(ct.id, ct);
    ct.start();
    this.#echo(app, msgId, p, ct.id, text);
  }

  #isSelf(host: string, port: number): boolean {
    for (const p of this.#o.transport.points) {
      if (p.port !== port) continue;
      if (p.host === host || p.host === '0.0.0.0' || p.host === '::') return true;
    }
    return false;
  }

  /** Idempotent: stop every transaction and dialog timer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const t of [...this.#serverByKey.values()]) t.terminate();
    for (const t of [...this.#clientByKey.values()]) t.terminate();
    for (const d of [...this.#dialogs.values()]) this.#removeDialog(d);
  }
}

function hostport(p: { host: string; port: number }): string {
  return `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
}

function isSips(uri: string): boolean {
  return /^\s*sips:/i.test(uri);
}

function stripBrackets(h: string): string {
  return h.startsWith('[') ? h.slice(1, -1) : h;
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
