/**
 * Where a proxy sends things (RFC 3261 sections 16.5, 16.6 step 7 and 16.4): is a URI or Route
 * one of the engine's own addresses, the transport and address of a destination URI (DNS A/AAAA
 * lookup only; no NAPTR/SRV), and the Record-Route the engine puts in a request it forwards.
 */
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { hostport, stripBrackets } from './sip-address.js';
import { parseNameAddr, parseSipUri, uriParam } from './sip-message.js';
import type { ListenPoint, SipProtocol } from './sip-transport.js';
import type { Target } from './transaction-context.js';

let localAddresses: Set<string> | undefined;

function interfaceAddresses(): Set<string> {
  if (!localAddresses) {
    localAddresses = new Set(['127.0.0.1', '::1', 'localhost']);
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) localAddresses.add(a.address);
  }
  return localAddresses;
}

/** Is `host[:port]` one of our listen points? Without a port the host alone decides. */
export function isOwnAddress(points: readonly ListenPoint[], host: string, port: number | undefined): boolean {
  const h = stripBrackets(host);
  for (const p of points) {
    if (port !== undefined && p.port !== port) continue;
    if (p.host === h) return true;
    if ((p.host === '0.0.0.0' || p.host === '::') && interfaceAddresses().has(h)) return true;
  }
  return false;
}

/** Is a SIP URI addressed to us (RFC 3261 section 16.5: then the proxy replaces it with the destination)? */
export function isOwnUri(points: readonly ListenPoint[], uri: string): boolean {
  const u = parseSipUri(uri);
  return u !== undefined && isOwnAddress(points, u.host, u.port);
}

/** Does a Route value name us as a loose router (RFC 3261 section 16.4)? */
export function isOwnRoute(points: readonly ListenPoint[], route: string): boolean {
  const na = parseNameAddr(route);
  const u = na ? parseSipUri(na.uri) : undefined;
  if (!na || !u || uriParam(u, 'lr') === undefined) return false;
  // a Route without a port means the default port of its transport
  const port = u.port ?? (u.scheme === 'sips' || uriParam(u, 'transport')?.toLowerCase() === 'tls' ? 5061 : 5060);
  return isOwnAddress(points, u.host, port);
}

/** The transport a URI asks for: sips: -> tls, `;transport=`, else UDP when we have it. */
export function uriProtocol(uri: string, has: (p: string) => boolean): SipProtocol | undefined {
  const u = parseSipUri(uri);
  if (!u) return undefined;
  const asked = u.scheme === 'sips' ? 'tls' : uriParam(u, 'transport')?.toLowerCase();
  if (asked !== undefined) return (asked === 'udp' || asked === 'tcp' || asked === 'tls') && has(asked) ? asked : undefined;
  return has('udp') ? 'udp' : has('tcp') ? 'tcp' : undefined;
}

/** Resolve a destination URI to a target; undefined when it is not a usable sip:/sips: URI or does not resolve. */
export async function resolveUri(uri: string, has: (p: string) => boolean): Promise<Target | undefined> {
  const u = parseSipUri(uri);
  const protocol = uriProtocol(uri, has);
  if (!u || !protocol) return undefined;
  let host = stripBrackets(u.host);
  const serverName = protocol === 'tls' && !isIP(host) ? host : undefined;
  const port = u.port ?? (protocol === 'tls' ? 5061 : 5060);
  if (!isIP(host)) {
    try {
      host = (await lookup(host)).address;
    } catch {
      return undefined;
    }
  }
  return serverName === undefined ? { protocol, host, port } : { protocol, host, port, serverName };
}

/** `<sip:host:port;lr>` (`;transport=tcp|tls` when not UDP): what drachtio-server records. */
export function recordRouteFor(point: ListenPoint): string {
  const transport = point.protocol === 'udp' ? '' : `;transport=${point.protocol}`;
  return `<sip:${hostport(point)}${transport};lr>`;
}
