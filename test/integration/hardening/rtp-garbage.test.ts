/**
 * RTP garbage: a media session relays between two fake parties (A 700 Hz, B 1100 Hz) with the fork
 * to a fake recording server, while it is blasted with random bytes, truncated and inconsistent RTP
 * (< 12 bytes, bad version, CSRC count beyond the packet, extension length beyond the packet,
 * padding beyond the packet), RTP with a foreign SSRC from A's own address and port, valid RTP from a
 * hijacking port, and RTCP garbage on both RTCP ports. Garbage is counted and dropped; both parties
 * keep hearing each other, the recording keeps only the parties' own tones, every outgoing stream
 * stays continuous, and nothing throws.
 *
 * The session runs on the test's thread (workers: 0) so that an exception in the packet path would
 * surface here. Ports: 31500-31999 (hardening block 1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaPlane } from '../../../src/media/media-plane.js';
import type { MediaSession } from '../../../src/media/media-session.js';
import type { MediaSessionStats as SessionStats } from '../../../src/media/media-session-types.js';
import { encodeG711 } from '../../../src/media/audio/g711.js';
import { writeRtpHeader } from '../../../src/media/rtp/rtp-header.js';
import { FakeSrsMedia } from '../../fakes/fake-srs-media.js';
import { goertzelPower } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import { RtpPeer, type ReceivedPacket, type Target } from '../../support/rtp-peer.js';
import { Prng } from '../../support/sip-fuzzer.js';
import { sine } from '../../support/tone-source.js';
import { HARDENING_BLOCKS, HARDENING_BLOCK_SIZE, HARDENING_PORTS } from './hardening-ports.js';
import { sleep } from '../../support/wait.js';

const A_HZ = 700;
const B_HZ = 1100;
const INTRUDER_HZ = 3000; // what the foreign-SSRC stream and the hijacker say
const PRESENT = 1e-2; // a -20 dBFS component or louder
const ABSENT = 1e-4; // below -40 dBFS
const CALL_MS = 2400;
const BLAST_FROM_MS = 300;
const BLAST_MS = 1600;
const SEED = 0x0b1a57;

/** Power per 20 ms frame at one frequency. */
function framePowers(packets: ReceivedPacket[], hz: number): number[] {
  return packets.map((p) => goertzelPower(RtpPeer.decode([p]), hz));
}

/** One RTP packet (PCMU) with the given header fields. */
function rtp(payload: Uint8Array, fields: { seq: number; timestamp: number; ssrc: number; pt?: number }): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, { payloadType: fields.pt ?? 0, seq: fields.seq & 0xffff, timestamp: fields.timestamp >>> 0, ssrc: fields.ssrc >>> 0 });
  buf.set(payload, 12);
  return buf;
}

/** The five kinds of inconsistent RTP, each one a packet no RTP receiver may accept (RFC 3550 5.1, A.1). */
function brokenRtp(kind: number, rng: Prng, ssrc: number): Buffer {
  const valid = rtp(Buffer.alloc(160, 0xff), { seq: rng.int(65536), timestamp: rng.int(2 ** 32), ssrc });
  switch (kind) {
    case 0: // shorter than the fixed header
      return valid.subarray(0, rng.range(1, 11));
    case 1: // version 0, 1 or 3
      valid[0] = (rng.pick([0, 1, 3]) << 6) | (valid[0]! & 0x3f);
      return valid;
    case 2: {
      // CSRC count beyond the packet: 15 CSRCs (60 bytes) in a 40-byte packet
      const short = valid.subarray(0, 40);
      short[0] = 0x80 | 15;
      return short;
    }
    case 3: {
      // header extension whose length runs past the end
      valid[0] = 0x90;
      valid.writeUInt16BE(0xbede, 12);
      valid.writeUInt16BE(200, 14); // 800 bytes claimed, 156 left
      return valid;
    }
    default: {
      // padding count larger than the payload (or zero)
      valid[0] = 0xa0;
      valid[valid.length - 1] = rng.pick([0, 200, 255]);
      return valid;
    }
  }
}

/** RTCP no receiver may accept: truncated, bad version, length beyond the packet, report blocks beyond it. */
function brokenRtcp(kind: number, rng: Prng): Buffer {
  switch (kind) {
    case 0:
      return Buffer.from(rng.bytes(rng.range(1, 3)), 'latin1');
    case 1: {
      const b = Buffer.alloc(28);
      b[0] = 0x40; // version 1
      b[1] = 200;
      b.writeUInt16BE(6, 2);
      return b;
    }
    case 2: {
      const b = Buffer.alloc(28);
      b[0] = 0x80;
      b[1] = 201;
      b.writeUInt16BE(500, 2); // 2004 bytes claimed
      return b;
    }
    default: {
      const b = Buffer.alloc(28);
      b[0] = 0x80 | 31; // SR announcing 31 report blocks in a 28-byte packet
      b[1] = 200;
      b.writeUInt16BE(6, 2);
      return b;
    }
  }
}

describe('RTP garbage during a recorded call', () => {
  const block = portBlock(HARDENING_PORTS, HARDENING_BLOCKS.rtpGarbage, HARDENING_BLOCK_SIZE);
  const [planeMin] = block.take(40);
  let plane: MediaPlane;
  let session: MediaSession;
  let peerA: RtpPeer;
  let peerB: RtpPeer;
  let hijacker: RtpPeer;
  let srs: FakeSrsMedia;
  let before: SessionStats;
  let after: SessionStats;
  const uncaught: string[] = [];
  const sent = { brokenRtpToA: 0, brokenRtpToB: 0, randomToA: 0, randomToAInvalid: 0, foreignSsrcToA: 0, hijackToA: 0, hijackToB: 0, brokenRtcpA: 0, brokenRtcpB: 0 };
  const onUncaught = (err: unknown): void => {
    uncaught.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  };

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    plane = await MediaPlane.start({ portMin: planeMin!, portMax: planeMin! + 39, workers: 0 });
    peerA = await RtpPeer.open(block.take(2)[0]!);
    peerB = await RtpPeer.open(block.take(2)[0]!);
    hijacker = await RtpPeer.open(block.take(2)[0]!);
    srs = await FakeSrsMedia.open([block.take(2)[0]!, block.take(2)[0]!]);
    session = await plane.createSession({ label: 'rtp-garbage' });
    const pts = [
      { pt: 0, name: 'PCMU' },
      { pt: 101, name: 'telephone-event' },
    ];
    await session.setRemote('a', { address: '127.0.0.1', port: peerA.port, payloadTypes: pts });
    await session.setRemote('b', { address: '127.0.0.1', port: peerB.port, payloadTypes: pts });
    await session.startFork({ targets: srs.targets() });
    before = await session.getStats();

    const toA: Target = { address: '127.0.0.1', port: session.local.a.rtpPort };
    const toB: Target = { address: '127.0.0.1', port: session.local.b.rtpPort };
    const rtcpA: Target = { address: '127.0.0.1', port: session.local.a.rtcpPort };
    const rtcpB: Target = { address: '127.0.0.1', port: session.local.b.rtcpPort };
    const playA = peerA.play(sine(A_HZ, CALL_MS, -6), toA);
    const playB = peerB.play(sine(B_HZ, CALL_MS, -6), toB);
    await sleep(BLAST_FROM_MS);

    // every 20 ms: one of each broken-RTP kind from A's own socket (and to B from B's), two random
    // datagrams from A's socket, one foreign-SSRC packet from A's socket, one hijack packet each way,
    // and RTCP garbage on both RTCP ports
    const rng = new Prng(SEED);
    const intruder = encodeG711('PCMU', sine(INTRUDER_HZ, BLAST_MS + 40, -6));
    const foreignSsrc = (peerA.ssrc ^ 0x5a5a5a5a) >>> 0;
    let foreignSeq = rng.int(65536);
    let foreignTs = rng.int(2 ** 32);
    const hijackSsrc = rng.int(2 ** 32);
    const t0 = performance.now();
    for (let frame = 0; performance.now() - t0 < BLAST_MS; frame++) {
      const payload = intruder.subarray((frame * 160) % (intruder.length - 160), ((frame * 160) % (intruder.length - 160)) + 160);
      for (let kind = 0; kind < 5; kind++) {
        peerA.sendRaw(brokenRtp(kind, rng, peerA.ssrc), toA);
        peerB.sendRaw(brokenRtp(kind, rng, peerB.ssrc), toB);
        sent.brokenRtpToA++;
        sent.brokenRtpToB++;
      }
      for (let i = 0; i < 2; i++) {
        const junk = Buffer.from(rng.bytes(rng.range(1, 300)), 'latin1');
        peerA.sendRaw(junk, toA);
        sent.randomToA++;
        if (junk.length < 12 || junk[0]! >> 6 !== 2) sent.randomToAInvalid++;
      }
      peerA.sendRaw(rtp(payload, { seq: foreignSeq++, timestamp: (foreignTs += 160), ssrc: foreignSsrc }), toA);
      sent.foreignSsrcToA++;
      hijacker.sendRaw(rtp(payload, { seq: frame, timestamp: frame * 160, ssrc: hijackSsrc }), toA);
      hijacker.sendRaw(rtp(payload, { seq: frame, timestamp: frame * 160, ssrc: hijackSsrc }), toB);
      sent.hijackToA++;
      sent.hijackToB++;
      hijacker.sendRaw(brokenRtcp(frame % 4, rng), rtcpA);
      hijacker.sendRaw(brokenRtcp((frame + 1) % 4, rng), rtcpB);
      sent.brokenRtcpA++;
      sent.brokenRtcpB++;
      await sleep(20);
    }
    await Promise.all([playA, playB]);
    await sleep(150);
    after = await session.getStats();
  }, 20_000);

  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await session?.close();
    await plane?.close();
    for (const p of [peerA, peerB, hijacker]) p?.close();
    srs?.close();
  });

  it('MUST never throw in the packet path, and the session keeps answering', () => {
    expect(uncaught).toEqual([]);
    expect(after.a.received).toBeGreaterThan(before.a.received);
  });

  it('MUST count and drop every inconsistent RTP and RTCP packet (malformed)', () => {
    const malformedA = after.a.malformed - before.a.malformed;
    const malformedB = after.b.malformed - before.b.malformed;
    // at least the deterministic garbage; random datagrams that are not version-2 RTP/RTCP too
    expect(malformedA).toBeGreaterThanOrEqual(sent.brokenRtpToA + sent.brokenRtcpA + sent.randomToAInvalid);
    expect(malformedB).toBeGreaterThanOrEqual(sent.brokenRtpToB + sent.brokenRtcpB);
    // garbage never counts as received RTCP
    expect(after.a.rtcpReceived - before.a.rtcpReceived).toBe(0);
    expect(after.b.rtcpReceived - before.b.rtcpReceived).toBe(0);
  });

  it('MUST count and drop valid RTP from a hijacking source (hijack)', () => {
    expect(after.a.hijackDropped - before.a.hijackDropped).toBeGreaterThanOrEqual(sent.hijackToA * 0.95);
    expect(after.b.hijackDropped - before.b.hijackDropped).toBeGreaterThanOrEqual(sent.hijackToB * 0.95);
  });

  it("A keeps hearing B's tone in every frame, and nothing of the garbage sent towards B's port", () => {
    const heard = peerA.received;
    expect(heard.length).toBeGreaterThan((CALL_MS / 20) * 0.9);
    expect(new Set(heard.map((p) => p.pt))).toEqual(new Set([0]));
    expect(Math.min(...framePowers(heard.slice(2, -2), B_HZ))).toBeGreaterThan(PRESENT);
    expect(Math.max(...framePowers(heard, INTRUDER_HZ))).toBeLessThan(ABSENT);
  });

  it("B keeps hearing A's tone in every frame: a foreign SSRC and random datagrams from A's own address/port are counted and dropped, never relayed", () => {
    const heard = peerB.received;
    const intruderFrames = framePowers(heard.filter((p) => p.pt === 0), INTRUDER_HZ).filter((p) => p > ABSENT).length;
    const foreignPts = [...new Set(heard.map((p) => p.pt))].filter((pt) => pt !== 0);
    expect({ intruderFrames, foreignPts }, `B heard ${intruderFrames} intruder frames and payload types ${foreignPts.join(',')}`).toEqual({ intruderFrames: 0, foreignPts: [] });
    expect(Math.min(...framePowers(heard.slice(2, -2), A_HZ))).toBeGreaterThan(PRESENT);
    // every foreign-SSRC packet shows up in a drop counter: its own (foreignSsrcDropped), as random
    // datagrams with an unnegotiated payload type do in theirs (unknownPayloadTypeDropped)
    const foreignA = after.a.foreignSsrcDropped - before.a.foreignSsrcDropped;
    expect(foreignA).toBeGreaterThanOrEqual(sent.foreignSsrcToA * 0.95);
    const droppedA =
      after.a.malformed -
      before.a.malformed +
      (after.a.hijackDropped - before.a.hijackDropped) +
      foreignA +
      (after.a.unknownPayloadTypeDropped - before.a.unknownPayloadTypeDropped);
    expect(droppedA).toBeGreaterThanOrEqual(sent.brokenRtpToA + sent.brokenRtcpA + sent.randomToAInvalid + (sent.hijackToA + sent.foreignSsrcToA) * 0.95);
    // A's own stream kept its SSRC throughout
    expect(after.a.ssrc).toBe(peerA.ssrc);
    expect(after.a.ssrcSwitches - before.a.ssrcSwitches).toBe(0);
  });

  it('recording stream 2 keeps only what B said (R-30, R-15)', () => {
    const pk = srs.packets(1);
    expect(pk.length).toBeGreaterThan((CALL_MS / 20) * 0.9);
    expect(Math.min(...framePowers(pk.slice(2, -2), B_HZ))).toBeGreaterThan(PRESENT);
    for (const hz of [A_HZ, INTRUDER_HZ]) expect(Math.max(...framePowers(pk, hz))).toBeLessThan(ABSENT);
  });

  it("recording stream 1 keeps only what A said: nothing of a foreign SSRC sent from A's address/port (R-30, R-15)", () => {
    const pk = srs.packets(0);
    expect(pk.length).toBeGreaterThan((CALL_MS / 20) * 0.9);
    const intruderFrames = framePowers(pk, INTRUDER_HZ).filter((p) => p > ABSENT).length;
    const framesWithoutA = framePowers(pk.slice(2, -2), A_HZ).filter((p) => p < PRESENT).length;
    expect({ intruderFrames, framesWithoutA }, `stream 1 has ${intruderFrames} intruder frames, ${framesWithoutA} frames without A`).toEqual({ intruderFrames: 0, framesWithoutA: 0 });
    expect(Math.max(...framePowers(pk, B_HZ))).toBeLessThan(ABSENT);
  });

  it('every outgoing stream stays continuous: no seq gap or duplicate, no timestamp going back, one SSRC', () => {
    expect(RtpPeer.continuityProblems(peerA.received)).toEqual([]);
    expect(RtpPeer.continuityProblems(peerB.received)).toEqual([]);
    expect(RtpPeer.continuityProblems(srs.packets(0))).toEqual([]);
    expect(RtpPeer.continuityProblems(srs.packets(1))).toEqual([]);
  });

  it("the stream B hears keeps A's real-time timeline: as many frames and as much timestamp as A sent", () => {
    // A sent CALL_MS / 20 frames; every extra packet relayed (and every new rewriter epoch it opens)
    // stretches B's timeline beyond the wall clock
    const framesSent = CALL_MS / 20;
    const pk = peerB.received;
    const span = ((pk[pk.length - 1]!.ts - pk[0]!.ts) >>> 0) / 160;
    expect({ packets: pk.length <= framesSent + 2, span: span <= framesSent + 2 }, `B got ${pk.length} packets spanning ${span} frames for ${framesSent} sent`).toEqual({ packets: true, span: true });
  });
});

describe('RTP garbage through a media worker thread (the production set-up)', () => {
  const block = portBlock(HARDENING_PORTS, HARDENING_BLOCKS.rtpGarbage, HARDENING_BLOCK_SIZE);
  block.take(100); // the first describe's ports
  const [planeMin] = block.take(20);
  let plane: MediaPlane;
  let session: MediaSession;
  let peerA: RtpPeer;
  let peerB: RtpPeer;
  let srs: FakeSrsMedia;
  let before: SessionStats;
  let after: SessionStats;
  let garbage = 0;

  beforeAll(async () => {
    plane = await MediaPlane.start({ portMin: planeMin!, portMax: planeMin! + 19, workers: 1 });
    peerA = await RtpPeer.open(block.take(2)[0]!);
    peerB = await RtpPeer.open(block.take(2)[0]!);
    srs = await FakeSrsMedia.open([block.take(2)[0]!, block.take(2)[0]!]);
    session = await plane.createSession({ label: 'rtp-garbage-worker' });
    const pts = [{ pt: 0, name: 'PCMU' }];
    await session.setRemote('a', { address: '127.0.0.1', port: peerA.port, payloadTypes: pts });
    await session.setRemote('b', { address: '127.0.0.1', port: peerB.port, payloadTypes: pts });
    await session.startFork({ targets: srs.targets() });
    before = await session.getStats();
    const toA: Target = { address: '127.0.0.1', port: session.local.a.rtpPort };
    const toB: Target = { address: '127.0.0.1', port: session.local.b.rtpPort };
    const rtcpA: Target = { address: '127.0.0.1', port: session.local.a.rtcpPort };
    const plays = [peerA.play(sine(A_HZ, 1200, -6), toA), peerB.play(sine(B_HZ, 1200, -6), toB)];
    await sleep(200);
    const rng = new Prng(SEED + 1);
    for (let frame = 0; frame < 40; frame++) {
      for (let kind = 0; kind < 5; kind++) {
        peerA.sendRaw(brokenRtp(kind, rng, peerA.ssrc), toA);
        peerB.sendRaw(brokenRtp(kind, rng, peerB.ssrc), toB);
        garbage += 2;
      }
      peerB.sendRaw(brokenRtcp(frame % 4, rng), rtcpA);
      garbage++;
      await sleep(20);
    }
    await Promise.all(plays);
    await sleep(150);
    after = await session.getStats();
  }, 20_000);

  afterAll(async () => {
    await session?.close();
    await plane?.close();
    for (const p of [peerA, peerB]) p?.close();
    srs?.close();
  });

  it('MUST survive the garbage in the worker: counted as malformed, the call and the recording go on', () => {
    const malformed = after.a.malformed - before.a.malformed + (after.b.malformed - before.b.malformed);
    expect(malformed).toBe(garbage);
    expect(Math.min(...framePowers(peerB.received.slice(2, -2), A_HZ))).toBeGreaterThan(PRESENT);
    expect(Math.min(...framePowers(peerA.received.slice(2, -2), B_HZ))).toBeGreaterThan(PRESENT);
    expect(Math.min(...framePowers(srs.packets(0).slice(2, -2), A_HZ))).toBeGreaterThan(PRESENT);
    expect(Math.min(...framePowers(srs.packets(1).slice(2, -2), B_HZ))).toBeGreaterThan(PRESENT);
    for (const pk of [peerA.received, peerB.received, srs.packets(0), srs.packets(1)]) expect(RtpPeer.continuityProblems(pk)).toEqual([]);
  });
});
