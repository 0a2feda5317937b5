/**
 * Minimal RTP fixed-header reader for the recording server (RFC 3550 section 5.1). It never
 * throws: a packet that is too short, not version 2, or whose CSRC/extension/padding lengths do not
 * fit returns undefined and the caller counts and drops it.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |           synchronization source (SSRC) identifier            |
 *   |            contributing source (CSRC) identifiers (CC x 4)    |
 *   | [extension: profile(16) length(16, in 32-bit words) data]     |
 *   | payload ... [padding, last byte = padding count]              |
 */
export interface RtpHeaderView {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payloadOffset: number;
  payloadLength: number;
}

export function readRtpHeader(buf: Uint8Array): RtpHeaderView | undefined {
  if (buf.length < 12) return undefined;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return undefined;
  const cc = b0 & 0x0f;
  let offset = 12 + cc * 4;
  if (offset > buf.length) return undefined;
  if (b0 & 0x10) {
    if (offset + 4 > buf.length) return undefined;
    const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    offset += 4 + words * 4;
    if (offset > buf.length) return undefined;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[buf.length - 1]!;
    if (pad === 0 || end - pad < offset) return undefined;
    end -= pad;
  }
  const b1 = buf[1]!;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequence: (buf[2]! << 8) | buf[3]!,
    timestamp: ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0,
    ssrc: ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0,
    payloadOffset: offset,
    payloadLength: end - offset,
  };
}

/** True for RTCP packet types 200..207 (RFC 5761 section 4) when RTCP arrives on the RTP port. */
export function looksLikeRtcp(buf: Uint8Array): boolean {
  return buf.length >= 8 && buf[0]! >> 6 === 2 && buf[1]! >= 200 && buf[1]! <= 207;
}
