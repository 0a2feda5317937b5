/**
 * The Warning header of a refusal (RFC 3261 section 20.43): `Warning: <warn-code> <warn-agent>
 * "<warn-text>"`, e.g. `Warning: 304 192.0.2.10:5060 "Media type not available"` on a 488 (Not
 * Acceptable Here, section 21.4.26) to an offer whose audio stream is `m=audio 0`.
 *
 * The warn-agent is the host (and port) the peer addressed us by (the Request-URI of its INVITE),
 * or the pseudonym `recording-b2bua` when that has none. Pure; never throws.
 */
import type { SdpRefusal } from './sdp-media.js';

/** RFC 3261 section 20.43: the warn-text of each warn-code we send. */
export const WARN_TEXT: Readonly<Record<SdpRefusal['code'], string>> = {
  301: 'Incompatible network address formats',
  302: 'Incompatible transport protocol',
  304: 'Media type not available',
  305: 'Incompatible media format',
  307: 'Session description parameter not understood',
};

/** The pseudonym used as warn-agent when the Request-URI names no host. */
export const WARN_AGENT_PSEUDONYM = 'recording-b2bua';

/** `host[:port]` of a SIP/SIPS URI (name-addr or plain), or the pseudonym. */
export function warnAgentOf(uri: string | undefined): string {
  const m = /sips?:(?:[^@;>\s]*@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?/i.exec(String(uri ?? ''));
  return m ? `${m[1]}${m[2] ?? ''}` : WARN_AGENT_PSEUDONYM;
}

/** The Warning header value for a refused SDP body. */
export function warningOf(refusal: Pick<SdpRefusal, 'code'>, agent: string): string {
  return `${refusal.code} ${agent} "${WARN_TEXT[refusal.code]}"`;
}

/** Headers of a 488 for `refusal`: { Warning }. */
export function refusalHeaders(refusal: Pick<SdpRefusal, 'code'>, agent: string): Record<string, string> {
  return { Warning: warningOf(refusal, agent) };
}
