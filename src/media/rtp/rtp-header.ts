/**
 * RTP fixed header: read and rewrite in place (RFC 3550 section 5.1). Pure functions over a Buffer;
 * nothing allocates and nothing throws: `rtpPayloadOffset` validates a packet and returns -1 when it
 * is malformed, and the getters/setters assume a packet it accepted.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | header extension (X=1): profile(16) length(16) + length*4     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | payload ...                     | padding (P=1, last octet=n) |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */

export const RTP_HEADER_SIZE = 12;
export const RTP_VERSION = 2;

/**
 * Offset of the payload, or -1 when `buf[0..length)` is not a well-formed RTP packet (too short,
 * version not 2, CSRC list / extension / padding running past the end).
 */
export function rtpPayloadOffset(buf: Uint8Array, length: number = buf.length): number {
  if (length < RTP_HEADER_SIZE) return -1;
  const b0 = buf[0]!;
  if (b0 >> 6 !== RTP_VERSION) return -1;
  let off = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (length < off + 4) return -1;
    off += 4 + ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
  }
  if (off > length) return -1;
  if (b0 & 0x20 && off + rtpPaddingLength(buf, length) > length) return -1;
  return off;
}

/** Number of padding octets (0 when P is clear). RFC 3550 5.1: the last octet counts itself too. */
export function rtpPaddingLength(buf: Uint8Array, length: number = buf.length): number {
  if (!(buf[0]! & 0x20) || length === 0) return 0;
  const n = buf[length - 1]!;
  return n === 0 ? length + 1 /* invalid: forces rejection */ : n;
}

/** End of the payload (exclusive) for a packet `rtpPayloadOffset` accepted. */
export function rtpPayloadEnd(buf: Uint8Array, length: number = buf.length): number {
  return buf[0]! & 0x20 ? length - buf[length - 1]! : length;
}

export function rtpMarker(buf: Uint8Array): boolean {
  return (buf[1]! & 0x80) !== 0;
}
export function rtpPayloadType(buf: Uint8Array): number {
  return buf[1]! & 0x7f;
}
export function rtpSeq(buf: Uint8Array): number {
  return (buf[2]! << 8) | buf[3]!;
}
export function rtpTimestamp(buf: Uint8Array): number {
  return ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
}
export function rtpSsrc(buf: Uint8Array): number {
  return ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
}

export function setRtpMarker(buf: Uint8Array, marker: boolean): void {
  buf[1] = marker ? buf[1]! | 0x80 : buf[1]! & 0x7f;
}
export function setRtpPayloadType(buf: Uint8Array, pt: number): void {
  buf[1] = (buf[1]! & 0x80) | (pt & 0x7f);
}
export function setRtpSeq(buf: Uint8Array, seq: number): void {
  buf[2] = (seq >>> 8) & 0xff;
  buf[3] = seq & 0xff;
}
export function setRtpTimestamp(buf: Uint8Array, ts: number): void {
  buf[4] = (ts >>> 24) & 0xff;
  buf[5] = (ts >>> 16) & 0xff;
  buf[6] = (ts >>> 8) & 0xff;
  buf[7] = ts & 0xff;
}
export function setRtpSsrc(buf: Uint8Array, ssrc: number): void {
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

/**
 * Write a 12-byte header (V=2, no padding, no extension, no CSRC) at the start of `out`.
 * Used for generated frames (prompts, silence) and by test peers.
 */
export function writeRtpHeader(
  out: Uint8Array,
  fields: { payloadType: number; seq: number; timestamp: number; ssrc: number; marker?: boolean },
): void {
  out[0] = 0x80;
  out[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  setRtpSeq(out, fields.seq);
  setRtpTimestamp(out, fields.timestamp);
  setRtpSsrc(out, fields.ssrc);
}

/**
 * RFC 5761 section 4: on a muxed port, a packet whose second octet is 192..223 (RTCP packet types
 * SR..) is RTCP; RTP payload types 64..95 are never used for that reason.
 */
export function looksLikeRtcp(buf: Uint8Array, length: number = buf.length): boolean {
  if (length < 4) return false;
  const pt = buf[1]!;
  return buf[0]! >> 6 === RTP_VERSION && pt >= 192 && pt <= 223;
}
