/**
 * R-19 end to end: the reminder tone (REMINDER_TONE, 1400 Hz) is heard by both parties every
 * intervalSeconds while recording, never while paused, and never reaches the recording fork.
 * Real SIPp parties, RtpPeer audio, the embedded engine and media plane (split from
 * b2bua-behaviours.test.ts because one interval takes the minimum 10 s).
 */
import { heard } from '../../support/audio-checks.js';
import { describe, expect, it } from 'vitest';
import { REMINDER_TONE } from '../../../src/media/audio/tones.js';
import { useCallTestbed } from '../../support/call-testbed.js';
import { goertzelPower } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import type { RtpPeer } from '../../support/rtp-peer.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { sleep } from '../../support/wait.js';

const INTERVAL_S = 10;
const block = portBlock({ from: 29000, to: 29999 }, 1, 500); // b2bua-behaviours.test.ts has block 0
const tb = useCallTestbed(block, {
  trusted: ['pbx'],
  snapshot: makeSnapshot({
    alice: { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'none', repeatTone: { enabled: true, intervalSeconds: INTERVAL_S } },
  }),
  timeoutSec: 40,
});
const CALLER_HZ = 1000;
const USER_HZ = 600;

/** Reminder-tone power heard in each 100 ms step (a 200 ms window) from `from` to `to`. */
function reminderTrack(peer: RtpPeer, from: number, to: number): Array<{ at: number; power: number }> {
  const out: Array<{ at: number; power: number }> = [];
  for (let t = from; t < to; t += 100) {
    const pcm = heard(peer, t, t + 200);
    out.push({ at: t, power: pcm.length >= 800 ? goertzelPower(pcm, REMINDER_TONE.frequencyHz) : 0 });
  }
  return out;
}

/** Instants where the reminder tone stands clearly above the floor of that peer's track. */
function toneBursts(track: Array<{ at: number; power: number }>, floor: number): number[] {
  return track.filter((s) => s.power > 20 * floor && s.power > 1e-5).map((s) => s.at);
}

describe('R-19 reminder tone over real RTP', () => {
  it('R-19: both parties hear the reminder tone intervalSeconds after recording starts, not while paused; the fork never carries it', async () => {
    const call = await tb.inboundCall({ toUser: '+15550002001', callMs: 22_500, tones: { callerHz: CALLER_HZ, userHz: USER_HZ, ms: 24_000 } });
    const { uac, uas, toB, callerRtp: caller, userRtp: user } = call;
    const { port, srs: [srs1, srs2] } = await tb.recordingFork(call.recordingsBefore);
    const startedAt = port.times[0]!;
    // after the first reminder (at +10 s) the user pauses (*3) and stays paused past the second one (+20 s)
    await sleep(Math.max(0, startedAt + INTERVAL_S * 1000 + 1200 - performance.now()));
    await user.sendDtmf('*', 100, toB);
    await user.sendDtmf('3', 100, toB);
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    expect(port.calls.filter((c) => c === 'pause' || c === 'resume')).toEqual(['pause']);
    const pausedAt = port.times[port.calls.indexOf('pause')]!;
    const endAt = startedAt + 2 * INTERVAL_S * 1000 + 1500;

    for (const peer of [caller, user]) {
      const track = reminderTrack(peer, startedAt + 500, endAt);
      const quiet = track.filter((s) => s.at < startedAt + INTERVAL_S * 1000 - 1000).map((s) => s.power);
      const floor = quiet.reduce((a, b) => a + b, 0) / Math.max(1, quiet.length);
      const bursts = toneBursts(track, floor);
      // heard once, about intervalSeconds after the recording started (no tone before, none while paused)
      expect(bursts.length, JSON.stringify({ bursts, startedAt, pausedAt })).toBeGreaterThan(0);
      expect(bursts[0]! - startedAt).toBeGreaterThan(INTERVAL_S * 1000 - 1200);
      expect(bursts.at(-1)! - startedAt).toBeLessThan(INTERVAL_S * 1000 + 1000);
      expect(bursts.every((t) => t < pausedAt)).toBe(true);
    }
    // the recording streams never carry the tone (they carry each party's own voice)
    for (const srs of [srs1, srs2]) {
      const track = reminderTrack(srs, startedAt + INTERVAL_S * 1000 - 1000, Math.min(pausedAt, startedAt + INTERVAL_S * 1000 + 1000));
      const loud = track.filter((s) => s.power > 1e-4);
      expect(loud).toHaveLength(0);
    }
  }, 45_000);
});
