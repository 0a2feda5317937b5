/** The recording link's history on the recording timeline (pure: no DOM, unit-tested). */

/** One entry of the recording event log (GET /v1/recordings/{id}/events; docs/observability.md). */
export interface RecordingEvent {
  time: string;
  event: 'started' | 'paused' | 'resumed' | 'stopped' | 'failed';
  reason?: string;
  recording?: { srs?: { target?: string; attempt?: number } | null };
}

export interface Mark {
  at: number;
  end?: number;
  kind: 'announcement' | 'tone' | 'pause' | 'participant' | 'problem' | 'failover' | 'end';
  text: string;
}

const uriText = (uri: string | undefined) => (uri ?? 'the recording server').replace(/^sips?:/, '');

/**
 * The recording link's history from the event log: the server that answered after the provider's
 * earlier ones failed (R-40 failover, `recording.srs.attempt` > 0), the link lost mid-call
 * (`failed`), and a start after a loss (re-established).
 */
export function failoverMarks(events: readonly RecordingEvent[], at: (iso: string) => number): Mark[] {
  const marks: Mark[] = [];
  let lost = false;
  for (const e of events) {
    const srs = e.recording?.srs;
    if (e.event === 'failed') {
      lost = true;
      marks.push({ at: at(e.time), kind: 'failover', text: `recording link lost${e.reason ? ` (${e.reason})` : ''}` });
    } else if (e.event === 'started' && lost) {
      lost = false;
      marks.push({ at: at(e.time), kind: 'failover', text: `recording link re-established: ${uriText(srs?.target)} answered` });
    } else if (e.event === 'started' && srs?.attempt) {
      const n = srs.attempt;
      marks.push({ at: at(e.time), kind: 'failover', text: `failover: ${uriText(srs.target)} answered on try ${n + 1} (${n === 1 ? 'the first server' : `the first ${n} servers`} did not)` });
    }
  }
  return marks;
}
