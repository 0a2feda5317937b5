import sdpTransform from 'sdp-transform';
import { AppError } from '../common/errors.js';

/**
 * Reading the SDP of a recording session (RFC 7866 section 8), either side: the SRC's offer (one
 * `m=audio` per recorded direction, `a=sendonly`, `a=label:N`) or the SRS's answer (`a=recvonly`,
 * `a=inactive` = not now, port 0 = refused). Pure: text in, plain objects out.
 */
export type MediaDirection = 'sendonly' | 'recvonly' | 'sendrecv' | 'inactive';
export type RtpProfile = 'RTP/AVP' | 'RTP/SAVP' | string;

export interface SdesCrypto {
  tag: number;
  suite: string;
  /** `inline:<base64 key||salt>[|lifetime][|MKI:len]` as written. */
  keyParams: string;
}

export interface RtpPayloadFormat {
  payloadType: number;
  /** Upper-case encoding name for static/rtpmap'd G.711 ('PCMU', 'PCMA'), as written otherwise. */
  encoding: string;
  clockRate: number;
}

export interface RecordingSdpStream {
  /** Position of the m-line (0-based); answers map to offers by position (RFC 3264 section 6). */
  index: number;
  media: string;
  /** `a=label` (RFC 4574) as a string; undefined when absent. */
  label: string | undefined;
  port: number;
  /** Media-level c= or else session-level c= address. */
  address: string;
  /** `a=rtcp` port or port + 1. */
  rtcpPort: number;
  profile: RtpProfile;
  /** Default 'sendrecv' (RFC 4566 section 6). */
  direction: MediaDirection;
  formats: RtpPayloadFormat[];
  telephoneEventPayloadType: number | undefined;
  ptime: number | undefined;
  crypto: SdesCrypto[];
}

export interface RecordingSdp {
  origin: { username: string; sessionId: string; version: string; address: string };
  streams: RecordingSdpStream[];
}

const STATIC: Record<number, [string, number]> = { 0: ['PCMU', 8000], 8: ['PCMA', 8000], 9: ['G722', 8000], 18: ['G729', 8000] };

function fail(detail: string): never {
  throw new AppError('SIPREC_SDP_INVALID', detail);
}

/** Parses an SDP body; throws SIPREC_SDP_INVALID when it has no origin or no media. */
export function parseRecordingSdp(sdp: string): RecordingSdp {
  const o = /^o=(\S+) (\S+) (\S+) IN IP[46] (\S+)\s*$/m.exec(sdp);
  if (!/^v=0\s*$/m.test(sdp) || !o) fail('no v=/o= line');
  let parsed: ReturnType<typeof sdpTransform.parse>;
  try {
    parsed = sdpTransform.parse(sdp);
  } catch (err) {
    fail(`unparsable SDP: ${(err as Error).message}`);
  }
  const media = parsed.media ?? [];
  if (media.length === 0) fail('no m= line');
  const sessionAddress = parsed.connection?.ip;
  const streams = media.map((m, index): RecordingSdpStream => {
    const address = m.connection?.ip ?? sessionAddress;
    if (!address) fail(`m-line ${index} has no c= address`);
    if (!Number.isInteger(m.port) || m.port < 0 || m.port > 65535) fail(`m-line ${index} has a bad port`);
    const pts = String(m.payloads ?? '')
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
    const formats: RtpPayloadFormat[] = [];
    let te: number | undefined;
    for (const pt of pts) {
      if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
      const map = m.rtp.find((r) => r.payload === pt);
      const enc = map ? map.codec : STATIC[pt]?.[0];
      const rate = map ? map.rate ?? 8000 : STATIC[pt]?.[1] ?? 8000;
      if (enc === undefined) continue;
      if (enc.toLowerCase() === 'telephone-event') {
        te ??= pt;
        continue;
      }
      formats.push({ payloadType: pt, encoding: /^pcm[ua]$/i.test(enc) ? enc.toUpperCase() : enc, clockRate: rate });
    }
    return {
      index,
      media: m.type,
      label: m.label === undefined ? undefined : String(m.label),
      port: m.port,
      address,
      rtcpPort: m.rtcp?.port ?? m.port + 1,
      profile: m.protocol,
      direction: (m.direction ?? 'sendrecv') as MediaDirection,
      formats,
      telephoneEventPayloadType: te,
      ptime: m.ptime,
      crypto: (m.crypto ?? []).map((c) => ({ tag: c.id, suite: c.suite, keyParams: c.config })),
    };
  });
  return { origin: { username: o[1]!, sessionId: o[2]!, version: o[3]!, address: o[4]! }, streams };
}
