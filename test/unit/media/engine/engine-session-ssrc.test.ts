/**
 * The per-packet path of a media session (in-thread engine, fake endpoints, fake clock): each leg is
 * locked to one SSRC (RFC 3550 A.1 probation, switch only after the current SSRC fell silent) and
 * accepts only the payload types it negotiated. Dropped packets are neither relayed nor forked
 * and are counted.
 */
import { describe, expect, it } from 'vitest';
import { MediaPlane } from '../../../../src/media/media-plane.js';
import type { MediaSession } from '../../../../src/media/media-session.js';
import { rtpMarker, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from '../../../../src/media/rtp/rtp-header.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { FakeRtpEndpointFactory, type FakeRtpEndpoint } from '../../../fakes/fake-rtp-endpoints.js';

const PEER = '127.0.0.1';
const A_PORT = 5000;
const B_PORT = 6000;
const SRS_PORTS = [8000, 8002] as const;
const A_SSRC = 0x0a0a0a0a;
const FOREIGN_SSRC = 0x0f0f0f0f;
const NEW_SSRC = 0x0e0e0e0e;
const PTS = [
  { pt: 0, name: 'PCMU' },
  { pt: 101, name: 'telephone-event' },
];

/** A 20 ms PCMU-sized packet whose payload is filled with `fill` (marks who said it). */
function packet(fields: { seq: number; ssrc: number; pt?: number; fill: number }): Buffer {
  const buf = Buffer.alloc(12 + 160, fields.fill);
  writeRtpHeader(buf, { payloadType: fields.pt ?? 0, seq: fields.seq & 0xffff, timestamp: (fields.seq * 160) >>> 0, ssrc: fields.ssrc });
  return buf;
}

function rtpTo(ep: FakeRtpEndpoint, port: number): Buffer[] {
  return ep.sent.filter((d) => d.kind === 'rtp' && d.port === port).map((d) => d.data);
}

/** Seq +1 and ts forward on every packet, one SSRC: what a receiver needs (RFC 3550 5.1). */
function continuous(pk: Buffer[]): boolean {
  for (let i = 1; i < pk.length; i++) {
    if (rtpSeq(pk[i]!) !== ((rtpSeq(pk[i - 1]!) + 1) & 0xffff)) return false;
    const dts = (rtpTimestamp(pk[i]!) - rtpTimestamp(pk[i - 1]!)) >>> 0;
    if (dts === 0 || dts >= 0x80000000) return false;
    if (rtpSsrc(pk[i]!) !== rtpSsrc(pk[0]!)) return false;
  }
  return true;
}

async function setUp(options: { ssrcLock?: { switchAfterSilenceMs?: number; probation?: number } } = {}) {
  const clock = new FakeClock();
  const endpoints = new FakeRtpEndpointFactory();
  const plane = await MediaPlane.start({ portMin: 40000, portMax: 40099, workers: 0, engine: { clock, timers: clock, endpoints } });
  const session: MediaSession = await plane.createSession({ rtcpIntervalMs: 0, ...options });
  await session.setRemote('a', { address: PEER, port: A_PORT, payloadTypes: PTS });
  await session.setRemote('b', { address: PEER, port: B_PORT, payloadTypes: PTS });
  const [f0, f1] = await session.prepareFork();
  await session.startFork({ targets: [{ address: PEER, port: SRS_PORTS[0] }, { address: PEER, port: SRS_PORTS[1] }] });
  const legA = endpoints.get(session.local.a.rtpPort);
  const legB = endpoints.get(session.local.b.rtpPort);
  const toB = (): Buffer[] => rtpTo(legB, B_PORT);
  const fork0 = (): Buffer[] => rtpTo(endpoints.get(f0.rtpPort), SRS_PORTS[0]);
  void f1;
  return { clock, plane, session, legA, toB, fork0 };
}

describe('engine session: SSRC lock and negotiated payload types', () => {
  it("MUST neither relay nor fork a foreign SSRC interleaved with A's stream from A's own address, and counts it (R-30, R-15)", async () => {
    const { clock, plane, session, legA, toB, fork0 } = await setUp();
    try {
      for (let i = 0; i < 60; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 1000 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT);
        legA.deliver(packet({ seq: 30_000 + i, ssrc: FOREIGN_SSRC, fill: 0x22 }), PEER, A_PORT);
      }
      const relayed = toB();
      const forked = fork0();
      expect(relayed).toHaveLength(60);
      expect(forked).toHaveLength(60);
      expect(relayed.every((p) => p[12] === 0x11) && forked.every((p) => p[12] === 0x11)).toBe(true);
      expect(continuous(relayed) && continuous(forked)).toBe(true);
      const a = (await session.getStats()).a;
      expect({ foreign: a.foreignSsrcDropped, received: a.received, ssrc: a.ssrc, switches: a.ssrcSwitches }).toEqual({ foreign: 60, received: 60, ssrc: A_SSRC, switches: 0 });
    } finally {
      await plane.close();
    }
  });

  it('MUST drop payload types the leg did not negotiate (static or dynamic), counted as unknownPayloadType', async () => {
    const { clock, plane, session, legA, toB, fork0 } = await setUp();
    try {
      for (let i = 0; i < 20; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 1000 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT);
        // PCMA, G.729 and a dynamic type: none in A's SDP; same SSRC and next seq, as a confused sender would
        for (const pt of [8, 18, 96]) legA.deliver(packet({ seq: 1000 + i, ssrc: A_SSRC, pt, fill: 0x33 }), PEER, A_PORT);
      }
      expect(new Set(toB().map((p) => rtpPayloadType(p)))).toEqual(new Set([0]));
      expect(toB()).toHaveLength(20);
      expect(fork0().every((p) => p[12] === 0x11)).toBe(true);
      const s = await session.getStats();
      expect([s.a.unknownPayloadTypeDropped, s.a.received, s.a.rewriteDropped + s.b.rewriteDropped]).toEqual([60, 20, 0]);
      const totals = await plane.stats();
      expect(totals.dropped).toMatchObject({ unknownPayloadType: 60, foreignSsrc: 0 });
    } finally {
      await plane.close();
    }
  });

  it('switches to a new SSRC from the same address after the old one was silent 300 ms (PBX restart): one new epoch, the timeline keeps real time', async () => {
    const { clock, plane, session, legA, toB } = await setUp();
    try {
      for (let i = 0; i < 20; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 1000 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT);
      }
      const oldStopped = clock.monotonic();
      for (let i = 0; i < 40; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 50_000 + i, ssrc: NEW_SSRC, fill: 0x44 }), PEER, A_PORT);
      }
      const relayed = toB();
      const firstNew = relayed.findIndex((p) => p[12] === 0x44);
      expect(firstNew).toBe(20);
      // held back while the old SSRC might still be alive: packets 1..14 of the new one (20..280 ms after A stopped)
      expect(relayed).toHaveLength(20 + 40 - 14);
      expect(continuous(relayed)).toBe(true);
      expect(rtpMarker(relayed[firstNew]!)).toBe(true);
      const gap = (rtpTimestamp(relayed[firstNew]!) - rtpTimestamp(relayed[firstNew - 1]!)) >>> 0;
      expect(gap).toBe(8 * 300); // 300 ms of silence in samples
      const a = (await session.getStats()).a;
      expect({ ssrc: a.ssrc, switches: a.ssrcSwitches, foreign: a.foreignSsrcDropped }).toEqual({ ssrc: NEW_SSRC, switches: 1, foreign: 14 });
      expect(clock.monotonic() - oldStopped).toBe(800);
    } finally {
      await plane.close();
    }
  });

  it('honours MediaSessionOptions.ssrcLock', async () => {
    const { clock, plane, session, legA, toB } = await setUp({ ssrcLock: { switchAfterSilenceMs: 100, probation: 3 } });
    try {
      for (let i = 0; i < 5; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 1 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT);
      }
      for (let i = 0; i < 10; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 900 + i, ssrc: NEW_SSRC, fill: 0x44 }), PEER, A_PORT);
      }
      // A silent 100 ms at the 5th new packet, which has also passed a probation of 3
      expect(toB()).toHaveLength(5 + 6);
      expect((await session.getStats()).a.foreignSsrcDropped).toBe(4);
    } finally {
      await plane.close();
    }
  });

  it('a re-INVITE to a new address (transfer) locks the new source at once, without waiting for the old SSRC to fall silent', async () => {
    const { clock, plane, session, legA, toB } = await setUp();
    try {
      for (let i = 0; i < 10; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 1 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT);
      }
      await session.setRemote('a', { address: PEER, port: A_PORT + 100, payloadTypes: PTS });
      for (let i = 0; i < 10; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 1 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT); // the old party: hijack now
        legA.deliver(packet({ seq: 700 + i, ssrc: NEW_SSRC, fill: 0x44 }), PEER, A_PORT + 100);
      }
      const relayed = toB();
      expect(relayed).toHaveLength(20);
      expect(relayed.slice(10).every((p) => p[12] === 0x44)).toBe(true);
      expect(continuous(relayed)).toBe(true);
      const a = (await session.getStats()).a;
      expect({ ssrc: a.ssrc, foreign: a.foreignSsrcDropped, hijack: a.hijackDropped }).toEqual({ ssrc: NEW_SSRC, foreign: 0, hijack: 10 });
    } finally {
      await plane.close();
    }
  });

  it('a re-INVITE to the same address keeps the lock (hold/resume): a foreign SSRC is still refused', async () => {
    const { clock, plane, session, legA, toB } = await setUp();
    try {
      for (let i = 0; i < 5; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 1 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT);
      }
      await session.setRemote('a', { address: PEER, port: A_PORT, payloadTypes: PTS });
      for (let i = 0; i < 5; i++) {
        clock.advance(20);
        legA.deliver(packet({ seq: 6 + i, ssrc: A_SSRC, fill: 0x11 }), PEER, A_PORT);
        legA.deliver(packet({ seq: 300 + i, ssrc: FOREIGN_SSRC, fill: 0x22 }), PEER, A_PORT);
      }
      expect(toB().every((p) => p[12] === 0x11)).toBe(true);
      expect(toB()).toHaveLength(10);
    } finally {
      await plane.close();
    }
  });
});
