import { describe, expect, it } from 'vitest';
import { MediaPlane } from '../../../src/media/media-plane.js';
import { writeRtpHeader } from '../../../src/media/rtp/rtp-header.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakeRtpEndpointFactory } from '../../fakes/fake-rtp-endpoints.js';

const PEER = '127.0.0.1';
const A_PORT = 5000;
const B_PORT = 6000;

function pcmu(seq: number, ssrc = 0x1234, payloadType = 0): Buffer {
  const buf = Buffer.alloc(12 + 160, 0xff);
  writeRtpHeader(buf, { payloadType, seq, timestamp: seq * 160, ssrc });
  return buf;
}

async function startPlane() {
  const clock = new FakeClock();
  const endpoints = new FakeRtpEndpointFactory();
  const plane = await MediaPlane.start({ portMin: 40000, portMax: 40099, workers: 0, engine: { clock, timers: clock, endpoints } });
  return { clock, endpoints, plane };
}

describe('MediaPlane.stats() aggregate counters', () => {
  it('sums packets in/out/forked, drops by reason and withheld packets over sessions, keeping closed sessions and stopped forks', async () => {
    const { clock, endpoints, plane } = await startPlane();
    try {
      const session = await plane.createSession({ rtcpIntervalMs: 0 });
      const legA = endpoints.get(session.local.a.rtpPort);
      const legB = endpoints.get(session.local.b.rtpPort);
      let seq = 100;
      const fromA = (n: number): void => {
        for (let i = 0; i < n; i++) {
          clock.advance(20);
          legA.deliver(pcmu(seq++), PEER, A_PORT);
        }
      };

      legB.deliver(pcmu(1), PEER, B_PORT); // before B's SDP: unlatched
      legB.deliver(pcmu(2), PEER, B_PORT);
      await session.setRemote('a', { address: PEER, port: A_PORT });
      await session.setRemote('b', { address: PEER, port: B_PORT });
      fromA(10);
      for (let i = 0; i < 3; i++) legA.deliver(Buffer.from([0x80, 0x00, i]), PEER, A_PORT); // too short: malformed
      legA.deliver(pcmu(999), PEER, 7777); // another source: hijack
      legA.deliver(pcmu(998), '127.0.0.2', A_PORT);
      legA.deliver(pcmu(seq, 0x9999), PEER, A_PORT); // another SSRC from A's own address: foreignSsrc
      legA.deliver(pcmu(seq, 0x1234, 18), PEER, A_PORT); // G.729, never negotiated: unknownPayloadType

      const [f0, f1] = await session.prepareFork();
      await session.startFork({ targets: [{ address: PEER, port: 8000 }, { address: PEER, port: 8002 }] });
      fromA(5);
      let s = await plane.stats();
      expect(s.forksActive).toBe(1);
      // the engine runs on this thread: no worker heap to report (Node reports this thread's own)
      expect(s.workerHeapBytes).toBeUndefined();
      await session.pauseFork();
      fromA(4);
      s = await plane.stats();
      expect(s).toMatchObject({ forksActive: 0, forksPaused: 1 });
      await session.stopFork();
      expect(endpoints.get(f0.rtpPort).closed && endpoints.get(f1.rtpPort).closed).toBe(true);

      s = await plane.stats();
      expect(s).toMatchObject({
        sessions: 1,
        sessionsOpened: 1,
        forksActive: 0,
        forksPaused: 0,
        rtpIn: 19,
        rtpInBytes: 19 * 172,
        rtpOut: 19,
        rtpGenerated: 0,
        rtpForked: 5,
        rtpForkedBytes: 5 * 172,
        dropped: { malformed: 3, hijack: 2, unlatched: 2, foreignSsrc: 1, unknownPayloadType: 1, rewrite: 0, forkCodec: 0 },
        withheld: { prompt: 0, forkPaused: 4 },
        workers: 1,
        workersFailed: 0,
        portsInUse: 4,
      });
      expect(legB.sent.filter((d) => d.kind === 'rtp')).toHaveLength(s.rtpOut);

      await session.close();
      await plane.createSession();
      const after = await plane.stats();
      expect(after).toMatchObject({ sessions: 1, sessionsOpened: 2, rtpIn: 19, rtpForked: 5, withheld: { prompt: 0, forkPaused: 4 } });
      expect(after.dropped).toEqual(s.dropped);
    } finally {
      await plane.close();
    }
  });

  it('returns the last known counters after close, with no current sessions', async () => {
    const { clock, endpoints, plane } = await startPlane();
    const session = await plane.createSession({ rtcpIntervalMs: 0 });
    await session.setRemote('a', { address: PEER, port: A_PORT });
    clock.advance(20);
    endpoints.get(session.local.a.rtpPort).deliver(pcmu(1), PEER, A_PORT);
    expect((await plane.stats()).rtpIn).toBe(1);
    clock.advance(20);
    endpoints.get(session.local.a.rtpPort).deliver(pcmu(2), PEER, A_PORT);
    await plane.close();
    const closed = await plane.stats();
    expect(closed).toMatchObject({ sessions: 0, rtpIn: 2, sessionsOpened: 1 });
  });
});
