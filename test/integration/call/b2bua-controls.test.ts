/**
 * end to end: a recorded inbound call through the real engine and media plane;
 * the user presses *3 / *4 as RFC 4733 telephone-events; two RTP peers stand in for the recording
 * server's two streams (the fake recording port points the fork at them).
 */
import { describe, expect, it } from 'vitest';
import { PAUSE_BEEP, RESUME_BEEP } from '../../../src/media/audio/tones.js';
import { useCallTestbed } from '../../support/call-testbed.js';
import { goertzelPower, meanSquare } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import { RtpPeer } from '../../support/rtp-peer.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 25000, to: 29999 }, 1, 1000);
const tb = useCallTestbed(block, {
  trusted: ['pbx'],
  snapshot: makeSnapshot({
    alice: { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'beep', startStopAnnouncement: { pstn: true, internal: false } },
  }),
});
const CALLER_HZ = 1000;
const USER_HZ = 1500;

function share(pcm: Int16Array, hz: number): number {
  const ms = meanSquare(pcm);
  return ms === 0 ? 0 : goertzelPower(pcm, hz) / (2 * ms);
}

describe('recording controls over real RTP', () => {
  it('R-17/R-18/R-15: *3 pauses (nothing forked, pause beep to the caller), *4 resumes (resume beep); prompts never reach the fork', async () => {
    const call = await tb.inboundCall({ toUser: '+15550002001', callMs: 7000, tones: { callerHz: CALLER_HZ, userHz: USER_HZ, ms: 8000 } });
    const { uac, uas, trace, toB, callerRtp: caller, userRtp: user } = call;
    const { port, srs: [srs1, srs2] } = await tb.recordingFork(call.recordingsBefore);
    await sleep(2500); // the start announcement (R-16, to both) plays meanwhile
    await user.sendDtmf('*', 100, toB);
    await user.sendDtmf('3', 100, toB);
    await sleep(1500);
    await user.sendDtmf('*', 100, toB);
    await user.sendDtmf('4', 100, toB);
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);

    expect(port.calls.filter((c) => c === 'pause' || c === 'resume')).toEqual(['pause', 'resume']);
    const pausedAt = port.times[port.calls.indexOf('pause')]!;
    const resumedAt = port.times[port.calls.indexOf('resume')]!;
    // while paused nothing of the conversation reaches the recording server
    for (const srs of [srs1, srs2]) {
      expect(srs.packets((p) => p.at > pausedAt + 60 && p.at < resumedAt - 300)).toHaveLength(0);
      expect(srs.packets((p) => p.at > resumedAt + 100).length).toBeGreaterThan(25);
    }
    // each stream is one party's own voice, never a prompt or a beep
    const s1 = RtpPeer.decode(srs1.packets());
    const s2 = RtpPeer.decode(srs2.packets());
    expect(s1.length).toBeGreaterThan(8000);
    expect(share(s1, CALLER_HZ)).toBeGreaterThan(0.9);
    expect(share(s2, USER_HZ)).toBeGreaterThan(0.9);
    // the start announcement did play to the caller (so it was kept out of the fork above)
    expect(trace.prompts.find((p) => p.name === 'recording-started')).toMatchObject({ reason: 'completed' });
    // the caller heard the pause beep after *3 and the resume beep after *4
    const window = (from: number, ms: number): Int16Array => RtpPeer.decode(caller.packets((p) => (p.pt === 0 || p.pt === 8) && p.at >= from && p.at < from + ms));
    expect(goertzelPower(window(pausedAt, 600), PAUSE_BEEP.frequencyHz)).toBeGreaterThan(10 * goertzelPower(window(pausedAt - 1200, 600), PAUSE_BEEP.frequencyHz));
    expect(goertzelPower(window(resumedAt - 400, 900), RESUME_BEEP.frequencyHz)).toBeGreaterThan(1e-4);
  }, 30_000);
});
