/**
 * The engine as a proxy (RFC 3261 section 16), three ways a message gets proxied:
 *
 * 1. The app's `proxy` message (srf `proxyRequest`): a stateful proxy session per request
 *    (proxy-session.ts). A request whose Max-Forwards is 0 gets 483 and the app a NOK, as
 *    drachtio-server does (section 16.3 step 3). A destination's digest challenge is remembered
 *    for 2 s: the caller's retry with credentials for it goes to that destination only.
 * 2. A request inside a dialog the engine record-routed: its first Route names us (loose routing,
 *    section 16.4). It is forwarded statelessly (section 16.11) to the next Route or the
 *    Request-URI, like drachtio-server does; the app never sees it. Only Call-IDs of requests an app
 *    proxied with Record-Route qualify (kept while in use, ROUTED_DIALOG_IDLE_MS after the last
 *    request, ROUTED_DIALOG_MAX at most): a request from anywhere that merely names us in its Route
 *    is not relayed (no open relay), it is handled as any in-dialog request (481 without a dialog).
 * 3. A response that matches no transaction, with our Via on top and another below (e.g. a 2xx
 *    retransmission, a response to case 2), for a Call-ID an app proxied: our Via is removed and it
 *    goes to the next Via.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { AppConnection } from './app-server.js';
import type { EngineContext } from './engine-context.js';
import { newTag } from './ids.js';
import { buildResponse } from './message-builder.js';
import type { TimerHandle } from '../common/clock.js';
import { buildProxiedRequest, digestRealmNonce, maxForwards, topVia, viaHop, viaItems, withoutTopVia } from './proxy-messages.js';
import { parseProxyTokens } from './proxy-options.js';
import { ProxySession } from './proxy-session.js';
import { isOwnAddress, isOwnRoute, isOwnUri, resolveUri } from './proxy-targets.js';
import { hostport } from './sip-address.js';
import { getHeader, getHeaderList, getTag, parseAppSip, parseNameAddr, parseVia, serializeSipMessage, type SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import type { TransactionTable } from './transaction-table.js';

export const TOO_MANY_HOPS = 'Rejected with 483 Too Many Hops due to Max-Forwards value of 0';
export const PROXY_IN_DIALOG = 'proxying a request inside a dialog is not supported by this engine';
export const PROXY_AFTER_ANSWER = 'proxying a request the app has already answered (provisional response sent) is not supported by this engine';
export const NO_USABLE_DESTINATION =
  'no destination is a reachable sip: or sips: URI over udp, tcp or tls (tel: destinations and WebSocket transports are not supported by this engine)';

/** A record-routed dialog is forgotten after this long without a request through us (1 h, like an unrefreshed subscription). */
const ROUTED_DIALOG_IDLE_MS = 3_600_000;
/** At most this many record-routed Call-IDs are remembered; the oldest goes first. */
const ROUTED_DIALOG_MAX = 100_000;

/** How long a destination's digest challenge is remembered for the caller's retry (drachtio-server: 2 s). */
const CHALLENGE_MEMORY_MS = 2000;

export class Proxies {
  readonly #live = new Set<ProxySession>();
  /** nonce -> the destination that challenged, for the retry with credentials. */
  readonly #challenges = new Map<string, { realm: string; destination: string; timer: TimerHandle }>();
  /** Call-ID -> last use (ctx clock ms) of what apps proxied, and whether with Record-Route (case 2 needs it; case 3 any). */
  readonly #routed = new Map<string, { at: number; recordRoute: boolean }>();

  constructor(private readonly ctx: EngineContext, private readonly txns: TransactionTable) {}

  /** Proxy sessions still running. */
  get size(): number {
    return this.#live.size;
  }

  /** `msgId|proxy|<txnId>|...` from an app (proxy-options.ts). */
  onAppProxy(app: AppConnection, msgId: string, tokens: string[], sip: string): void {
    const parsed = parseProxyTokens(tokens);
    if (!parsed.ok) {
      app.respond(msgId, `NOK|${parsed.error}`);
      return;
    }
    const o = parsed.options;
    const t = this.txns.serverById(o.txnId);
    if (!t || t.detached || !t.open) {
      app.respond(msgId, `NOK|Unknown transaction id: ${o.txnId}`);
      return;
    }
    const req = t.request;
    // what the engine leaves out is refused by name; the app can still answer the request itself
    if (getTag(getHeader(req, 'to')) !== undefined) {
      app.respond(msgId, `NOK|${PROXY_IN_DIALOG}`);
      return;
    }
    if (t.lastStatus > 100) {
      app.respond(msgId, `NOK|${PROXY_AFTER_ANSWER}`);
      return;
    }
    this.txns.detach(t);
    if (maxForwards(req) <= 0) {
      app.respond(msgId, `NOK|${TOO_MANY_HOPS}`);
      const resp = serializeSipMessage(buildResponse(req, 483, newTag()));
      t.respond(483, resp);
      if (req.method === 'INVITE') this.ctx.cdr.emit('stop', 'application', () => resp, 'call-rejected');
      return;
    }
    const appMsg = sip.trim() ? parseAppSip(sip) : undefined;
    const appHeaders = appMsg?.ok ? appMsg.msg.headers : [];
    t.keepPending();
    this.#touchRouted(getHeader(req, 'call-id') ?? '', o.recordRoute);
    // a retry with credentials for a challenge a destination sent goes back to that destination only
    const creds = digestRealmNonce(req, ['authorization', 'proxy-authorization']);
    const challenged = creds ? this.#challenges.get(creds.nonce) : undefined;
    if (creds && challenged && challenged.realm === creds.realm) {
      this.ctx.timers.clearTimeout(challenged.timer);
      this.#challenges.delete(creds.nonce);
      o.destinations = [challenged.destination];
    }
    const session = new ProxySession(this.ctx, this.txns, app, msgId, t, o, appHeaders, {
      closed: (s) => this.#live.delete(s),
      challenged: (realm, nonce, destination) => this.#remember(realm, nonce, destination),
    });
    this.#live.add(session);
    t.proxy = session;
    void session.start().then(
      (started) => {
        if (started > 0) {
          if (!o.fullResponse) app.respond(msgId, 'OK|done');
          return;
        }
        app.respond(msgId, `NOK|error proxying request to ${o.destinations.join(',')}: ${NO_USABLE_DESTINATION}`);
        session.close();
        if (t.open) {
          const resp = serializeSipMessage(buildResponse(req, 500, newTag()));
          t.respond(500, resp);
          if (req.method === 'INVITE') this.ctx.cdr.emit('stop', 'application', () => resp, 'call-rejected');
        }
      },
      (err: unknown) => this.ctx.log.error({ err }, 'engine proxy: starting the request failed'),
    );
  }

  /**
   * Case 2: an in-dialog request whose first Route is us and whose next hop is not. Returns false
   * when the request is not for proxying (the caller handles it as usual).
   */
  routeRequest(msg: SipMessage, source: MessageSource, key: string): boolean {
    if (getTag(getHeader(msg, 'to')) === undefined || msg.method === 'CANCEL') return false;
    const routes = getHeaderList(msg, 'route');
    const points = this.ctx.transport.points;
    if (!routes[0] || !isOwnRoute(points, routes[0])) return false;
    const nextRoute = routes[1];
    const nextUri = nextRoute ? parseNameAddr(nextRoute)?.uri : msg.uri;
    if (!nextUri || (!nextRoute && isOwnUri(points, msg.uri))) return false;
    const callId = getHeader(msg, 'call-id') ?? '';
    const known = this.#routed.get(callId);
    if (!known?.recordRoute || this.ctx.clock.now() - known.at > ROUTED_DIALOG_IDLE_MS) return false;
    this.#touchRouted(callId, true);
    if (maxForwards(msg) <= 0) {
      if (msg.method !== 'ACK') this.txns.reject(msg, source, key, 483);
      return true;
    }
    void this.#forwardStateless(msg, nextUri).catch((err: unknown) => this.ctx.log.error({ err }, 'engine proxy: forwarding an in-dialog request failed'));
    if (msg.method === 'BYE') this.ctx.cdr.emit('stop', 'network', () => serializeSipMessage(msg), 'normal-release');
    return true;
  }

  #touchRouted(callId: string, recordRoute: boolean): void {
    if (callId === '') return;
    const rr = recordRoute || (this.#routed.get(callId)?.recordRoute ?? false);
    this.#routed.delete(callId); // re-inserted last: the map stays ordered by last use
    this.#routed.set(callId, { at: this.ctx.clock.now(), recordRoute: rr });
    if (this.#routed.size > ROUTED_DIALOG_MAX) this.#routed.delete(this.#routed.keys().next().value as string);
  }

  async #forwardStateless(msg: SipMessage, nextUri: string): Promise<void> {
    const has = (p: string): boolean => this.ctx.transport.hasProtocol(p);
    const target = await resolveUri(nextUri, has);
    if (!target) {
      this.ctx.log.warn({ next: nextUri, method: msg.method }, 'engine proxy: next hop of a routed request is unusable; dropped');
      return;
    }
    const p = this.ctx.point(target.protocol);
    // RFC 3261 section 16.11: the branch is a function of the incoming one, so retransmissions keep it
    const incoming = parseVia(topVia(msg))?.branch ?? serializeSipMessage(msg);
    const branch = 'z9hG4bK' + createHash('sha1').update(`${incoming}|${msg.method}`).digest('hex').slice(0, 20);
    const out = buildProxiedRequest(msg, {
      via: `SIP/2.0/${target.protocol.toUpperCase()} ${hostport(p)};rport;branch=${branch}`,
      requestUri: msg.uri,
      recordRoute: undefined,
      dropFirstRoute: true,
      appHeaders: [],
    });
    this.ctx.send(target, serializeSipMessage(out));
  }

  /** Case 3: returns true when the response was ours to forward statelessly. */
  forwardResponse(msg: SipMessage): boolean {
    const vias = viaItems(msg);
    if (vias.length < 2) return false;
    const known = this.#routed.get(getHeader(msg, 'call-id') ?? '');
    if (!known || this.ctx.clock.now() - known.at > ROUTED_DIALOG_IDLE_MS) return false; // only for what an app proxied (no reflection)
    const top = parseVia(vias[0] as string);
    if (!top || top.port === undefined || !isOwnAddress(this.ctx.transport.points, top.host, top.port)) return false;
    const hop = viaHop(vias[1] as string);
    if (!hop || !this.ctx.transport.hasProtocol(hop.protocol) || isIP(hop.host) === 0) return false;
    this.ctx.send(hop, serializeSipMessage(withoutTopVia(msg)));
    return true;
  }

  #remember(realm: string, nonce: string, destination: string): void {
    const old = this.#challenges.get(nonce);
    if (old) this.ctx.timers.clearTimeout(old.timer);
    const timer = this.ctx.timers.setTimeout(() => this.#challenges.delete(nonce), CHALLENGE_MEMORY_MS);
    this.#challenges.set(nonce, { realm, destination, timer });
  }

  /** Stop every session's timers. */
  close(): void {
    for (const s of [...this.#live]) s.close();
    for (const c of this.#challenges.values()) this.ctx.timers.clearTimeout(c.timer);
    this.#challenges.clear();
    this.#routed.clear();
  }
}
