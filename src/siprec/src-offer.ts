import type { SdesCrypto } from './recording-sdp.js';

/**
 * The SRC's SDP offer towards the recording server (RFC 7866 section 8.1.1; spec siprec.md):
 *
 *   v=0
 *   o=- <sessionId> <version> IN IP4 <address>
 *   s=SIPREC
 *   c=IN IP4 <address>
 *   t=0 0
 *   m=audio <port> RTP/AVP 0 8 101          <- one m-line per recorded direction
 *   a=label:1                               <- label 1 = PSTN/other party, 2 = user
 *   a=rtpmap:0 PCMU/8000 ... a=rtpmap:101 telephone-event/8000, a=fmtp:101 0-16
 *   a=ptime:20
 *   a=sendonly                              <- a=inactive while paused
 *   [a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:...]   <- RTP/SAVP only
 *
 * Every m-line uses the same profile: RTP/SAVP with a=crypto on all of them, or RTP/AVP on all
 * (mixed AVP/SAVP offers are a known interop failure, so the builder refuses them).
 * Bump `version` on every re-offer (RFC 3264 section 8).
 */
export type G711Name = 'PCMU' | 'PCMA';

export interface SrcOfferStream {
  /** `a=label` value, e.g. '1' / '2'. */
  label: string;
  /** Local RTP port we send from (symmetric RTP); RTCP on port + 1. */
  port: number;
  /** SDES key for RTP/SAVP (key material chosen by the caller). */
  crypto?: SdesCrypto;
}

export interface SrcOfferOptions {
  /** o= session id (decimal digits), fixed for the session. */
  sessionId: string;
  /** o= version, incremented for every new offer. */
  version: number;
  /** Our media address (c= and o=). */
  address: string;
  streams: readonly SrcOfferStream[];
  /** Default ['PCMU', 'PCMA'] (preference order). */
  codecs?: readonly G711Name[];
  /** Default 101; null = do not offer telephone-event. */
  telephoneEventPayloadType?: number | null;
  /** Default 20 ms. */
  ptime?: number;
  /** Default 'sendonly'; 'inactive' while the recording is paused. */
  direction?: 'sendonly' | 'inactive';
  /** s= line; default 'SIPREC'. */
  sessionName?: string;
}

const PT: Record<G711Name, number> = { PCMU: 0, PCMA: 8 };

export function buildSrcOffer(options: SrcOfferOptions): string {
  const withCrypto = options.streams.filter((s) => s.crypto).length;
  if (withCrypto !== 0 && withCrypto !== options.streams.length) {
    throw new RangeError('every m-line must use the same profile: give crypto for all streams or none');
  }
  if (options.streams.length === 0) throw new RangeError('an offer needs at least one stream');
  const profile = withCrypto > 0 ? 'RTP/SAVP' : 'RTP/AVP';
  const ipVer = options.address.includes(':') ? 'IP6' : 'IP4';
  const codecs = options.codecs ?? ['PCMU', 'PCMA'];
  const te = options.telephoneEventPayloadType === undefined ? 101 : options.telephoneEventPayloadType;
  const pts = [...codecs.map((c) => PT[c]), ...(te === null ? [] : [te])];
  const lines = [
    'v=0',
    `o=- ${options.sessionId} ${options.version} IN ${ipVer} ${options.address}`,
    `s=${options.sessionName ?? 'SIPREC'}`,
    `c=IN ${ipVer} ${options.address}`,
    't=0 0',
  ];
  for (const s of options.streams) {
    lines.push(`m=audio ${s.port} ${profile} ${pts.join(' ')}`);
    lines.push(`a=label:${s.label}`);
    for (const c of codecs) lines.push(`a=rtpmap:${PT[c]} ${c}/8000`);
    if (te !== null) lines.push(`a=rtpmap:${te} telephone-event/8000`, `a=fmtp:${te} 0-16`);
    lines.push(`a=ptime:${options.ptime ?? 20}`);
    lines.push(`a=${options.direction ?? 'sendonly'}`);
    if (s.crypto) lines.push(`a=crypto:${s.crypto.tag} ${s.crypto.suite} ${s.crypto.keyParams}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
