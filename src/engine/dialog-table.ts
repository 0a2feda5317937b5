/**
 * The engine's dialogs (RFC 3261 section 12) by drachtio dialog id, and what the engine does in a
 * dialog on its own: match an in-dialog request, route the next request (remote target and route
 * set, section 12.2.1.1, or the peer's flow when it is behind a NAT: nat-flow.ts), send a request
 * for itself (BYE, session refresh), tear a dialog down with an unsolicited BYE to the app (D14,
 * D19, E31), and run its session timer (RFC 4028).
 */
import { isIP } from 'node:net';
import { makeDialogId, type Dialog } from './dialog.js';
import type { EngineContext } from './engine-context.js';
import { newBranch } from './ids.js';
import { DETECT_NAT, flowTarget, uacUsesFlow, uasUsesFlow, type Flow, type NatFlowMode } from './nat-flow.js';
import { buildInDialogRequest } from './request-builders.js';
import type { ServerTransaction } from './server-transaction.js';
import { hostport, stripBrackets } from './sip-address.js';
import {
  getHeader,
  getTag,
  parseNameAddr,
  parseSipUri,
  serializeSipMessage,
  uriParam,
  type SipHeader,
  type SipMessage,
} from './sip-message.js';
import { connectionKey, type MessageSource, type SipProtocol } from './sip-transport.js';
import { SubscriptionDialogs } from './subscription-dialogs.js';
import type { Target } from './transaction-context.js';
import type { TransactionTable } from './transaction-table.js';

/** An in-dialog request ready to send, and the branch of its Via. */
export interface InDialogRequest {
  msg: SipMessage;
  text: string;
  branch: string;
}

export class DialogTable {
  readonly #dialogs = new Map<string, Dialog>();
  readonly #refresh = (d: Dialog): void => this.#sessionRefresh(d);
  readonly #expire = (d: Dialog): void => this.#sessionExpired(d);
  /** SUBSCRIBE / REFER dialogs (RFC 6665, RFC 3515). */
  readonly subscriptions: SubscriptionDialogs;

  constructor(private readonly ctx: EngineContext, private readonly txns: TransactionTable) {
    this.subscriptions = new SubscriptionDialogs(ctx, this);
  }

  get size(): number {
    return this.#dialogs.size;
  }

  get(id: string): Dialog | undefined {
    return this.#dialogs.get(id);
  }

  add(d: Dialog): void {
    this.#dialogs.set(d.id, d);
  }

  /** Add the app of every dialog to `inUse`. */
  collectAppIds(inUse: Set<number | undefined>): void {
    for (const d of this.#dialogs.values()) inUse.add(d.appId);
  }

  /** Add the connection key (sip-transport.ts connectionKey) of every dialog's TCP/TLS flow to `keys`. */
  collectConnections(keys: Set<string>): void {
    for (const d of this.#dialogs.values()) {
      const f = d.flow;
      if (f !== undefined && f.protocol !== 'udp') keys.add(connectionKey(f.protocol, f.host, f.port));
    }
  }

  /** Find the dialog an in-dialog request (To-tag present) belongs to. */
  find(msg: SipMessage): Dialog | undefined {
    const callId = getHeader(msg, 'call-id') ?? '';
    const fromTag = getTag(getHeader(msg, 'from')) ?? '';
    const toTag = getTag(getHeader(msg, 'to')) ?? '';
    const uas = this.#dialogs.get(makeDialogId(callId, fromTag));
    if (uas && uas.role === 'uas' && uas.localTag === toTag) return uas;
    const uac = this.#dialogs.get(makeDialogId(callId, toTag));
    if (uac && uac.role === 'uac' && (uac.remoteTag === fromTag || uac.remoteTag === '')) return uac;
    return undefined;
  }

  remove(d: Dialog): void {
    d.terminate();
    this.stopSessionTimer(d);
    this.ctx.timers.clearTimeout(d.expiryTimer);
    d.expiryTimer = undefined;
    if (this.#dialogs.get(d.id) === d) this.#dialogs.delete(d.id);
  }

  /**
   * Where the dialog's next request goes: the first route if loose-routing (`;lr`), else the remote
   * target; or the peer's flow when the dialog uses it (nat-flow.ts). `sending` (default true)
   * counts a request sent to the flow instead (stats().natFlowRequests) and logs the first one of
   * the dialog at debug.
   */
  target(d: Dialog, sending = true): Target {
    const base = this.#rfc3261Target(d);
    const flow = d.flow;
    if (!d.useFlow || flow === undefined) return base;
    // TCP/TLS: the peer's connection while it is open, else the Contact is dialled as RFC 3261 says
    if (flow.protocol !== 'udp' && !this.ctx.transport.isConnected(flow.protocol, flow.host, flow.port)) return base;
    const { target, redirected } = flowTarget(base, flow);
    if (redirected && sending) {
      this.ctx.counters.natFlowRequests++;
      if (!d.flowLogged) {
        d.flowLogged = true;
        this.ctx.log.debug(
          { dialogId: d.id, contact: `${base.protocol}/${hostport(base)}`, flow: `${flow.protocol}/${hostport(flow)}` },
          "engine: in-dialog requests go to the peer's flow, not its Contact (NAT)",
        );
      }
    }
    return target;
  }

  /**
   * UAS dialog: remember the flow the peer's INVITE came on and whether requests use it
   * (the natFlow option's mode for the peer; nat-flow.ts).
   */
  initUasFlow(d: Dialog, invite: SipMessage, source: Flow): void {
    d.flow = { protocol: source.protocol, host: source.host, port: source.port };
    d.natMode = this.#natMode(d.flow);
    d.useFlow = uasUsesFlow(d.natMode, d.flow, invite, d.routeSet);
  }

  /**
   * UAC dialog: the flow the peer's dialog-creating response came on (a 1xx with a To-tag, then
   * the 2xx); the natFlow option is asked once, at the first.
   */
  initUacFlow(d: Dialog, response: SipMessage, source: MessageSource): void {
    const first = d.flow === undefined;
    d.flow = { protocol: source.protocol, host: source.remoteHost, port: source.remotePort };
    if (first) d.natMode = this.#natMode(d.flow);
    d.useFlow = uacUsesFlow(d.natMode, d.flow, response, d.routeSet);
  }

  /** A request from the peer in mode 'flow': its NAT binding may have changed, the flow follows it. */
  refreshFlow(d: Dialog, source: MessageSource): void {
    const f = d.flow;
    if (d.natMode !== 'flow' || f === undefined || f.protocol !== source.protocol) return;
    if (f.host === source.remoteHost && f.port === source.remotePort) return;
    this.ctx.log.debug({ dialogId: d.id, from: `${f.protocol}/${hostport(f)}`, to: `${source.remoteHost}:${source.remotePort}` }, "engine: the peer's flow moved");
    f.host = source.remoteHost;
    f.port = source.remotePort;
  }

  #natMode(flow: Flow): NatFlowMode {
    try {
      return (this.ctx.options.natFlow ?? DETECT_NAT)(flow);
    } catch (err) {
      this.ctx.log.error({ err }, 'engine: the natFlow option threw; using NAT detection');
      return 'detect';
    }
  }

  #rfc3261Target(d: Dialog): Target {
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

  /** Build an in-dialog request (RFC 3261 section 12.2.1.1); without `cseqNum` the next local CSeq. */
  buildRequest(d: Dialog, method: string, uri: string, appHeaders: SipHeader[], body: string, cseqNum?: number): InDialogRequest {
    const p = this.ctx.point(d.protocol);
    const branch = newBranch();
    const cseq = cseqNum ?? ++d.localCseq;
    const via = `SIP/2.0/${d.protocol.toUpperCase()} ${hostport(p)};rport;branch=${branch}`;
    const msg = buildInDialogRequest(d, { method, uri, cseq, via, appHeaders, body });
    return { msg, text: serializeSipMessage(msg), branch };
  }

  /** Send an in-dialog request on the engine's own behalf (BYE, session refresh); returns its text. */
  sendEngineRequest(d: Dialog, method: string, extra: SipHeader[]): string {
    const b = this.buildRequest(d, method, d.remoteTarget, extra, '');
    const ct = this.txns.createClient(`${b.branch}|${hostport(this.ctx.point(d.protocol))}|${method}`, b.msg, b.text, this.target(d));
    ct.dialogId = d.id;
    ct.start();
    return b.text;
  }

  /** BYE the dialog on the engine's behalf and deliver an "unsolicited" BYE to the app (D14, D19, E31). */
  teardown(d: Dialog, reason: string): void {
    if (d.state === 'terminated') return;
    const text = this.sendEngineRequest(d, 'BYE', [{ name: 'reason', value: reason }]);
    this.remove(d);
    this.ctx.cdr.emit('stop', 'application', () => text, reason.includes('session expired') ? 'session-expired' : 'normal-release');
    const app = this.ctx.appById(d.appId);
    if (!app) return;
    const target = this.target(d, false);
    this.ctx.toApp(app, `application|{bytes}|${target.protocol}|${target.host}|${target.port}|${this.ctx.now()}|unsolicited|${d.id}|`, text, Buffer.byteLength(text));
  }

  onAckTimeout(t: ServerTransaction): void {
    // D14: no ACK for our 2xx within 64*T1: BYE the dialog and tell the app.
    const d = t.dialogId ? this.#dialogs.get(t.dialogId) : undefined;
    if (d && d.serverInvite === t) {
      d.serverInvite = undefined;
      this.teardown(d, 'SIP ;cause=200 ;text="ACK timeout"');
    }
  }

  /** We (UAS) sent a 2xx: arm the session refresh or expiry from its Session-Expires (RFC 4028). */
  armUasSessionTimer(d: Dialog, req: SipMessage, resp: SipMessage): void {
    this.ctx.sessionTimers.onUasAnswer(d, req, resp, this.#refresh, this.#expire, this.ctx.timers);
  }

  /** We (UAC) received a 2xx: arm the session refresh or expiry from its Session-Expires (RFC 4028 section 7.2). */
  armUacSessionTimer(d: Dialog, resp: SipMessage): void {
    this.ctx.sessionTimers.onUacAnswer(d, resp, this.#refresh, this.#expire, this.ctx.timers);
  }

  stopSessionTimer(d: Dialog): void {
    this.ctx.timers.clearTimeout(d.sessionTimer);
    d.sessionTimer = undefined;
  }

  #sessionRefresh(d: Dialog): void {
    if (d.state !== 'confirmed') return;
    const extra: SipHeader[] = [
      // refresher=uac: the sender of this refresh (the engine) keeps refreshing (RFC 4028 section 7.4)
      { name: 'session-expires', value: `${d.sessionExpires};refresher=uac` },
      { name: 'supported', value: 'timer' },
    ];
    this.sendEngineRequest(d, 'UPDATE', extra);
  }

  #sessionExpired(d: Dialog): void {
    this.teardown(d, 'SIP ;cause=408 ;text="session expired"');
  }

  /** Terminate every dialog (stops the session timers). */
  close(): void {
    for (const d of [...this.#dialogs.values()]) this.remove(d);
  }
}
