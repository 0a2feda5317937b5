import { failoverMarks, type Mark, type RecordingEvent } from './failover-marks';
import { timelineClock, type ClockSummary } from './timeline-clock';

export type { RecordingEvent };

/** The parts of the recording summary (src/srs/recording-summary.ts) the timeline shows. */
export interface Summary extends ClockSummary {
  stoppedAt?: string;
  endReason?: string;
  participants: { id: string; aor?: string; name?: string; associatedAt?: string; disassociatedAt?: string }[];
  announcements: { kind: string; target: string; result: string; reason?: string; language?: string; start?: string; end?: string }[];
  pauses: { start: string; end?: string }[];
  mediaProblems: { kind: string; label: string; reason: string; since: string }[];
  metadataDocuments: number;
}

/**
 * Every event of the recording on one line, at the player's time (from the WAV's first sample):
 * announcements, tones, pauses, participants, media problems, failovers.
 */
export function Timeline({ summary, events = [] }: { summary: Summary; events?: readonly RecordingEvent[] }) {
  const { at, endAt, total } = timelineClock(summary);
  const marks: Mark[] = [];
  for (const a of summary.announcements) {
    const s = at(a.start);
    if (s === undefined) continue;
    const tone = /tone|beep/i.test(a.kind);
    marks.push({ at: s, end: at(a.end), kind: tone ? 'tone' : 'announcement', text: `${a.kind} to ${a.target}: ${a.result}${a.language ? ` (${a.language})` : ''}` });
  }
  for (const p of summary.pauses) marks.push({ at: at(p.start) ?? 0, end: at(p.end), kind: 'pause', text: p.end ? 'paused' : 'paused until the end' });
  for (const p of summary.participants) {
    const who = p.name ?? p.aor ?? p.id;
    const j = at(p.associatedAt);
    const l = at(p.disassociatedAt);
    if (j !== undefined) marks.push({ at: j, kind: 'participant', text: `${who} joined` });
    if (l !== undefined) marks.push({ at: l, kind: 'participant', text: `${who} left` });
  }
  for (const m of summary.mediaProblems) marks.push({ at: at(m.since) ?? 0, kind: 'problem', text: `${m.kind} on stream ${m.label}: ${m.reason}` });
  marks.push(...failoverMarks(events, (iso) => at(iso)!));
  marks.push({ at: endAt, kind: 'end', text: `ended: ${summary.endReason ?? 'unknown'}` });
  marks.sort((a, b) => a.at - b.at);
  const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / total) * 100)).toFixed(2)}%`;
  return (
    <section aria-label="Timeline" class="timeline">
      <h3>Timeline</h3>
      <div class="bar" aria-hidden="true">
        {marks.map((m, i) => (
          <span key={i} class={`mark mark-${m.kind}`} style={{ left: pct(m.at), width: m.end !== undefined ? pct(m.end - m.at) : undefined }} title={m.text} />
        ))}
      </div>
      <ol class="events">
        {marks.map((m, i) => (
          <li key={i} class={`ev-${m.kind}`}>
            <time>{(Math.max(0, m.at) / 1000).toFixed(1)} s</time> {m.text}
          </li>
        ))}
      </ol>
      <p class="hint">{summary.metadataDocuments} metadata documents received.</p>
    </section>
  );
}
