/**
 * From the answer, nothing lost: a fork keeps what each party says from prepareFork (the call's
 * answer) until startFork (the recording server's 200 OK) and sends it first, as one continuous
 * stream with the live audio after it (in-thread engine, fake endpoints, fake clock).
 */
import { describe, expect, it } from 'vitest';
import { MediaPlane } from '../../../../src/media/media-plane.js';
import type { ForkBufferNotice } from '../../../../src/media/media-session-types.js';
import { rtpMarker, rtpSeq, rtpSsrc, rtpTimestamp } from '../../../../src/media/rtp/rtp-header.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { FakeRtpEndpointFactory } from '../../../fakes/fake-rtp-endpoints.js';
import { PTS, packet, rtpTo } from './engine-packets.js';

const PEER = '127.0.0.1';
const A_PORT = 5000;
const B_PORT = 6000;
const SRS = [8000, 8002] as const;
/** One SSRC, seq +1 and the timestamp +160 (20 ms) on every packet: the recorder places it without a gap. */
function seamless(pk: Buffer[]): boolean {
  for (let i = 1; i < pk.length; i++) {
    if (rtpSeq(pk[i]!) !== ((rtpSeq(pk[i - 1]!) + 1) & 0xffff)) return false;
    if (((rtpTimestamp(pk[i]!) - rtpTimestamp(pk[i - 1]!)) >>> 0) !== 160) return false;
    if (rtpSsrc(pk[i]!) !== rtpSsrc(pk[0]!)) return false;
  }
  return true;
}

async function setUp(o: { forkBufferMs?: number } = {}) {
  const clock = new FakeClock();
  const endpoints = new FakeRtpEndpointFactory();
  const plane = await MediaPlane.start({ portMin: 43100, portMax: 43199, workers: 0, engine: { clock, timers: clock, endpoints }, ...o });
  const session = await plane.createSession({ rtcpIntervalMs: 0 });
  await session.setRemote('a', { address: PEER, port: A_PORT, payloadTypes: PTS });
  await session.setRemote('b', { address: PEER, port: B_PORT, payloadTypes: PTS });
  const notices: ForkBufferNotice[] = [];
  session.on('forkBuffer', (n) => notices.push(n));
  const legA = endpoints.get(session.local.a.rtpPort);
  const legB = endpoints.get(session.local.b.rtpPort);
  let seq = 2000;
  /** `n` × 20 ms of both parties talking: A's payload bytes are `fillA`, B's 0x22. */
  const talk = (n: number, fillA = 0x11): void => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      legA.deliver(packet(seq, 0xa, fillA), PEER, A_PORT);
      legB.deliver(packet(seq, 0xb, 0x22), PEER, B_PORT);
      seq++;
    }
  };
  const [f0, f1] = await session.prepareFork(); // the answer
  const forked = (i: 0 | 1): Buffer[] => rtpTo(endpoints.get((i === 0 ? f0 : f1).rtpPort), SRS[i]);
  const start = (extra: { sendBuffered?: boolean } = {}) =>
    session.startFork({ targets: [{ address: PEER, port: SRS[0] }, { address: PEER, port: SRS[1] }], ...extra });
  return { clock, plane, session, talk, forked, start, notices, legA, legB, endpoints, f0 };
}

describe('fork start buffer: the audio between the answer and the recording server answer is recorded', () => {
  it('MUST send what was said since prepareFork at startFork, in order, then the live audio, as one seamless stream', async () => {
    const { plane, session, talk, forked, start, notices } = await setUp();
    try {
      talk(40); // 800 ms until the recording server answers
      expect(forked(0)).toHaveLength(0);
      await start();
      expect(forked(0)).toHaveLength(40); // in one burst, at once
      expect(forked(1)).toHaveLength(40);
      talk(10);
      for (const i of [0, 1] as const) {
        const s = forked(i);
        expect(s).toHaveLength(50);
        expect(seamless(s)).toBe(true);
        expect(rtpMarker(s[0]!)).toBe(true);
        expect(s.slice(1).some((p) => rtpMarker(p))).toBe(false);
        expect(s.every((p) => p[12] === (i === 0 ? 0x11 : 0x22))).toBe(true);
      }
      const streams = (await session.getStats()).fork.streams;
      expect(streams.map((s) => [s.bufferSent, s.bufferOverflowed, s.bufferDiscarded, s.buffered, s.sent])).toEqual([
        [40, 0, 0, 0, 50],
        [40, 0, 0, 0, 50],
      ]);
      expect(notices).toEqual([{ forkId: 'main', outcome: 'sent', waitedMs: 800, bufferMs: 3000, sent: 80, overflowed: 0, discarded: 0 }]);
      expect((await plane.stats()).forkBuffer).toEqual({ sent: 80, overflowed: 0, discarded: 0 });
    } finally {
      await plane.close();
    }
  });

  it('MUST keep the newest forkBufferMs when the recording server answers later, and count and report the overflow', async () => {
    const { plane, session, talk, forked, start, notices } = await setUp({ forkBufferMs: 1000 });
    try {
      talk(75); // 1.5 s: the first 0.5 s does not fit
      await start();
      talk(5);
      const s = forked(0);
      expect(s).toHaveLength(50 + 5);
      expect(seamless(s)).toBe(true);
      expect((await session.getStats()).fork.streams.map((x) => x.bufferOverflowed)).toEqual([25, 25]);
      expect(notices).toEqual([{ forkId: 'main', outcome: 'sent', waitedMs: 1500, bufferMs: 1000, sent: 100, overflowed: 50, discarded: 0 }]);
      expect((await plane.stats()).forkBuffer).toEqual({ sent: 100, overflowed: 50, discarded: 0 });
    } finally {
      await plane.close();
    }
  });

  it('MUST NOT record anything said after a pause that came before the recording server answered (R-18); the fork starts paused', async () => {
    const { plane, session, talk, forked, start } = await setUp();
    try {
      talk(10);
      await session.pauseFork();
      talk(20, 0x99); // private
      await start();
      expect(forked(0)).toHaveLength(10);
      talk(5, 0x99);
      expect(forked(0)).toHaveLength(10);
      expect((await session.getStats()).fork.state).toBe('paused');
      await session.resumeFork();
      talk(5);
      const s = forked(0);
      expect(s).toHaveLength(15);
      expect(s.every((p) => p[12] === 0x11)).toBe(true);
      expect(seamless(s.slice(0, 10))).toBe(true);
    } finally {
      await plane.close();
    }
  });

  it('a pause and resume before the answer of the recording server keeps both sides of the pause, with the gap', async () => {
    const { plane, session, talk, forked, start } = await setUp();
    try {
      talk(10);
      await session.pauseFork();
      talk(20, 0x99);
      await session.resumeFork();
      talk(10);
      await start();
      const s = forked(0);
      expect(s).toHaveLength(20);
      expect(s.every((p) => p[12] === 0x11)).toBe(true);
      expect(rtpSeq(s[10]!)).toBe((rtpSeq(s[9]!) + 1) & 0xffff);
      // the 400 ms paused are a timestamp gap: the recording stays on the call's timeline
      expect((rtpTimestamp(s[10]!) - rtpTimestamp(s[9]!)) >>> 0).toBeGreaterThanOrEqual(8 * 400);
    } finally {
      await plane.close();
    }
  });

  it('MUST never put prompts or tones into the buffer (R-15): only what the parties said is sent', async () => {
    const { plane, session, talk, forked, start } = await setUp();
    try {
      const pcm = new Int16Array(8000).fill(8000); // 1 s of a loud prompt
      const prompt = session.playPrompt('both', { pcm, name: 'announcement' });
      await session.beep({ frequencyHz: 1400, durationMs: 400, levelDbfs: -10 }, 'both');
      talk(50);
      await prompt;
      await start();
      expect(forked(0)).toHaveLength(50);
      expect(forked(0).every((p) => p.subarray(12).every((x) => x === 0x11))).toBe(true);
      expect(forked(1).every((p) => p.subarray(12).every((x) => x === 0x22))).toBe(true);
    } finally {
      await plane.close();
    }
  });

  it('a fork stopped before it started discards its buffer, counted as discarded, and sends nothing', async () => {
    const { plane, session, talk, forked, notices } = await setUp();
    try {
      talk(30);
      await session.stopFork();
      expect(forked(0)).toHaveLength(0);
      expect(notices).toEqual([{ forkId: 'main', outcome: 'discarded', waitedMs: 600, bufferMs: 3000, sent: 0, overflowed: 0, discarded: 60 }]);
      expect((await plane.stats()).forkBuffer).toEqual({ sent: 0, overflowed: 0, discarded: 60 });
    } finally {
      await plane.close();
    }
  });

  it('the session closing before the fork started counts its buffer as discarded', async () => {
    const { plane, session, talk } = await setUp();
    try {
      talk(5);
      await session.close();
      expect((await plane.stats()).forkBuffer).toEqual({ sent: 0, overflowed: 0, discarded: 10 });
    } finally {
      await plane.close();
    }
  });

  it('startFork with sendBuffered: false (a fork prepared before the answer) drops the buffer and forks live audio only', async () => {
    const { plane, talk, forked, start, notices } = await setUp();
    try {
      talk(20, 0x77); // early media, before the answer
      await start({ sendBuffered: false });
      talk(5);
      expect(forked(0)).toHaveLength(5);
      expect(forked(0).every((p) => p[12] === 0x11)).toBe(true);
      expect(notices.map((n) => [n.outcome, n.discarded])).toEqual([['discarded', 40]]);
    } finally {
      await plane.close();
    }
  });

  it('forkBufferMs 0 turns the buffer off: only what is said after startFork is recorded', async () => {
    const { plane, session, talk, forked, start, notices } = await setUp({ forkBufferMs: 0 });
    try {
      talk(20);
      await start();
      talk(5);
      expect(forked(0)).toHaveLength(5);
      expect(notices).toEqual([]);
      expect((await session.getStats()).fork.streams[0]!.bufferSent).toBe(0);
    } finally {
      await plane.close();
    }
  });

  it('each fork of the session has its own buffer (two recordings answering at different times)', async () => {
    const { plane, session, talk, forked, start, endpoints } = await setUp();
    try {
      const [u0] = await session.prepareFork('user2');
      talk(10);
      await start();
      talk(10);
      await session.startFork({ forkId: 'user2', targets: [{ address: PEER, port: 9000 }, { address: PEER, port: 9002 }] });
      talk(5);
      expect(forked(0)).toHaveLength(25);
      const user2 = rtpTo(endpoints.get(u0.rtpPort), 9000);
      expect(user2).toHaveLength(25);
      expect(seamless(user2)).toBe(true);
    } finally {
      await plane.close();
    }
  });
});
