/** The recording timeline's time base (pure: no DOM, unit-tested). */

/** The parts of the recording summary the time base needs. */
export interface ClockSummary {
  startedAt: string;
  durationMs: number;
  /** The WAV starts at `startedAt`, earlier than the recording when the SRC sent audio from before it. */
  wav?: { durationMs: number; startedAt?: string };
}

export interface TimelineClock {
  /** Milliseconds from the WAV's first sample (the player's time) of an ISO instant. */
  at(iso: string | undefined): number | undefined;
  /** The recording's end on that time base. */
  endAt: number;
  /** The line's length: the recording's end or the WAV's, whichever is later (at least 1). */
  total: number;
}

/** Events sit at the player's time, so a mark and the audio it describes line up. */
export function timelineClock(summary: ClockSummary): TimelineClock {
  const t0 = Date.parse(summary.wav?.startedAt ?? summary.startedAt);
  const endAt = Date.parse(summary.startedAt) - t0 + summary.durationMs;
  return {
    at: (iso) => (iso ? Date.parse(iso) - t0 : undefined),
    endAt,
    total: Math.max(endAt, summary.wav?.durationMs ?? 0, 1),
  };
}
