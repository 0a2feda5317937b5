/**
 * The console's recording timeline (console/src/screens/timeline-clock.ts) places events at the
 * player's time: from the WAV's first sample (summary wav.startedAt), which precedes the
 * recording's start when the SRC sent audio from before it (the fork's start buffer).
 */
import { describe, expect, it } from 'vitest';
import { timelineClock } from '../../../console/src/screens/timeline-clock.js';

describe('console timeline: time base', () => {
  it('MUST count from the WAV\'s first sample when the WAV starts before the recording', () => {
    const clock = timelineClock({ startedAt: '2026-01-02T10:00:01.250Z', durationMs: 10_000, wav: { durationMs: 11_250, startedAt: '2026-01-02T10:00:00.000Z' } });
    // a pause 4 s into the recording is 5.25 s into the audio
    expect(clock.at('2026-01-02T10:00:05.250Z')).toBe(5250);
    expect(clock.endAt).toBe(11_250);
    expect(clock.total).toBe(11_250);
    expect(clock.at(undefined)).toBeUndefined();
  });

  it('MUST count from the recording\'s start for a summary without the WAV\'s start (older summaries, a failed file)', () => {
    const clock = timelineClock({ startedAt: '2026-01-02T10:00:01.000Z', durationMs: 8000 });
    expect(clock.at('2026-01-02T10:00:03.000Z')).toBe(2000);
    expect(clock.endAt).toBe(8000);
    expect(clock.total).toBe(8000);
  });

  it('MUST span the longer of the recording and the WAV', () => {
    const clock = timelineClock({ startedAt: '2026-01-02T10:00:00.000Z', durationMs: 5000, wav: { durationMs: 7000, startedAt: '2026-01-02T10:00:00.000Z' } });
    expect(clock.total).toBe(7000);
    expect(timelineClock({ startedAt: '2026-01-02T10:00:00.000Z', durationMs: 0 }).total).toBe(1);
  });
});
