/**
 * Builders for the messages the engine puts on the wire: responses built from a stored request
 * (RFC 3261 section 8.2.6: Via, From, To, Call-ID and CSeq copied; To-tag added), and the
 * helpers that merge an app-supplied message with what the engine fills in.
 */
import {
  getHeader,
  parseVia,
  firstListItem,
  serializeVia,
  withTag,
  getTag,
  type SipHeader,
  type SipMessage,
} from './sip-message.js';
import type { MessageSource } from './sip-transport.js';

/** RFC 3261 section 21 reason phrases for the codes the engine generates. */
export const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 400: 'Bad Request', 408: 'Request Timeout',
  420: 'Bad Extension', 422: 'Session Interval Too Small', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 483: 'Too Many Hops', 487: 'Request Terminated', 491: 'Request Pending', 500: 'Server Internal Error',
  503: 'Service Unavailable', 513: 'Message Too Large',
};

/**
 * RFC 3581 section 4 (and drachtio's forced rport): record the source address in the top Via
 * (`received` when it differs from sent-by, `rport` always), so responses go back where the
 * request came from.
 */
export function stampTopVia(msg: SipMessage, source: MessageSource): void {
  const i = msg.headers.findIndex((h) => h.name === 'via');
  if (i < 0) return;
  const h = msg.headers[i] as SipHeader;
  const items = h.value.indexOf(',') < 0 ? [h.value] : splitKeep(h.value);
  const via = parseVia(items[0] ?? '');
  if (!via) return;
  const out: Array<[string, string]> = [];
  let placedRport = false;
  for (const [k, v] of via.params) {
    if (k === 'rport') {
      out.push(['rport', String(source.remotePort)]);
      placedRport = true;
    } else if (k !== 'received') out.push([k, v]);
  }
  if (via.host !== source.remoteHost) out.push(['received', source.remoteHost]);
  if (!placedRport) out.push(['rport', String(source.remotePort)]);
  via.params = out;
  items[0] = serializeVia(via);
  msg.headers[i] = { name: 'via', value: items.join(', ') };
}

function splitKeep(value: string): string[] {
  // Via values have no quotes/brackets in practice; split on commas.
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Copy Via (all), From, To (+tag), Call-ID, CSeq from a request into a new response's headers. */
export function responseBaseHeaders(req: SipMessage, toTag: string | undefined): SipHeader[] {
  const out: SipHeader[] = [];
  for (const h of req.headers) if (h.name === 'via') out.push(h);
  // (a malformed request may lack some of these: a 400 copies whatever exists)
  const from = getHeader(req, 'from');
  if (from !== undefined) out.push({ name: 'from', value: from });
  const to = getHeader(req, 'to');
  if (to !== undefined) out.push({ name: 'to', value: toTag !== undefined && getTag(to) === undefined ? withTag(to, toTag) : to });
  const callId = getHeader(req, 'call-id');
  if (callId !== undefined) out.push({ name: 'call-id', value: callId });
  const cseq = getHeader(req, 'cseq');
  if (cseq !== undefined) out.push({ name: 'cseq', value: cseq });
  return out;
}

/** A complete engine-generated response (no body). */
export function buildResponse(req: SipMessage, status: number, toTag?: string, extra: SipHeader[] = [], reason?: string): SipMessage {
  const tag = status > 100 ? toTag : undefined;
  return {
    isRequest: false,
    method: req.method,
    uri: '',
    status,
    reason: reason ?? REASONS[status] ?? 'Unknown',
    headers: [...responseBaseHeaders(req, tag), ...extra, { name: 'content-length', value: '0' }],
    body: '',
  };
}

/**
 * Can a (possibly malformed) request still be answered with 400? It needs a request line and a
 * usable Via to answer to; Call-ID, From, To and CSeq are copied if present. A request without
 * Call-ID is answered too, as drachtio-server does: the sender matches the 400 by its Via branch
 * and CSeq method (RFC 3261 section 17.1.3) and learns why its request went nowhere. A Call-ID
 * holding a NUL byte is not copied back, so such a request is dropped.
 */
export function canAnswer(msg: SipMessage): boolean {
  if (!msg.isRequest || msg.method === '' || msg.method === 'ACK') return false;
  const via = getHeader(msg, 'via');
  if (!via || via.indexOf('\0') >= 0 || !parseVia(firstListItem(via))) return false;
  const callId = getHeader(msg, 'call-id');
  return callId === undefined || (callId.length > 0 && callId.indexOf('\0') < 0);
}

/** Replace `@localhost` in From/To/Contact/P-Asserted-Identity with the real host:port. */
export function fixLocalhost(value: string, hostport: string): string {
  return value.indexOf('@localhost') < 0 ? value : value.replace(/@localhost(?::\d+)?(?=[>;]|$)/g, '@' + hostport);
}
