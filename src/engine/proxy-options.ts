/**
 * The app's `proxy` message (srf `req.proxy()` / `srf.proxyRequest()`), drachtio-server's format:
 *
 *   msgId|proxy|<txnId>|[remainInDialog]|[fullResponse]|[followRedirects]|simultaneous|serial
 *        |<provisionalTimeout>|<finalTimeout>|<destination 1>|<destination 2>...
 *   CRLF + a request line and the headers the app wants added (srf's `opts.headers`)
 *
 * Timeouts are written `2s` or `1500ms`; empty means none. srf always asks for `fullResponse`.
 */
export interface ProxyOptions {
  /** The server transaction (the request the app received) to proxy. */
  txnId: string;
  /** Record-Route the request and stay in the dialog's path (srf: remainInDialog, recordRoute or path). Default false. */
  recordRoute: boolean;
  /** Report every final response to the app (`continue` replies, then `done`). srf: always. */
  fullResponse: boolean;
  /** Try the Contacts of a 3xx as further destinations (RFC 3261 section 16.7 step 4). Default false. */
  followRedirects: boolean;
  /** Fork to every destination at once (RFC 3261 section 16.6); default one after the other. */
  simultaneous: boolean;
  /** A destination that sends nothing at all (not even 100) within this is given up; undefined = Timer B only. */
  provisionalTimeoutMs: number | undefined;
  /** A destination with no final response within this is CANCELed and counts as 408; undefined = Timer C (180 s). */
  finalTimeoutMs: number | undefined;
  /** Destination URIs, in order. */
  destinations: string[];
}

/** `2s` -> 2000, `1500ms` -> 1500, '' or bad syntax -> undefined (drachtio logs bad syntax and ignores it). */
export function parseProxyTimeout(text: string | undefined): number | undefined {
  const m = /^(\d+)(ms|s)$/.exec((text ?? '').trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : n;
}

/** The leader tokens of a `proxy` message (token 0 = msgId); an error text when it cannot be used. */
export function parseProxyTokens(tokens: string[]): { ok: true; options: ProxyOptions } | { ok: false; error: string } {
  if (tokens.length < 10) return { ok: false, error: 'Invalid proxy request: not enough information provided' };
  const destinations = tokens.slice(9).map((d) => d.trim()).filter((d) => d.length > 0);
  if (destinations.length === 0) return { ok: false, error: 'Invalid proxy request: no destination' };
  return {
    ok: true,
    options: {
      txnId: tokens[2] ?? '',
      recordRoute: tokens[3] === 'remainInDialog',
      fullResponse: tokens[4] === 'fullResponse',
      followRedirects: tokens[5] === 'followRedirects',
      simultaneous: tokens[6] === 'simultaneous',
      provisionalTimeoutMs: parseProxyTimeout(tokens[7]),
      finalTimeoutMs: parseProxyTimeout(tokens[8]),
      destinations,
    },
  };
}
