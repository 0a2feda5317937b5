/**
 * RTCP of a media session's leg (engine-rtcp.ts, RFC 3550 section 6): what is accepted from where,
 * and where our reports go (latched RTCP source, rtcp-mux, a=rtcp, a source behind a NAT).
 */
import { describe, expect, it } from 'vitest';
import { Leg } from '../../../../src/media/engine/engine-leg.js';
import { receiveRtcp, rtcpTarget, sendLegReport } from '../../../../src/media/engine/engine-rtcp.js';
import { parseRtcp, RTCP_RR, RTCP_SDES, RTCP_SR, toNtp, writeReceiverReport, writeSenderReport } from '../../../../src/media/rtp/rtcp.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { FakeRtpEndpoint } from '../../../fakes/fake-rtp-endpoints.js';

const PHONE = '192.0.2.10';
const CNAME = 'recording-b2bua';

function setUp(remote: { port: number; rtcpPort?: number; rtcpMux?: boolean } = { port: 5000 }) {
  const clock = new FakeClock();
  const endpoint = new FakeRtpEndpoint('127.0.0.1', 40000);
  const leg = new Leg('a', endpoint, 'auto', undefined, undefined);
  leg.latch.setExpected(PHONE, remote.port);
  leg.rtcpMux = remote.rtcpMux ?? false;
  leg.rtcpPort = remote.rtcpPort ?? remote.port + 1;
  return { clock, endpoint, leg };
}

function senderReport(): Buffer {
  const out = Buffer.alloc(64);
  const n = writeSenderReport(out, 0, 0x1234, { ntpSec: 100, ntpFrac: 0, rtpTimestamp: 0, packetCount: 1, octetCount: 160 }, []);
  return out.subarray(0, n);
}

function receiverReport(): Buffer {
  const out = Buffer.alloc(64);
  return out.subarray(0, writeReceiverReport(out, 0, 0x1234, []));
}

describe('leg RTCP', () => {
  it('MUST accept RTCP from the leg address on any port and send our reports back to that port', () => {
    const { clock, leg } = setUp();
    receiveRtcp(leg, senderReport(), PHONE, 6123, clock);
    expect(leg.stats.rtcpReceived).toBe(1);
    expect(rtcpTarget(leg)).toEqual({ address: PHONE, port: 6123 });
  });

  it('MUST drop RTCP from another address: a hijack once RTP latched (source kept), unlatched before; malformed is counted', () => {
    const { clock, leg } = setUp();
    receiveRtcp(leg, receiverReport(), '198.51.100.9', 5001, clock);
    expect(leg.stats).toMatchObject({ unlatchedDropped: 1, hijackDropped: 0, rtcpReceived: 0 });
    leg.latch.check(PHONE, 5000, clock.monotonic());
    expect(leg.latch.latched).toBe(true);
    receiveRtcp(leg, receiverReport(), '198.51.100.9', 5001, clock);
    expect(leg.stats).toMatchObject({ unlatchedDropped: 1, hijackDropped: 1, rtcpReceived: 0 });
    expect([leg.refusedAddress, leg.refusedPort]).toEqual(['198.51.100.9', 5001]);
    receiveRtcp(leg, Buffer.from([0x80, 0xc9, 0x00, 0x09]), PHONE, 5001, clock);
    expect(leg.stats).toMatchObject({ malformed: 1, rtcpReceived: 0 });
    expect(leg.rtcpSourceAddress).toBeUndefined();
  });

  it('MUST send an RR + SDES CNAME before we sent RTP, to the SDP a=rtcp port', () => {
    const { clock, endpoint, leg } = setUp({ port: 5000, rtcpPort: 5555 });
    sendLegReport(leg, clock.monotonic(), toNtp(clock.now()), CNAME);
    expect(endpoint.sent).toHaveLength(1);
    const d = endpoint.sent[0]!;
    expect([d.kind, d.address, d.port]).toEqual(['rtcp', PHONE, 5555]);
    const parsed = parseRtcp(d.data)!;
    expect(parsed.types).toEqual([RTCP_RR, RTCP_SDES]);
    expect(parsed.senderSsrc).toBe(leg.out.ssrc);
    expect(leg.stats.rtcpSent).toBe(1);
  });

  it('MUST send an SR once we sent RTP, with rtcp-mux on the RTP port; nothing without a remote address', () => {
    const { clock, endpoint, leg } = setUp({ port: 5000, rtcpMux: true });
    const pkt = Buffer.alloc(12 + 160);
    leg.out.stampGenerated(pkt, 0, 160, clock.monotonic(), false, 160);
    sendLegReport(leg, clock.monotonic(), toNtp(clock.now()), CNAME);
    const d = endpoint.sent[0]!;
    expect([d.kind, d.address, d.port]).toEqual(['rtp', PHONE, 5000]);
    expect(parseRtcp(d.data)!.types).toEqual([RTCP_SR, RTCP_SDES]);

    const silent = new Leg('b', new FakeRtpEndpoint('127.0.0.1', 40002), 'auto', undefined, undefined);
    sendLegReport(silent, clock.monotonic(), toNtp(clock.now()), CNAME);
    expect(silent.stats.rtcpSent).toBe(0);
  });

  it('MUST send to RTP port + 1 of a source learnt away from the SDP address (a NAT maps the pair)', () => {
    const { clock, leg } = setUp({ port: 5000, rtcpPort: 5555 });
    leg.latch.check('198.51.100.30', 7078, clock.monotonic());
    expect(leg.latch.address).toBe('198.51.100.30');
    expect(rtcpTarget(leg)).toEqual({ address: '198.51.100.30', port: 7079 });
  });
});
