import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { MediaPlane } from '../../../src/media/media-plane.js';
import type { MediaSession } from '../../../src/media/media-session.js';
import type { DtmfNotice } from '../../../src/media/media-session-types.js';
import { FakeSrsMedia } from '../../fakes/fake-srs-media.js';
import { MEDIA_CORE_PORTS } from '../../support/media-ports.js';
import { SOCKET_IO_PATHS, socketIoPortBlock } from '../../support/socket-io.js';
import { RtpPeer } from '../../support/rtp-peer.js';
import { sine } from '../../support/tone-source.js';
import { sleep, until } from '../../support/wait.js';
const LOCAL = '127.0.0.1';

describe.each(SOCKET_IO_PATHS)('media session controls over real UDP (%s socket I/O)', (io) => {
  const block = socketIoPortBlock(io, MEDIA_CORE_PORTS, 1, 200, 1);
  const [planeMin] = block.take(60);
  let plane: MediaPlane;
  const cleanup: Array<() => unknown> = [];

  beforeAll(async () => {
    plane = await MediaPlane.start({ portMin: planeMin!, portMax: planeMin! + 59, socketIo: io, workers: 0 });
    expect(plane.socketIo).toBe(io);
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });
  afterAll(async () => {
    await plane?.close();
  });

  async function call(opts: Parameters<MediaPlane['createSession']>[0] = {}): Promise<{ s: MediaSession; a: RtpPeer; b: RtpPeer }> {
    const a = await RtpPeer.open(block.take(2)[0]!);
    const b = await RtpPeer.open(block.take(2)[0]!);
    const s = await plane.createSession(opts);
    cleanup.push(() => s.close(), () => a.close(), () => b.close());
    return { s, a, b };
  }

  it('pause sends nothing to the recording server, resume continues seq by one and timestamps by elapsed time (R-18, R-30)', async () => {
    const { s, a, b } = await call();
    const srs = await FakeSrsMedia.open([block.take(2)[0]!, block.take(2)[0]!]);
    cleanup.push(() => srs.close());
    await s.setRemote('a', { address: LOCAL, port: a.port });
    await s.setRemote('b', { address: LOCAL, port: b.port });
    await s.startFork({ targets: srs.targets() });
    const playing = a.play(sine(700, 1200, -6), { address: LOCAL, port: s.local.a.rtpPort });
    await sleep(300);
    await s.pauseFork();
    await sleep(400);
    const duringPause = srs.packets(0).length;
    await sleep(100);
    expect(srs.packets(0).length).toBe(duringPause);
    await s.resumeFork();
    await playing;
    await sleep(100);
    const pk = srs.packets(0);
    const seqProblems = RtpPeer.continuityProblems(pk);
    expect(seqProblems).toEqual([]);
    const gaps = pk.slice(1).map((p, i) => (p.ts - pk[i]!.ts) | 0);
    const bigGap = Math.max(...gaps);
    // the pause lasted ~500 ms: the timestamp gap reflects it (4000 samples), the seq gap does not
    expect(bigGap).toBeGreaterThan(3000);
    expect(bigGap).toBeLessThan(6000);
    expect((await s.getStats()).fork.streams[0]!.pausedDropped).toBeGreaterThan(15);
    // B is silent: nothing on stream 2
    expect(srs.packets(1)).toHaveLength(0);
  });

  it('pause with silence sends 20 ms silence frames, continuous with the speech around them', async () => {
    const { s, a, b } = await call();
    const srs = await FakeSrsMedia.open([block.take(2)[0]!, block.take(2)[0]!]);
    cleanup.push(() => srs.close());
    await s.setRemote('a', { address: LOCAL, port: a.port });
    await s.setRemote('b', { address: LOCAL, port: b.port });
    await s.startFork({ targets: srs.targets(), silenceWhilePaused: true });
    const playing = a.play(sine(700, 800, -6), { address: LOCAL, port: s.local.a.rtpPort });
    await sleep(200);
    await s.pauseFork();
    await sleep(300);
    await s.resumeFork();
    await playing;
    await sleep(100);
    const pk = srs.packets(0);
    expect(RtpPeer.continuityProblems(pk)).toEqual([]);
    const silent = pk.filter((p) => p.payload.every((x) => x === 0xff));
    expect(silent.length).toBeGreaterThanOrEqual(12);
    // B was silent but paused with silence: stream 2 carries only silence frames
    expect(srs.packets(1).length).toBeGreaterThanOrEqual(12);
    expect(srs.packets(1).every((p) => p.payload.every((x) => x === 0xff))).toBe(true);
  });

  it('relays RFC 4733 telephone-events and reports each digit once at start and once at end (R-17)', async () => {
    const { s, a, b } = await call();
    const events: DtmfNotice[] = [];
    s.on('dtmf', (e) => events.push(e));
    await s.setRemote('a', { address: LOCAL, port: a.port });
    await s.setRemote('b', { address: LOCAL, port: b.port });
    await a.sendDtmf('5', 120, { address: LOCAL, port: s.local.a.rtpPort });
    await a.sendDtmf('#', 100, { address: LOCAL, port: s.local.a.rtpPort });
    await sleep(80);
    expect(events.map((e) => `${e.leg}${e.digit}${e.end ? 'E' : 'S'}`)).toEqual(['a5S', 'a5E', 'a#S', 'a#E']);
    expect(events[1]!.durationMs).toBe(120);
    const relayed = b.packets((p) => p.pt === 101);
    expect(relayed.length).toBe(5 + 3 + 4 + 3);
    expect(RtpPeer.continuityProblems(relayed, { allowEqualTimestamps: true })).toEqual([]);
  });

  it('relays a codec it cannot decode untouched and refuses to inject into that leg', async () => {
    const { s, a, b } = await call();
    await s.setRemote('a', { address: LOCAL, port: a.port, payloadTypes: [{ pt: 9, name: 'G722' }] });
    await s.setRemote('b', { address: LOCAL, port: b.port, payloadTypes: [{ pt: 9, name: 'G722' }] });
    expect(s.canInject('b')).toBe(false);
    const payload = Buffer.from(Array.from({ length: 160 }, (_, i) => i));
    for (let i = 0; i < 5; i++) a.sendPacket(payload, { address: LOCAL, port: s.local.a.rtpPort }, { pt: 9 });
    await sleep(80);
    expect(b.received).toHaveLength(5);
    for (const p of b.received) {
      expect(p.pt).toBe(9);
      expect(p.payload.equals(payload)).toBe(true);
    }
    const err = await s.playPrompt('b', { pcm: sine(500, 100) }).catch((e: unknown) => e);
    expect(isAppError(err, 'MEDIA_CODEC_NOT_INJECTABLE')).toBe(true);
  });

  it('first-source latching accepts media from a NAT-rewritten port and answers to it; others are dropped', async () => {
    const { s, a, b } = await call({ latching: { a: 'first-source' } });
    const natted = await RtpPeer.open(block.take(2)[0]!);
    const latecomer = await RtpPeer.open(block.take(2)[0]!);
    cleanup.push(() => natted.close(), () => latecomer.close());
    const latched: Array<[string, number, string]> = [];
    s.on('latched', (e) => {
      if (e.leg === 'a') latched.push([e.address, e.port, e.how]);
    });
    // SDP says peer a's port, but the media arrives from another port (NAT)
    await s.setRemote('a', { address: LOCAL, port: a.port });
    await s.setRemote('b', { address: LOCAL, port: b.port });
    const toA = { address: LOCAL, port: s.local.a.rtpPort };
    natted.sendPacket(Buffer.alloc(160, 0x11), toA);
    await sleep(30);
    latecomer.sendPacket(Buffer.alloc(160, 0x22), toA);
    b.sendPacket(Buffer.alloc(160, 0x33), { address: LOCAL, port: s.local.b.rtpPort });
    await sleep(60);
    expect(latched).toEqual([[LOCAL, natted.port, 'learned']]);
    expect(b.received.map((p) => p.payload[0])).toEqual([0x11]);
    expect(natted.received.map((p) => p.payload[0])).toEqual([0x33]);
    expect(a.received).toHaveLength(0);
    expect((await s.getStats()).a.hijackDropped).toBe(1);
  });

  it('sends RTCP sender reports to each leg and the close is idempotent and rejects later calls', async () => {
    const { s, a, b } = await call({ rtcpIntervalMs: 100 });
    await s.setRemote('a', { address: LOCAL, port: a.port });
    await s.setRemote('b', { address: LOCAL, port: b.port });
    const playing = a.play(sine(700, 300, -6), { address: LOCAL, port: s.local.a.rtpPort });
    await playing;
    await until(() => b.rtcpReceived.length >= 1, 'an RTCP report at B', 2000);
    expect(b.rtcpReceived.length).toBeGreaterThanOrEqual(1);
    expect(b.rtcpReceived[0]![1]).toBe(200); // SR: we sent media to B
    expect(a.rtcpReceived.length).toBeGreaterThanOrEqual(1);
    expect(a.rtcpReceived[0]![1]).toBe(201); // RR: nothing sent to A, but A's stream is reported
    await Promise.all([s.close(), s.close()]);
    expect(s.state).toBe('closed');
    await expect(s.getStats()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
