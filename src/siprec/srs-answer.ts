import { AppError } from '../common/errors.js';
import { parseRecordingSdp, type MediaDirection, type RecordingSdp, type RecordingSdpStream, type SdesCrypto } from './recording-sdp.js';

/**
 * Both halves of the SRS's SDP answer (RFC 7866 section 8.1.2, RFC 3264 section 6):
 * - parseSrsAnswer (SRC side): which offered streams the SRS accepted, and where to send them;
 * - buildSrsAnswer (SRS side): `a=recvonly` per accepted stream on our own ports, port 0 for a
 *   stream we refuse, `a=inactive` for a stream the SRC offered inactive (paused).
 * Answer m-lines match offer m-lines by position; `a=label` is echoed.
 */
export interface AnsweredStream {
  label: string;
  /** False when the SRS refused the stream (port 0) or answered sendonly (it cannot receive). */
  accepted: boolean;
  /** True when accepted and not inactive: media should flow now. */
  active: boolean;
  direction: MediaDirection;
  address: string;
  port: number;
  rtcpPort: number;
  /** First G.711 payload type of the answer (accepted streams only). */
  payloadType: number | undefined;
  telephoneEventPayloadType: number | undefined;
  crypto: SdesCrypto | undefined;
}

/**
 * Maps the answer onto the offered labels (in offer order). Throws SIPREC_SDP_INVALID when the
 * answer has fewer m-lines than the offer.
 */
export function parseSrsAnswer(answerSdp: string, offeredLabels: readonly string[]): AnsweredStream[] {
  const answer = parseRecordingSdp(answerSdp);
  if (answer.streams.length < offeredLabels.length) {
    throw new AppError('SIPREC_SDP_INVALID', `answer has ${answer.streams.length} m-lines for ${offeredLabels.length} offered`);
  }
  return offeredLabels.map((label, i) => {
    const m = answer.streams[i]!;
    const accepted = m.port !== 0 && m.direction !== 'sendonly';
    return {
      label,
      accepted,
      active: accepted && m.direction !== 'inactive',
      direction: m.direction,
      address: m.address,
      port: m.port,
      rtcpPort: m.rtcpPort,
      payloadType: accepted ? m.formats.find((f) => f.encoding === 'PCMU' || f.encoding === 'PCMA')?.payloadType : undefined,
      telephoneEventPayloadType: m.telephoneEventPayloadType,
      crypto: m.crypto[0],
    };
  });
}

export interface SrsAnswerOptions {
  /** o= session id and version of the SRS's own SDP session. */
  sessionId: string;
  version: number;
  /** SRS media address. */
  address: string;
  /** Our RTP port per offered m-line index; a stream without a port (or port 0) is refused. */
  ports: readonly number[];
  /** Default ['PCMU', 'PCMA']. */
  acceptCodecs?: readonly string[];
  /**
   * SDES for RTP/SAVP offers: returns our crypto line for an offered stream, or undefined to
   * refuse it. Default: RTP/SAVP streams are refused.
   */
  answerCrypto?: (stream: RecordingSdpStream) => SdesCrypto | undefined;
}

export interface SrsAnswerStream {
  index: number;
  label: string | undefined;
  accepted: boolean;
  /** Chosen G.711 payload type and encoding (accepted streams only). */
  payloadType: number | undefined;
  encoding: string | undefined;
  direction: MediaDirection;
  crypto: SdesCrypto | undefined;
}

export interface SrsAnswer {
  sdp: string;
  streams: SrsAnswerStream[];
}

/**
 * Builds the SRS answer to an SRC offer. Throws SIPREC_SDP_UNACCEPTABLE (488) when no audio stream
 * can be accepted (no common codec, unsupported profile, or no ports).
 */
export function buildSrsAnswer(offer: RecordingSdp, options: SrsAnswerOptions): SrsAnswer {
  const accept = (options.acceptCodecs ?? ['PCMU', 'PCMA']).map((c) => c.toUpperCase());
  const ipVer = options.address.includes(':') ? 'IP6' : 'IP4';
  const lines = ['v=0', `o=- ${options.sessionId} ${options.version} IN ${ipVer} ${options.address}`, 's=SIPREC SRS', `c=IN ${ipVer} ${options.address}`, 't=0 0'];
  const streams: SrsAnswerStream[] = [];
  for (const m of offer.streams) {
    const format = m.formats.find((f) => accept.includes(f.encoding.toUpperCase()) && f.clockRate === 8000);
    const port = options.ports[m.index] ?? 0;
    let crypto: SdesCrypto | undefined;
    let ok = m.media === 'audio' && format !== undefined && port > 0 && m.port !== 0;
    if (ok && m.profile === 'RTP/SAVP') {
      crypto = options.answerCrypto?.(m);
      ok = crypto !== undefined;
    } else if (ok && m.profile !== 'RTP/AVP') ok = false;
    const direction: MediaDirection = m.direction === 'inactive' || m.direction === 'recvonly' ? 'inactive' : 'recvonly';
    if (!ok) {
      lines.push(`m=${m.media} 0 ${m.profile} ${m.formats[0]?.payloadType ?? 0}`);
      if (m.label !== undefined) lines.push(`a=label:${m.label}`);
      streams.push({ index: m.index, label: m.label, accepted: false, payloadType: undefined, encoding: undefined, direction: 'inactive', crypto: undefined });
      continue;
    }
    const pts = [format!.payloadType, ...(m.telephoneEventPayloadType === undefined ? [] : [m.telephoneEventPayloadType])];
    lines.push(`m=audio ${port} ${m.profile} ${pts.join(' ')}`);
    if (m.label !== undefined) lines.push(`a=label:${m.label}`);
    lines.push(`a=rtpmap:${format!.payloadType} ${format!.encoding}/8000`);
    if (m.telephoneEventPayloadType !== undefined) {
      lines.push(`a=rtpmap:${m.telephoneEventPayloadType} telephone-event/8000`, `a=fmtp:${m.telephoneEventPayloadType} 0-16`);
    }
    lines.push('a=ptime:20', `a=${direction}`);
    if (crypto) lines.push(`a=crypto:${crypto.tag} ${crypto.suite} ${crypto.keyParams}`);
    streams.push({ index: m.index, label: m.label, accepted: true, payloadType: format!.payloadType, encoding: format!.encoding, direction, crypto });
  }
  if (!streams.some((s) => s.accepted)) throw new AppError('SIPREC_SDP_UNACCEPTABLE', 'no acceptable audio stream in the offer');
  return { sdp: `${lines.join('\r\n')}\r\n`, streams };
}
