/**
 * Several forks per media session (in-thread engine, fake endpoints, fake clock): a call with two
 * recorded users sends two independent recordings, each with its own ports, targets, SSRCs,
 * payload types and pause state. Commands that name no fork act on 'main'.
 */
import { describe, expect, it } from 'vitest';
import { MediaPlane } from '../../../../src/media/media-plane.js';
import { rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp } from '../../../../src/media/rtp/rtp-header.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { FakeRtpEndpointFactory } from '../../../fakes/fake-rtp-endpoints.js';
import { PTS, packet, rtpTo } from './engine-packets.js';

const PEER = '127.0.0.1';
const A_PORT = 5000;
const B_PORT = 6000;
const A_SSRC = 0x0a0a0a0a;
const B_SSRC = 0x0b0b0b0b;
/** Recording server of user 1 (fork 'main') and of user 2 (fork 'user2'). */
const SRS1 = [8000, 8002] as const;
const SRS2 = [9000, 9002] as const;
function continuous(pk: Buffer[]): boolean {
  for (let i = 1; i < pk.length; i++) {
    if (rtpSeq(pk[i]!) !== ((rtpSeq(pk[i - 1]!) + 1) & 0xffff)) return false;
    const dts = (rtpTimestamp(pk[i]!) - rtpTimestamp(pk[i - 1]!)) >>> 0;
    if (dts === 0 || dts >= 0x80000000) return false;
  }
  return true;
}

async function setUp() {
  const clock = new FakeClock();
  const endpoints = new FakeRtpEndpointFactory();
  const plane = await MediaPlane.start({ portMin: 43000, portMax: 43099, workers: 0, engine: { clock, timers: clock, endpoints } });
  const session = await plane.createSession({ rtcpIntervalMs: 0 });
  await session.setRemote('a', { address: PEER, port: A_PORT, payloadTypes: PTS });
  await session.setRemote('b', { address: PEER, port: B_PORT, payloadTypes: PTS });
  const main = await session.prepareFork();
  const user2 = await session.prepareFork('user2');
  await session.startFork({ targets: [{ address: PEER, port: SRS1[0], ssrc: 0x1111 }, { address: PEER, port: SRS1[1], ssrc: 0x2222 }] });
  await session.startFork({
    forkId: 'user2',
    // the second recording server numbers PCMU 96 (RFC 3264: its own numbering)
    targets: [
      { address: PEER, port: SRS2[0], ssrc: 0x3333, payloadTypes: [{ pt: 96, name: 'PCMU' }] },
      { address: PEER, port: SRS2[1], ssrc: 0x4444, payloadTypes: [{ pt: 96, name: 'PCMU' }] },
    ],
  });
  const legA = endpoints.get(session.local.a.rtpPort);
  const legB = endpoints.get(session.local.b.rtpPort);
  let seq = 1000;
  /** 20 ms: one packet from each party. */
  const talk = (n: number): void => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      legA.deliver(packet(seq, A_SSRC, 0x11), PEER, A_PORT);
      legB.deliver(packet(seq, B_SSRC, 0x22), PEER, B_PORT);
      seq++;
    }
  };
  const streams = {
    main: [() => rtpTo(endpoints.get(main[0].rtpPort), SRS1[0]), () => rtpTo(endpoints.get(main[1].rtpPort), SRS1[1])],
    user2: [() => rtpTo(endpoints.get(user2[0].rtpPort), SRS2[0]), () => rtpTo(endpoints.get(user2[1].rtpPort), SRS2[1])],
  } as const;
  return { clock, endpoints, plane, session, talk, streams, main, user2 };
}

describe('media session: several independent forks (one per recording, R-30)', () => {
  it('MUST send every packet of each party to both recordings, each stream with its own ports, SSRC and payload type', async () => {
    const { plane, session, talk, streams, main, user2 } = await setUp();
    try {
      expect(new Set([main[0].rtpPort, main[1].rtpPort, user2[0].rtpPort, user2[1].rtpPort]).size).toBe(4);
      talk(50);
      for (const fork of [streams.main, streams.user2]) {
        expect(fork[0]()).toHaveLength(50);
        expect(fork[1]()).toHaveLength(50);
        expect(fork[0]().every((p) => p[12] === 0x11) && fork[1]().every((p) => p[12] === 0x22)).toBe(true);
        expect(continuous(fork[0]()) && continuous(fork[1]())).toBe(true);
      }
      expect([streams.main[0]()[0]!, streams.main[1]()[0]!, streams.user2[0]()[0]!, streams.user2[1]()[0]!].map(rtpSsrc)).toEqual([0x1111, 0x2222, 0x3333, 0x4444]);
      expect(new Set(streams.main[0]().map(rtpPayloadType))).toEqual(new Set([0]));
      expect(new Set(streams.user2[0]().map(rtpPayloadType))).toEqual(new Set([96]));
      const stats = await session.getStats();
      expect(stats.forks.map((f) => [f.id, f.state, f.streams.map((s) => s.sent)])).toEqual([
        ['main', 'active', [50, 50]],
        ['user2', 'active', [50, 50]],
      ]);
      expect(stats.fork.id).toBe('main');
      expect((await plane.stats()).forksActive).toBe(2);
      expect((await plane.stats()).rtpForked).toBe(200);
    } finally {
      await plane.close();
    }
  });

  it('MUST relay each packet with its own header after the forks wrote theirs over it (the endpoints copy on send, so no fork copies the payload)', async () => {
    const { plane, session, talk, streams, endpoints } = await setUp();
    try {
      talk(30);
      const relayedToB = rtpTo(endpoints.get(session.local.b.rtpPort), B_PORT);
      const relayedToA = rtpTo(endpoints.get(session.local.a.rtpPort), A_PORT);
      expect(relayedToB).toHaveLength(30);
      expect(relayedToA).toHaveLength(30);
      const forkSsrcs = new Set([0x1111, 0x2222, 0x3333, 0x4444]);
      for (const [relayed, payload] of [[relayedToB, 0x11], [relayedToA, 0x22]] as const) {
        expect(relayed.every((p) => p[12] === payload && rtpPayloadType(p) === 0)).toBe(true);
        expect(new Set(relayed.map(rtpSsrc)).size).toBe(1);
        expect(forkSsrcs.has(rtpSsrc(relayed[0]!))).toBe(false);
        expect(continuous(relayed)).toBe(true);
      }
      // the second recording's PCMU 96 stays on its own streams
      expect(new Set(streams.user2[0]().map(rtpPayloadType))).toEqual(new Set([96]));
    } finally {
      await plane.close();
    }
  });

  it('MUST keep recording the other user while one fork is paused (R-18 applies per recording), and resume continuously', async () => {
    const { plane, session, talk, streams } = await setUp();
    try {
      talk(10);
      await session.pauseFork({ forkId: 'user2' });
      talk(20);
      expect(streams.main[0]()).toHaveLength(30);
      expect(streams.user2[0]()).toHaveLength(10);
      expect((await plane.stats()).forksPaused).toBe(1);
      await session.resumeFork('user2');
      talk(10);
      expect(streams.main[0]()).toHaveLength(40);
      expect(streams.user2[0]()).toHaveLength(20);
      expect(continuous(streams.user2[0]())).toBe(true);
      // the paused 400 ms are a timestamp gap of at least 400 ms on user2's stream only
      const u = streams.user2[0]();
      expect((rtpTimestamp(u[10]!) - rtpTimestamp(u[9]!)) >>> 0).toBeGreaterThanOrEqual(8 * 400);
      const stats = await session.getStats();
      expect(stats.forks.map((f) => f.streams[0]!.pausedDropped)).toEqual([0, 20]);
      // pausing 'main' (no fork id) leaves user2 going
      await session.pauseFork();
      talk(5);
      expect(streams.main[0]()).toHaveLength(40);
      expect(streams.user2[0]()).toHaveLength(25);
    } finally {
      await plane.close();
    }
  });

  it('MUST keep the other recording going when one fork stops, closing only the stopped fork\'s sockets', async () => {
    const { endpoints, plane, session, talk, streams, main, user2 } = await setUp();
    try {
      talk(10);
      await session.stopFork('user2');
      expect(endpoints.get(user2[0].rtpPort).closed && endpoints.get(user2[1].rtpPort).closed).toBe(true);
      expect(endpoints.get(main[0].rtpPort).closed || endpoints.get(main[1].rtpPort).closed).toBe(false);
      talk(10);
      expect(streams.main[1]()).toHaveLength(20);
      expect(streams.user2[1]()).toHaveLength(10);
      const stats = await session.getStats();
      expect(stats.forks.map((f) => [f.id, f.state])).toEqual([
        ['main', 'active'],
        ['user2', 'stopped'],
      ]);
      // counters of the stopped fork stay in the totals
      expect((await plane.stats()).rtpForked).toBe(40 + 20);
      // and 'main' stopped last: the session's `fork` is still 'main'
      await session.stopFork();
      expect((await session.getStats()).fork).toMatchObject({ id: 'main', state: 'stopped', streams: [] });
    } finally {
      await plane.close();
    }
  });

  it('prepareFork is idempotent per fork id; a fork never prepared cannot start; a bad fork id is refused', async () => {
    const { plane, session, main, user2 } = await setUp();
    try {
      expect(await session.prepareFork('main')).toEqual(main);
      expect(await session.prepareFork('user2')).toEqual(user2);
      await expect(session.startFork({ forkId: 'bad id', targets: [{ address: PEER, port: 1 }, { address: PEER, port: 2 }] })).rejects.toMatchObject({ code: 'MEDIA_INVALID_ARGUMENT' });
      await expect(session.pauseFork({ forkId: '' })).rejects.toMatchObject({ code: 'MEDIA_INVALID_ARGUMENT' });
      // unknown but valid ids: nothing to pause/resume/stop
      await session.pauseFork({ forkId: 'nobody' });
      await session.stopFork('nobody');
      expect((await session.getStats()).forks.map((f) => f.id)).toEqual(['main', 'user2']);
    } finally {
      await plane.close();
    }
  });
});
