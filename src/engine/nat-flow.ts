/**
 * NAT traversal in signalling: where the engine sends what it sends to a peer whose Via or Contact
 * names an address behind a NAT (a private or otherwise unreachable address).
 *
 * Responses (RFC 3261 section 18.2.2, RFC 3581 section 4): always to the address and port the
 * request came from (UDP) or on the connection it came on (TCP/TLS), whether or not the top Via
 * carries `rport` ("forced rport", what drachtio-server does with sofia-sip's server rport mode 2).
 * The transaction table does that for every source; this file is about requests.
 *
 * In-dialog requests (BYE, re-INVITE, INFO, UPDATE, NOTIFY, PRACK, the ACK for a 2xx): RFC 3261
 * section 12.2.1.1 sends them to the remote target (the peer's Contact) or the first route. A user
 * agent behind a NAT writes its private address there, so they never arrive. The engine keeps the
 * dialog's *flow* instead (the transport, address and port the peer's messages come from; the idea
 * of RFC 5626 sections 3.1 and 5.3, without flow tokens: the dialog state holds the flow) and sends
 * the request there, the Request-URI staying the Contact as RFC 3261 requires. Over UDP that is the
 * source address:port; over TCP/TLS the connection the peer opened while it is open, else the
 * Contact (or route) is dialled as RFC 3261 says. Kamailio gets the same with fix_nated_contact or
 * add_contact_alias/handle_ruri_alias; an SBC in front of drachtio-server does it too.
 *
 * Per peer, the engine's `natFlow` option picks one of three modes:
 *   'flow'    the flow, whenever the dialog has no route set or its first hop names a private address
 *             (a Record-Routing proxy is trusted to be reachable at what it recorded); the flow
 *             follows later requests from the peer (a re-INVITE from a new NAT binding);
 *   'detect'  drachtio-server's default NAT detection, for drop-in behaviour (the engine's default):
 *             UAS over UDP: no Record-Route and the INVITE's Contact host differs from the source
 *             address, or its explicit port from the source port; UAC: the first route hop is a
 *             private address, or there is no route and the 2xx's Contact host differs from the
 *             address the 2xx came from. The flow then is fixed at dialog creation;
 *   'contact' RFC 3261 as written (drachtio-server's --disable-nat-detection).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { stripBrackets } from './sip-address.js';
import { firstListItem, getHeader, parseNameAddr, parseSipUri, type SipMessage } from './sip-message.js';
import type { SipProtocol } from './sip-transport.js';
import type { Target } from './transaction-context.js';

export type NatFlowMode = 'flow' | 'detect' | 'contact';

/** Where a peer's messages come from: the transport and the remote address and port. */
export interface Flow {
  protocol: SipProtocol;
  host: string;
  port: number;
}

/** Chooses the mode for a dialog peer, from the flow that created the dialog. Must be cheap and never throw. */
export type NatFlowPolicy = (peer: Flow) => NatFlowMode;

/** The engine's default: drachtio-server's NAT detection for every peer. */
export const DETECT_NAT: NatFlowPolicy = () => 'detect';

/**
 * Is this an address a NAT hides: RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598 shared space
 * (100.64/10), link-local (169.254/16, fe80::/10) or an IPv6 unique local address (fc00::/7,
 * RFC 4193)? Host names and anything unparsable are not. Never throws.
 */
export function isPrivateAddress(host: string): boolean {
  const h = stripBrackets(host.trim());
  if (isIPv4(h)) {
    const [a = 0, b = 0] = h.split('.').map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
  }
  if (isIPv6(h)) {
    const first = parseInt(h.split(':')[0] || '0', 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  }
  return false;
}

/** Host and explicit port of the first Contact of a message, if it parses. */
function contactAddress(msg: SipMessage): { host: string; port: number | undefined } | undefined {
  const na = parseNameAddr(firstListItem(getHeader(msg, 'contact') ?? ''));
  const uri = na ? parseSipUri(na.uri) : undefined;
  return uri ? { host: stripBrackets(uri.host), port: uri.port } : undefined;
}

/** Host of the first hop of a route set (a Route/Record-Route value), if it parses. */
function firstHopHost(routeSet: readonly string[]): string | undefined {
  const hop = routeSet[0];
  const na = hop === undefined ? undefined : parseNameAddr(hop);
  const uri = na ? parseSipUri(na.uri) : undefined;
  return uri ? stripBrackets(uri.host) : undefined;
}

function sameHost(a: string, b: string): boolean {
  return stripBrackets(a).toLowerCase() === stripBrackets(b).toLowerCase();
}

/**
 * UAS dialog (the peer sent the INVITE from `source`, `routeSet` from its Record-Route): are
 * in-dialog requests sent to the flow?
 */
export function uasUsesFlow(mode: NatFlowMode, source: Flow, invite: SipMessage, routeSet: readonly string[]): boolean {
  if (mode === 'contact') return false;
  if (mode === 'flow') return routeSet.length === 0 || isPrivateAddress(firstHopHost(routeSet) ?? '');
  // drachtio-server's UAS check: UDP only, no Record-Route, the Contact differs from the source
  if (source.protocol !== 'udp' || routeSet.length > 0) return false;
  const c = contactAddress(invite);
  if (!c) return false;
  return !sameHost(c.host, source.host) || (c.port !== undefined && c.port !== source.port);
}

/**
 * UAC dialog (the peer's dialog-creating response `response` came from `source`; `routeSet` in the
 * order requests use it): are in-dialog requests sent to the flow?
 */
export function uacUsesFlow(mode: NatFlowMode, source: Flow, response: SipMessage, routeSet: readonly string[]): boolean {
  if (mode === 'contact') return false;
  if (routeSet.length > 0) return isPrivateAddress(firstHopHost(routeSet) ?? '');
  if (mode === 'flow') return true;
  // drachtio-server's UAC check: no route and the Contact host differs from where the response came from
  const c = contactAddress(response);
  return c !== undefined && !sameHost(c.host, source.host);
}

/**
 * The target an in-dialog request takes when the dialog uses its flow: the flow's address over
 * UDP; over TCP/TLS the flow's connection while it is open, else `base` (the Contact or route) is
 * dialled. A flow over another transport than `base` is not used. `redirected` says whether the
 * request goes somewhere else than RFC 3261 would send it.
 */
export function flowTarget(base: Target, flow: Flow): { target: Target; redirected: boolean } {
  if (flow.protocol !== base.protocol) return { target: base, redirected: false };
  const redirected = !sameHost(flow.host, base.host) || flow.port !== base.port;
  if (!redirected) return { target: base, redirected };
  if (flow.protocol === 'udp') return { target: { protocol: 'udp', host: flow.host, port: flow.port }, redirected };
  const target: Target = { protocol: flow.protocol, host: flow.host, port: flow.port, reconnect: { host: base.host, port: base.port } };
  if (base.serverName !== undefined) target.serverName = base.serverName;
  return { target, redirected };
}
