/**
 * Small address helpers the engine core shares: `host:port` text for Via/Contact (IPv6 in
 * brackets, RFC 3261 section 25.1 `hostport`), bracket stripping for socket addresses, and the
 * sips: scheme check (RFC 3261 section 26.2.2: a sips: URI asks for TLS).
 */

/** `host:port`, with an IPv6 host in brackets. */
export function hostport(p: { host: string; port: number }): string {
  return `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
}

/** Is this a sips: URI? */
export function isSips(uri: string): boolean {
  return /^\s*sips:/i.test(uri);
}

/** `[::1]` -> `::1` (a URI host to a socket address). */
export function stripBrackets(h: string): string {
  return h.startsWith('[') ? h.slice(1, -1) : h;
}
