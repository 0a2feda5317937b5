/**
 * Pure builders for what the engine puts on the wire on an app's behalf (docs/engine.md protocol
 * section 6). Each merges the app's message (only the headers the app set, srf style) with what
 * the engine fills in: Via, Max-Forwards, tags, Call-ID, CSeq, route set, Contact, Content-Type.
 * Ids and addresses come in as arguments, so tests can compare the output byte for byte.
 *
 * Header order follows drachtio-server's echoes: Via, Max-Forwards, From, To, Call-ID, CSeq,
 * [Route], Contact, Content-Type, Content-Length, then the app's other headers.
 */
import { REASONS, fixLocalhost, responseBaseHeaders } from './message-builder.js';
import {
  firstListItem,
  getHeader,
  getHeaderList,
  getParam,
  getTag,
  parseCSeq,
  parseNameAddr,
  withTag,
  type SipHeader,
  type SipMessage,
} from './sip-message.js';

/** Headers of an app request the engine builds itself or takes over explicitly. */
export const APP_REQUEST_TAKEN = new Set([
  'via', 'content-length', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'route', 'content-type', 'record-route',
]);
/** Headers an app may not supply in a response (drachtio.cpp drops them; the engine builds them). */
export const APP_RESPONSE_DROP = new Set([
  'via', 'route', 'record-route', 'rseq', 'content-length', 'call-id', 'cseq', 'from', 'to', 'contact', 'content-type',
]);

export type Built = { ok: true; msg: SipMessage } | { ok: false; error: string };

/**
 * Content-Type for a body: the app's, else `application/sdp` when the body starts with `v=0`
 * (docs/engine.md item E21); a body of another kind without Content-Type is refused like drachtio does.
 */
export function contentTypeFor(appHeaders: SipHeader[], body: string): { ok: true; value: string | undefined } | { ok: false } {
  let ctype: string | undefined;
  for (const h of appHeaders) if (h.name === 'content-type') ctype = h.value;
  if (!body) return { ok: true, value: undefined };
  if (ctype !== undefined) return { ok: true, value: ctype };
  return body.startsWith('v=0') ? { ok: true, value: 'application/sdp' } : { ok: false };
}

/** Does a header list carry an option tag (Supported/Require: 100rel, timer)? */
export function hasOptionTag(msg: SipMessage, names: string[], tag: string): boolean {
  for (const name of names) for (const v of getHeaderList(msg, name)) if (v.trim().toLowerCase() === tag) return true;
  return false;
}

/** What an in-dialog request needs to know about its dialog. */
export interface DialogView {
  callId: string;
  localParty: string;
  remoteParty: string;
  routeSet: readonly string[];
  localContact: string;
}

export interface InDialogOptions {
  method: string;
  uri: string;
  cseq: number;
  /** `SIP/2.0/UDP 127.0.0.1:5060;rport;branch=...` */
  via: string;
  appHeaders: SipHeader[];
  body: string;
}

/** In-dialog request, RFC 3261 section 12.2.1.1 (docs/engine.md item E22). */
export function buildInDialogRequest(d: DialogView, o: InDialogOptions): SipMessage {
  const headers: SipHeader[] = [
    { name: 'via', value: o.via },
    { name: 'max-forwards', value: '70' },
    { name: 'from', value: d.localParty },
    { name: 'to', value: d.remoteParty },
    { name: 'call-id', value: d.callId },
    { name: 'cseq', value: `${o.cseq} ${o.method}` },
  ];
  for (const r of d.routeSet) headers.push({ name: 'route', value: r });
  let contact: string | undefined;
  for (const h of o.appHeaders) if (h.name === 'contact') contact = h.value;
  if (contact === undefined && (o.method === 'INVITE' || o.method === 'UPDATE' || o.method === 'SUBSCRIBE' || o.method === 'REFER')) {
    contact = d.localContact || undefined;
  }
  if (contact !== undefined) headers.push({ name: 'contact', value: contact });
  const ct = contentTypeFor(o.appHeaders, o.body);
  if (ct.ok && ct.value !== undefined) headers.push({ name: 'content-type', value: ct.value });
  headers.push({ name: 'content-length', value: '0' });
  for (const h of o.appHeaders) if (!APP_REQUEST_TAKEN.has(h.name)) headers.push(h);
  return { isRequest: true, method: o.method, uri: o.uri, status: 0, reason: '', headers, body: o.body };
}

/** ACK for a non-2xx final response (RFC 3261 section 17.1.1.3): same branch, To from the response. */
export function buildAckForNon2xx(req: SipMessage, resp: SipMessage): SipMessage {
  const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
  const headers: SipHeader[] = [
    { name: 'via', value: firstListItem(getHeader(req, 'via') ?? '') },
    { name: 'max-forwards', value: '70' },
    { name: 'from', value: getHeader(req, 'from') ?? '' },
    { name: 'to', value: getHeader(resp, 'to') ?? '' },
    { name: 'call-id', value: getHeader(req, 'call-id') ?? '' },
    { name: 'cseq', value: `${cseq?.seq ?? 1} ACK` },
  ];
  for (const h of req.headers) if (h.name === 'route') headers.push(h);
  headers.push({ name: 'content-length', value: '0' });
  return { isRequest: true, method: 'ACK', uri: req.uri, status: 0, reason: '', headers, body: '' };
}

/** CANCEL built from the INVITE (RFC 3261 section 9.1, docs/engine.md item D18): same top Via, Call-ID, From, To, CSeq number. */
export function buildCancel(req: SipMessage, appHeaders: SipHeader[]): SipMessage {
  const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
  const headers: SipHeader[] = [
    { name: 'via', value: firstListItem(getHeader(req, 'via') ?? '') },
    { name: 'max-forwards', value: '70' },
    { name: 'from', value: getHeader(req, 'from') ?? '' },
    { name: 'to', value: getHeader(req, 'to') ?? '' },
    { name: 'call-id', value: getHeader(req, 'call-id') ?? '' },
    { name: 'cseq', value: `${cseq?.seq ?? 1} CANCEL` },
  ];
  for (const h of req.headers) if (h.name === 'route') headers.push(h);
  headers.push({ name: 'content-length', value: '0' });
  for (const h of appHeaders) if (!APP_REQUEST_TAKEN.has(h.name)) headers.push(h);
  return { isRequest: true, method: 'CANCEL', uri: req.uri, status: 0, reason: '', headers, body: '' };
}

export interface NewRequestOptions {
  /** `SIP/2.0/UDP 127.0.0.1:5060;rport;branch=...` */
  via: string;
  /** Our host:port, for the default From/Contact and `@localhost` replacement. */
  hostport: string;
  /** Default Contact (e.g. `<sip:127.0.0.1:5060>`), added to INVITE/SUBSCRIBE/REFER. */
  contact: string;
  callId: string;
  cseq: number;
  fromTag: string;
}

/** Out-of-dialog request from an app (docs/engine.md item E21): From/To/Call-ID/CSeq defaults, From tag, Contact. */
export function buildNewRequest(appMsg: SipMessage, o: NewRequestOptions): Built {
  const method = appMsg.method;
  const ct = contentTypeFor(appMsg.headers, appMsg.body);
  if (!ct.ok) return { ok: false, error: 'missing content-type' };
  let from = fixLocalhost(getHeader(appMsg, 'from') ?? `<sip:${o.hostport}>`, o.hostport);
  const na = parseNameAddr(from);
  if (na && !getParam(na.params, 'tag')) from = withTag(from, o.fromTag);
  const appCseq = parseCSeq(getHeader(appMsg, 'cseq') ?? '');
  const headers: SipHeader[] = [
    { name: 'via', value: o.via },
    { name: 'max-forwards', value: getHeader(appMsg, 'max-forwards') ?? '70' },
    { name: 'from', value: from },
    { name: 'to', value: fixLocalhost(getHeader(appMsg, 'to') ?? `<${appMsg.uri}>`, o.hostport) },
    { name: 'call-id', value: getHeader(appMsg, 'call-id') ?? o.callId },
    { name: 'cseq', value: `${appCseq?.seq ?? o.cseq} ${method}` },
  ];
  for (const r of getHeaderList(appMsg, 'route')) headers.push({ name: 'route', value: r });
  let contact = getHeader(appMsg, 'contact');
  if (contact === undefined && (method === 'INVITE' || method === 'SUBSCRIBE' || method === 'REFER')) contact = o.contact;
  if (contact !== undefined) headers.push({ name: 'contact', value: fixLocalhost(contact, o.hostport) });
  if (ct.value !== undefined) headers.push({ name: 'content-type', value: ct.value });
  headers.push({ name: 'content-length', value: '0' });
  for (const h of appMsg.headers) {
    if (APP_REQUEST_TAKEN.has(h.name)) continue;
    headers.push(h.name === 'p-asserted-identity' ? { name: h.name, value: fixLocalhost(h.value, o.hostport) } : h);
  }
  return { ok: true, msg: { isRequest: true, method, uri: appMsg.uri, status: 0, reason: '', headers, body: appMsg.body } };
}

export interface AppResponseOptions {
  /** To-tag for this transaction's responses (ignored for 100). */
  toTag: string | undefined;
  /** Contact to add when the app gave none and the response needs one; undefined = none. */
  contact: string | undefined;
  hostport: string;
  /** RSeq for a reliable provisional (RFC 3262), else undefined. */
  rseq: number | undefined;
  /** Session-Expires for a 2xx (RFC 4028), else undefined. */
  sessionExpires: SipHeader | undefined;
  /** Add `Require: timer` with it (only when the peer supports timer, RFC 4028 section 9). */
  requireTimer?: boolean;
}

/**
 * A response built from the engine's copy of the request plus the app's headers and body
 * (docs/engine.md item F28): Via/From/To/Call-ID/CSeq from the request, Record-Route copied into
 * dialog-creating responses (RFC 3261 section 12.1.1), app Via/Route/RSeq/Content-Length dropped.
 */
export function buildAppResponse(req: SipMessage, appMsg: SipMessage, o: AppResponseOptions): Built {
  const status = appMsg.status;
  const ct = contentTypeFor(appMsg.headers, appMsg.body);
  if (!ct.ok) return { ok: false, error: 'missing content-type' };
  const headers = responseBaseHeaders(req, status > 100 ? o.toTag : undefined);
  // RFC 6665 section 4.1.2.1 / RFC 3515: a 2xx to an out-of-dialog SUBSCRIBE or REFER creates a dialog too
  const createsDialog =
    (req.method === 'INVITE' && status > 100 && status < 300) ||
    ((req.method === 'SUBSCRIBE' || req.method === 'REFER') && status >= 200 && status < 300 && getTag(getHeader(req, 'to')) === undefined);
  if (createsDialog) for (const h of req.headers) if (h.name === 'record-route') headers.push(h);
  const contact = getHeader(appMsg, 'contact') ?? o.contact;
  if (contact !== undefined) headers.push({ name: 'contact', value: fixLocalhost(contact, o.hostport) });
  if (o.rseq !== undefined) headers.push({ name: 'rseq', value: String(o.rseq) });
  if (ct.value !== undefined) headers.push({ name: 'content-type', value: ct.value });
  headers.push({ name: 'content-length', value: '0' });
  if (o.sessionExpires) {
    headers.push(o.sessionExpires);
    if (o.requireTimer && !hasOptionTag(appMsg, ['require'], 'timer')) headers.push({ name: 'require', value: 'timer' });
  }
  for (const h of appMsg.headers) if (!APP_RESPONSE_DROP.has(h.name)) headers.push(h);
  return {
    ok: true,
    msg: { isRequest: false, method: req.method, uri: '', status, reason: appMsg.reason || REASONS[status] || '', headers, body: appMsg.body },
  };
}
