/**
 * RTCP sender and receiver reports (RFC 3550 section 6.4) and SDES CNAME (6.5): build into a
 * caller's buffer, parse a compound packet. Pure; parse returns undefined on malformed input.
 *
 * ```
 * SR:  |V=2|P|  RC  |  PT=200  |        length         |
 *      |                 SSRC of sender                |
 *      |  NTP timestamp, most significant word         |
 *      |  NTP timestamp, least significant word        |
 *      |                 RTP timestamp                 |
 *      |             sender's packet count             |
 *      |             sender's octet count              |
 *      | report blocks (RC x 24 octets) ...            |
 * RR:  |V=2|P|  RC  |  PT=201  |        length         |
 *      |                 SSRC of sender                |
 *      | report blocks ...                             |
 * report block:
 *      |                 SSRC_n (source)               |
 *      | fraction lost |  cumulative packets lost (24) |
 *      |   extended highest sequence number received   |
 *      |               interarrival jitter             |
 *      |               last SR (LSR)                   |
 *      |        delay since last SR (DLSR, 1/65536 s)  |
 * ```
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 0..255 (8-bit fixed point). */
  fractionLost: number;
  /** Cumulative packets lost (signed 24 bit). */
  cumulativeLost: number;
  extendedHighestSeq: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface SenderInfo {
  ntpSec: number;
  ntpFrac: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export interface ParsedRtcp {
  /** SSRC of the first SR/RR's sender, if any. */
  senderSsrc: number | undefined;
  sender: SenderInfo | undefined;
  reports: ReportBlock[];
  /** Packet types seen in the compound, in order. */
  types: number[];
}

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** Convert wall-clock ms since the Unix epoch to a 64-bit NTP timestamp (seconds, fraction). */
export function toNtp(unixMs: number): { sec: number; frac: number } {
  const secs = Math.floor(unixMs / 1000);
  const frac = Math.floor(((unixMs - secs * 1000) / 1000) * 0x1_0000_0000);
  return { sec: (secs + NTP_UNIX_OFFSET) >>> 0, frac: frac >>> 0 };
}

/** The middle 32 bits of an NTP timestamp: the LSR value a receiver echoes (RFC 3550 6.4.1). */
export function ntpMiddle(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

function writeReportBlock(out: Buffer, off: number, rb: ReportBlock): number {
  out.writeUInt32BE(rb.ssrc >>> 0, off);
  const lost = Math.max(-0x800000, Math.min(0x7fffff, rb.cumulativeLost)) & 0xffffff;
  out.writeUInt32BE((((rb.fractionLost & 0xff) << 24) | lost) >>> 0, off + 4);
  out.writeUInt32BE(rb.extendedHighestSeq >>> 0, off + 8);
  out.writeUInt32BE(rb.jitter >>> 0, off + 12);
  out.writeUInt32BE(rb.lastSr >>> 0, off + 16);
  out.writeUInt32BE(rb.delaySinceLastSr >>> 0, off + 20);
  return off + 24;
}

function writeHeader(out: Buffer, off: number, count: number, pt: number, lengthWords: number): void {
  out[off] = 0x80 | (count & 0x1f);
  out[off + 1] = pt;
  out.writeUInt16BE(lengthWords, off + 2);
}

/** Write an SR at `off`; returns the offset after it. `out` needs 28 + 24*blocks octets. */
export function writeSenderReport(out: Buffer, off: number, ssrc: number, info: SenderInfo, blocks: readonly ReportBlock[]): number {
  const n = Math.min(blocks.length, 31);
  writeHeader(out, off, n, RTCP_SR, 6 + n * 6);
  out.writeUInt32BE(ssrc >>> 0, off + 4);
  out.writeUInt32BE(info.ntpSec >>> 0, off + 8);
  out.writeUInt32BE(info.ntpFrac >>> 0, off + 12);
  out.writeUInt32BE(info.rtpTimestamp >>> 0, off + 16);
  out.writeUInt32BE(info.packetCount >>> 0, off + 20);
  out.writeUInt32BE(info.octetCount >>> 0, off + 24);
  let p = off + 28;
  for (let i = 0; i < n; i++) p = writeReportBlock(out, p, blocks[i]!);
  return p;
}

/** Write an RR at `off`; returns the offset after it. */
export function writeReceiverReport(out: Buffer, off: number, ssrc: number, blocks: readonly ReportBlock[]): number {
  const n = Math.min(blocks.length, 31);
  writeHeader(out, off, n, RTCP_RR, 1 + n * 6);
  out.writeUInt32BE(ssrc >>> 0, off + 4);
  let p = off + 8;
  for (let i = 0; i < n; i++) p = writeReportBlock(out, p, blocks[i]!);
  return p;
}

/** Write an SDES packet with one chunk carrying CNAME (RFC 3550 6.5.1); padded to 32 bits. */
export function writeSdesCname(out: Buffer, off: number, ssrc: number, cname: string): number {
  const name = Buffer.from(cname, 'utf8').subarray(0, 255);
  // chunk: ssrc(4) + type(1) + len(1) + name + end(1 zero), padded to a multiple of 4
  const chunkLen = (4 + 2 + name.length + 1 + 3) & ~3;
  writeHeader(out, off, 1, RTCP_SDES, chunkLen / 4);
  out.writeUInt32BE(ssrc >>> 0, off + 4);
  out[off + 8] = 1; // CNAME
  out[off + 9] = name.length;
  name.copy(out, off + 10);
  out.fill(0, off + 10 + name.length, off + 4 + chunkLen);
  return off + 4 + chunkLen;
}

function readReportBlock(buf: Uint8Array, off: number): ReportBlock {
  const v = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const lostWord = v.readUInt32BE(off + 4);
  let cum = lostWord & 0xffffff;
  if (cum & 0x800000) cum -= 0x1000000;
  return {
    ssrc: v.readUInt32BE(off),
    fractionLost: lostWord >>> 24,
    cumulativeLost: cum,
    extendedHighestSeq: v.readUInt32BE(off + 8),
    jitter: v.readUInt32BE(off + 12),
    lastSr: v.readUInt32BE(off + 16),
    delaySinceLastSr: v.readUInt32BE(off + 20),
  };
}

/**
 * Parse a compound RTCP packet (RFC 3550 6.1): every sub-packet must have V=2 and a length that
 * fits; SR/RR report counts must fit their length. Unknown types are skipped. Returns undefined on
 * any inconsistency (the caller counts and drops).
 */
export function parseRtcp(buf: Uint8Array, length: number = buf.length): ParsedRtcp | undefined {
  if (length < 4) return undefined;
  const v = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: ParsedRtcp = { senderSsrc: undefined, sender: undefined, reports: [], types: [] };
  let off = 0;
  while (off < length) {
    if (off + 4 > length) return undefined;
    const b0 = buf[off]!;
    if (b0 >> 6 !== 2) return undefined;
    const count = b0 & 0x1f;
    const pt = buf[off + 1]!;
    const size = (v.readUInt16BE(off + 2) + 1) * 4;
    if (off + size > length) return undefined;
    out.types.push(pt);
    if (pt === RTCP_SR || pt === RTCP_RR) {
      const fixed = pt === RTCP_SR ? 28 : 8;
      if (size < fixed + count * 24) return undefined;
      const ssrc = v.readUInt32BE(off + 4);
      if (out.senderSsrc === undefined) out.senderSsrc = ssrc;
      if (pt === RTCP_SR && out.sender === undefined) {
        out.sender = {
          ntpSec: v.readUInt32BE(off + 8),
          ntpFrac: v.readUInt32BE(off + 12),
          rtpTimestamp: v.readUInt32BE(off + 16),
          packetCount: v.readUInt32BE(off + 20),
          octetCount: v.readUInt32BE(off + 24),
        };
      }
      for (let i = 0; i < count; i++) out.reports.push(readReportBlock(buf, off + fixed + i * 24));
    }
    off += size;
  }
  return out;
}
