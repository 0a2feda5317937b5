/**
 * Packet times and payload-type numbering through one media session over real UDP: legs send 10,
 * 20, 30 and 40 ms packets (sdp-media.ts PTIME_MS) and both the relay and the fork carry them as
 * they come; leg A numbers telephone-event 101, leg B 96, and DTMF reaches each side with its own
 * number (processors/payload-type-map.ts); a codec the receiving leg did not negotiate is dropped
 * and counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeG711 } from '../../../src/media/audio/g711.js';
import { MediaPlane } from '../../../src/media/media-plane.js';
import type { MediaSession } from '../../../src/media/media-session.js';
import { FakeSrsMedia } from '../../fakes/fake-srs-media.js';
import { goertzelPower } from '../../support/goertzel.js';
import { MEDIA_CORE_PORTS } from '../../support/media-ports.js';
import { SOCKET_IO_PATHS, socketIoPortBlock } from '../../support/socket-io.js';
import { RtpPeer, type ReceivedPacket, type Target } from '../../support/rtp-peer.js';
import { sine } from '../../support/tone-source.js';
import { sleep } from '../../support/wait.js';

const A_HZ = 700;
const B_HZ = 1100;
const PRESENT = 1e-2;
const ABSENT = 1e-4;

/** Stream `pcm` from `peer` as PCMU packets of `ptimeMs`, paced in real time (drift-free); resolves after the last. */
function playPtime(peer: RtpPeer, pcm: Int16Array, ptimeMs: number, to: Target): Promise<number> {
  const samples = ptimeMs * 8;
  const encoded = encodeG711('PCMU', pcm);
  const count = Math.floor(pcm.length / samples);
  return new Promise((resolve) => {
    const t0 = performance.now();
    let i = 0;
    const tick = (): void => {
      while (i < count && t0 + i * ptimeMs <= performance.now()) {
        peer.sendPacket(encoded.subarray(i * samples, (i + 1) * samples), to, { pt: 0 });
        i++;
      }
      if (i >= count) resolve(count);
      else setTimeout(tick, Math.max(0, t0 + i * ptimeMs - performance.now()));
    };
    tick();
  });
}

const pcmu = (p: ReceivedPacket): boolean => p.pt === 0;

describe.each(SOCKET_IO_PATHS)('media session: 10/20/30/40 ms packets and payload-type renumbering over real UDP (%s socket I/O)', (io) => {
  const block = socketIoPortBlock(io, MEDIA_CORE_PORTS, 20, 100, 5);
  const [planeMin] = block.take(20);
  let plane: MediaPlane;
  let session: MediaSession;
  let peerA: RtpPeer;
  let peerB: RtpPeer;
  let srs: FakeSrsMedia;
  let toA: Target;
  let toB: Target;

  beforeAll(async () => {
    plane = await MediaPlane.start({ portMin: planeMin!, portMax: planeMin! + 19, socketIo: io, workers: 0 });
    expect(plane.socketIo).toBe(io);
    peerA = await RtpPeer.open(block.take(2)[0]!);
    peerB = await RtpPeer.open(block.take(2)[0]!);
    srs = await FakeSrsMedia.open([block.take(2)[0]!, block.take(2)[0]!]);
    session = await plane.createSession({ label: 'ptime-numbering' });
    // A: PCMU, G.729, telephone-event 101. B: PCMU, telephone-event 96 (its answer), 101 (our offer's numbering)
    await session.setRemote('a', {
      address: '127.0.0.1',
      port: peerA.port,
      payloadTypes: [{ pt: 0, name: 'PCMU' }, { pt: 18, name: 'G729' }, { pt: 101, name: 'telephone-event' }],
    });
    await session.setRemote('b', {
      address: '127.0.0.1',
      port: peerB.port,
      payloadTypes: [{ pt: 0, name: 'PCMU' }, { pt: 96, name: 'telephone-event' }, { pt: 101, name: 'telephone-event' }],
    });
    await session.startFork({ targets: srs.targets(), forkTelephoneEvents: true });
    toA = { address: '127.0.0.1', port: session.local.a.rtpPort };
    toB = { address: '127.0.0.1', port: session.local.b.rtpPort };
  });

  afterAll(async () => {
    await session?.close();
    await plane?.close();
    for (const p of [peerA, peerB]) p?.close();
    srs?.close();
  });

  for (const ptime of [10, 20, 30, 40]) {
    it(`MUST relay and fork ${ptime} ms packets from both legs as they come (same sizes, all of them, continuous numbering)`, async () => {
      for (const p of [peerA, peerB, ...srs.streams]) p.clear();
      const [sentA, sentB] = await Promise.all([playPtime(peerA, sine(A_HZ, 600, -6), ptime, toA), playPtime(peerB, sine(B_HZ, 600, -6), ptime, toB)]);
      await sleep(100);
      const atB = peerB.packets(pcmu);
      const atA = peerA.packets(pcmu);
      const fork = [srs.streams[0].packets(pcmu), srs.streams[1].packets(pcmu)];
      for (const [got, sent] of [[atB, sentA], [atA, sentB], [fork[0]!, sentA], [fork[1]!, sentB]] as const) {
        expect(got.length).toBe(sent);
        expect(new Set(got.map((p) => p.payload.length))).toEqual(new Set([ptime * 8]));
        expect(RtpPeer.continuityProblems(got)).toEqual([]);
        // timestamps follow the packet time (ptime * 8 samples per packet)
        expect(got.slice(1).every((p, i) => ((p.ts - got[i]!.ts) | 0) === ptime * 8)).toBe(true);
      }
      expect(goertzelPower(RtpPeer.decode(atB), A_HZ)).toBeGreaterThan(PRESENT);
      expect(goertzelPower(RtpPeer.decode(atA), B_HZ)).toBeGreaterThan(PRESENT);
      expect(goertzelPower(RtpPeer.decode(fork[0]!), B_HZ)).toBeLessThan(ABSENT);
    });
  }

  it('MUST mix a tone into 40 ms relayed packets without slipping tone frames between them', async () => {
    peerB.clear();
    const playing = playPtime(peerA, sine(A_HZ, 1200, -6), 40, toA);
    await sleep(100);
    await session.beep({ frequencyHz: 1400, durationMs: 600, levelDbfs: -18 }, 'b', 'beep');
    const sent = await playing;
    await sleep(100);
    const atB = peerB.packets(pcmu);
    const relayed = atB.filter((p) => p.payload.length === 320);
    expect(relayed.length).toBe(sent);
    expect(RtpPeer.continuityProblems(atB)).toEqual([]);
    expect(goertzelPower(RtpPeer.decode(relayed), 1400)).toBeGreaterThan(1e-4);
    // a tone frame of our own (160 bytes) only fills a real gap in the relayed stream (> 60 ms, e.g.
    // a loaded machine stalling the sender), never the 40 ms between two regular packets
    for (const alone of atB.filter((p) => p.payload.length !== 320)) {
      const before = relayed.filter((p) => p.at <= alone.at).at(-1);
      const after = relayed.find((p) => p.at >= alone.at);
      if (before && after) expect(after.at - before.at).toBeGreaterThan(50);
    }
  });

  it('MUST send a tone on its own at the 20 ms pace when the other party sends nothing', async () => {
    peerB.clear();
    await sleep(150);
    await session.beep({ frequencyHz: 1400, durationMs: 400, levelDbfs: -18 }, 'b', 'beep');
    await sleep(600);
    const atB = peerB.packets(pcmu);
    // 400 ms of tone = 20 frames of 20 ms (the first may start an epoch after the idle wait)
    expect(atB.length).toBeGreaterThanOrEqual(18);
    expect(atB.length).toBeLessThanOrEqual(21);
    expect(RtpPeer.continuityProblems(atB.slice(1))).toEqual([]);
    expect(atB.slice(2).every((p, i) => ((p.ts - atB[i + 1]!.ts) | 0) === 160)).toBe(true);
  });

  it('MUST deliver DTMF from A (telephone-event 101) to B as 96, and from B (96, or 101 as our offer said) to A as 101', async () => {
    for (const p of [peerA, peerB]) p.clear();
    const te = (pt: number) => (p: ReceivedPacket): boolean => p.pt === pt;
    await peerA.sendDtmf('5', 100, toA, 101);
    await sleep(60);
    expect(peerB.packets(te(96)).length).toBeGreaterThanOrEqual(5);
    expect(peerB.packets(te(101))).toHaveLength(0);
    await peerB.sendDtmf('7', 100, toB, 96);
    await peerB.sendDtmf('8', 100, toB, 101);
    await sleep(60);
    expect(peerA.packets(te(101)).length).toBeGreaterThanOrEqual(10);
    expect(peerA.packets(te(96))).toHaveLength(0);
  });

  it('MUST drop and count a codec the receiving leg did not negotiate (G.729 from A, B has only PCMU)', async () => {
    peerB.clear();
    const before = (await session.getStats()).b.relayCodecDropped;
    for (let i = 0; i < 5; i++) peerA.sendPacket(Buffer.alloc(20, 0x55), toA, { pt: 18, tsStep: 160 });
    await sleep(100);
    const stats = await session.getStats();
    expect(stats.b.relayCodecDropped - before).toBe(5);
    expect(peerB.packets((p) => p.pt === 18)).toHaveLength(0);
    // the recording still gets what A said in it (the fork maps by the recording server's codecs)
    expect(stats.a.unknownPayloadTypeDropped).toBe(0);
    expect((await plane.stats()).dropped.relayCodec).toBeGreaterThanOrEqual(5);
  });
});
