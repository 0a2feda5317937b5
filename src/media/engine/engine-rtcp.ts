/**
 * RTCP of an engine session's legs (RFC 3550 section 6): what a leg's RTCP tells us, and the report
 * we send it. The session's timer (MediaSessionOptions.rtcpIntervalMs, default 5000 ms; 0 sends
 * none) calls `sendLegReport` for each leg, then the forks' reports (fork-set.ts).
 *
 * RTCP is only read, never forwarded. It is accepted from the address RTP is latched to (or the SDP
 * address before that) on any port, and latched on its own: a NAT maps the RTCP port separately,
 * and our reports go back to where the leg's RTCP comes from (`rtcpTarget`).
 */
import type { Clock } from '../../common/clock.js';
import { ntpMiddle, parseRtcp, writeReceiverReport, writeSdesCname, writeSenderReport, type ReportBlock } from '../rtp/rtcp.js';
import { addTs } from '../rtp/wrap-math.js';
import { refuseSource, type Leg } from './engine-leg.js';

/** What RTCP reads and writes of a leg. */
export type RtcpLeg = Pick<
  Leg,
  'latch' | 'recv' | 'out' | 'stats' | 'endpoint' | 'rtcpMux' | 'rtcpPort' | 'rtcpSourceAddress' | 'rtcpSourcePort' | 'refusedAddress' | 'refusedPort'
>;

/**
 * An RTCP datagram from `address:port` to the leg (its RTCP port, or its RTP port with rtcp-mux):
 * counted and latched, a sender report feeds the leg's receive statistics (the LSR/DLSR of our
 * next report). From another address it is a hijack (after RTP latched) or unlatched; malformed is
 * counted and dropped.
 */
export function receiveRtcp(leg: RtcpLeg, buf: Buffer, address: string, port: number, clock: Clock): void {
  if (address !== leg.latch.address) {
    // before RTP latched (auto: RTCP or a NAT probe from the real source may come first) it is not an attack
    if (leg.latch.latched) refuseSource(leg, address, port);
    else leg.stats.unlatchedDropped++;
    return;
  }
  const parsed = parseRtcp(buf, buf.length);
  if (parsed === undefined) {
    leg.stats.malformed++;
    return;
  }
  leg.rtcpSourceAddress = address;
  leg.rtcpSourcePort = port;
  leg.stats.rtcpReceived++;
  if (parsed.sender !== undefined) leg.recv.onSenderReport(ntpMiddle(parsed.sender.ntpSec, parsed.sender.ntpFrac), clock.monotonic());
}

/**
 * Our report to a leg that has a remote address (RFC 3550 6.4): an SR once we sent it RTP (else an
 * RR), with a report block once it sent us RTP, and an SDES CNAME; to `rtcpTarget(leg)`.
 */
export function sendLegReport(leg: RtcpLeg, nowMono: number, ntp: { sec: number; frac: number }, cname: string): void {
  if (leg.latch.address === undefined) return;
  const blocks: ReportBlock[] = leg.recv.started ? [leg.recv.reportBlock(nowMono)] : [];
  const out = Buffer.alloc(28 + 24 * blocks.length + 8 + 260);
  let n: number;
  if (leg.out.hasSent) {
    const rtpTs = addTs(leg.out.lastTimestamp, Math.round((nowMono - leg.out.lastSentAtMs) * 8));
    n = writeSenderReport(out, 0, leg.out.ssrc, { ntpSec: ntp.sec, ntpFrac: ntp.frac, rtpTimestamp: rtpTs, packetCount: leg.out.packetsSent, octetCount: leg.out.octetsSent }, blocks);
  } else {
    n = writeReceiverReport(out, 0, leg.out.ssrc, blocks);
  }
  n = writeSdesCname(out, n, leg.out.ssrc, cname);
  const to = rtcpTarget(leg);
  if (leg.rtcpMux) leg.endpoint.sendRtp(out, n, to.port, to.address);
  else leg.endpoint.sendRtcp(out, n, to.port, to.address);
  leg.stats.rtcpSent++;
}

/**
 * Where our RTCP reports to a leg go: its latched RTCP source; else, with rtcp-mux, the RTP target;
 * else the SDP's RTCP port (a=rtcp or port + 1) at the SDP address, or RTP port + 1 of a source
 * learnt behind a NAT (the usual mapping of a port pair).
 */
export function rtcpTarget(leg: Pick<Leg, 'latch' | 'rtcpMux' | 'rtcpPort' | 'rtcpSourceAddress' | 'rtcpSourcePort'>): { address: string; port: number } {
  const latch = leg.latch;
  if (leg.rtcpSourceAddress !== undefined && leg.rtcpSourceAddress === latch.address) return { address: leg.rtcpSourceAddress, port: leg.rtcpSourcePort };
  if (leg.rtcpMux) return { address: latch.address!, port: latch.port };
  const atSdp = latch.address === latch.sdpAddress && latch.port === latch.sdpPort;
  return { address: latch.address!, port: atSdp ? leg.rtcpPort || latch.port + 1 : latch.port + 1 };
}
