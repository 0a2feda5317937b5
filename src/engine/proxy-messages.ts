/**
 * Pure builders for the engine as a stateful proxy (RFC 3261 section 16): the request forwarded to
 * one destination (section 16.6), the response forwarded upstream (section 16.7 step 9), the choice
 * of the best final response (section 16.7 step 6), and the upstream hop of a response that matches
 * no transaction (section 16.11, stateless).
 */
import {
  firstListItem,
  getHeader,
  parseNameAddr,
  parseVia,
  splitHeaderList,
  type SipHeader,
  type SipMessage,
} from './sip-message.js';
import type { SipProtocol } from './sip-transport.js';

/** Headers of the app's `proxy` message that never replace the request's own (the proxy builds them). */
const NOT_FROM_APP = new Set(['via', 'route', 'record-route', 'max-forwards', 'content-length', 'call-id', 'cseq', 'from', 'to']);

export interface ProxiedRequestOptions {
  /** Our Via for this branch: `SIP/2.0/UDP host:port;rport;branch=...`. */
  via: string;
  /** The Request-URI to send: the destination when the request was addressed to us, else unchanged (section 16.5). */
  requestUri: string;
  /** `<sip:host:port;lr>` when the proxy stays in the dialog's path (section 16.6 step 4); Path for REGISTER. */
  recordRoute: string | undefined;
  /** Remove the first Route: it names us (section 16.4). */
  dropFirstRoute: boolean;
  /** Headers the app asked for (srf opts.headers): they replace the request's headers of the same name. */
  appHeaders: SipHeader[];
}

/**
 * The copy of `req` sent to one destination (RFC 3261 section 16.6): our Via on top, Max-Forwards
 * one less (70 when absent), the Request-URI, Record-Route (Path + `Require: path` for REGISTER,
 * RFC 3327) and the app's headers.
 */
export function buildProxiedRequest(req: SipMessage, o: ProxiedRequestOptions): SipMessage {
  const appNames = new Set(o.appHeaders.filter((h) => !NOT_FROM_APP.has(h.name)).map((h) => h.name));
  const headers: SipHeader[] = [{ name: 'via', value: o.via }];
  let droppedRoute = !o.dropFirstRoute;
  let placedRr = o.recordRoute === undefined;
  const rrName = req.method === 'REGISTER' ? 'path' : 'record-route';
  let sawMaxForwards = false;
  for (const h of req.headers) {
    if (appNames.has(h.name)) continue;
    if (h.name === 'route' && !droppedRoute) {
      droppedRoute = true;
      const rest = splitHeaderList(h.value).slice(1);
      if (rest.length) headers.push({ name: 'route', value: rest.join(', ') });
      continue;
    }
    if (h.name === 'max-forwards') {
      sawMaxForwards = true;
      headers.push({ name: 'max-forwards', value: String(Math.max(0, maxForwards(req) - 1)) });
      continue;
    }
    if (h.name === rrName && !placedRr) {
      headers.push({ name: rrName, value: o.recordRoute as string });
      placedRr = true;
    }
    headers.push(h);
  }
  if (!sawMaxForwards) headers.splice(1, 0, { name: 'max-forwards', value: '70' });
  if (!placedRr) {
    const lastVia = headers.reduce((at, h, i) => (h.name === 'via' ? i : at), 0);
    headers.splice(lastVia + 1, 0, { name: rrName, value: o.recordRoute as string });
  }
  if (req.method === 'REGISTER' && o.recordRoute !== undefined) headers.push({ name: 'require', value: 'path' });
  for (const h of o.appHeaders) if (!NOT_FROM_APP.has(h.name)) headers.push(h);
  return { isRequest: true, method: req.method, uri: o.requestUri, status: 0, reason: '', headers, body: req.body };
}

/** Max-Forwards of a request (70 when absent or unreadable, RFC 3261 section 16.6 step 3). */
export function maxForwards(req: SipMessage): number {
  const v = getHeader(req, 'max-forwards');
  return v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : 70;
}

/** A response with its top Via item removed (RFC 3261 section 16.7 step 3). */
export function withoutTopVia(resp: SipMessage): SipMessage {
  const headers: SipHeader[] = [];
  let removed = false;
  for (const h of resp.headers) {
    if (h.name === 'via' && !removed) {
      removed = true;
      const rest = splitHeaderList(h.value).slice(1);
      if (rest.length) headers.push({ name: 'via', value: rest.join(', ') });
      continue;
    }
    headers.push(h);
  }
  return { ...resp, headers };
}

/** Every Via item of a message, top first. */
export function viaItems(msg: SipMessage): string[] {
  const out: string[] = [];
  for (const h of msg.headers) if (h.name === 'via') out.push(...splitHeaderList(h.value));
  return out;
}

/** Where a response goes by its Via (RFC 3261 section 18.2.2 with RFC 3581): received/rport, else sent-by. */
export function viaHop(viaText: string): { protocol: SipProtocol; host: string; port: number } | undefined {
  const via = parseVia(viaText);
  if (!via) return undefined;
  const t = via.transport.toLowerCase();
  const protocol: SipProtocol = t === 'tcp' || t === 'tls' ? t : 'udp';
  let host = via.host;
  let port = via.port ?? (protocol === 'tls' ? 5061 : 5060);
  for (const [k, v] of via.params) {
    if (k === 'received' && v) host = v;
    if (k === 'rport' && /^\d+$/.test(v)) port = Number(v);
  }
  return { protocol, host: host.replace(/^\[|\]$/g, ''), port };
}

/** The sent-by of a Via item as `host:port` (port as written, '' when absent): what transaction keys use. */
export function viaSentBy(viaText: string): string | undefined {
  const via = parseVia(viaText);
  return via ? `${via.host}:${via.port ?? ''}` : undefined;
}

/**
 * Rank of a final response for the best-response choice (RFC 3261 section 16.7 step 6), lower is
 * better: any 6xx; else the lowest class, 3xx before 4xx before 5xx, with 401/407/415/420/484 first
 * among the 4xx (the caller can act on them). Equal ranks keep arrival order.
 */
export function finalRank(status: number): number {
  if (status >= 600) return 0;
  if (status >= 300 && status < 400) return 1;
  if (status === 401 || status === 407 || status === 415 || status === 420 || status === 484) return 2;
  if (status >= 400 && status < 500) return 3;
  return 4;
}

/** Index of the best final response among `statuses` (arrival order), or -1 when there is none. */
export function bestFinal(statuses: number[]): number {
  let best = -1;
  for (let i = 0; i < statuses.length; i++) {
    if (best < 0 || finalRank(statuses[i] as number) < finalRank(statuses[best] as number)) best = i;
  }
  return best;
}

/** The Contacts of a 3xx, as URIs, in order (RFC 3261 section 16.7 step 4 / 8.1.3.4). */
export function redirectTargets(resp: SipMessage): string[] {
  const out: string[] = [];
  for (const h of resp.headers) {
    if (h.name !== 'contact') continue;
    for (const item of splitHeaderList(h.value)) {
      const na = parseNameAddr(item);
      if (na && na.uri !== '*') out.push(na.uri);
    }
  }
  return out;
}

/**
 * realm and nonce of a digest challenge (WWW-Authenticate or Proxy-Authenticate, RFC 3261 section
 * 22) or of the credentials answering it (Authorization or Proxy-Authorization); undefined if none.
 */
export function digestRealmNonce(msg: SipMessage, names: readonly string[]): { realm: string; nonce: string } | undefined {
  for (const name of names) {
    const v = getHeader(msg, name);
    if (v === undefined) continue;
    const realm = /\brealm\s*=\s*"([^"]*)"/i.exec(v)?.[1];
    const nonce = /\bnonce\s*=\s*"([^"]*)"/i.exec(v)?.[1];
    if (realm !== undefined && nonce) return { realm, nonce };
  }
  return undefined;
}

/** The first Via item of a message. */
export function topVia(msg: SipMessage): string {
  return firstListItem(getHeader(msg, 'via') ?? '');
}
