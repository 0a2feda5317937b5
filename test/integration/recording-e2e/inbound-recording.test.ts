/**
 * End to end, inbound PSTN: SIPp caller (PSTN) and callee (alice's phone) through the real call
 * layer, SIPREC client and reference recording server. The WAV, the metadata history and the
 * summary the server wrote are checked against what the parties sent and what the product played.
 */
import { describe, expect, it } from 'vitest';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import {
  OTHER_HZ,
  USER_HZ,
  fullWindows,
  metadataHistory,
  pauseResumePolicy,
  pressCode,
  readStereoWav,
  recordingOn,
  useRecordingE2e,
  wavFile,
  wavMsOf,
  windows,
} from './e2e-harness.js';
import { sleep, until } from '../../support/wait.js';

const e2e = useRecordingE2e({
  block: 0,
  tmpPrefix: 'e2e-inbound-',
  policy: ({ srs }) => recordingOn([srs], 'proceedWithoutAnnouncement', pauseResumePolicy('inbound', 'beep', { repeatTone: { enabled: true, intervalSeconds: 10 } })),
});

describe('inbound PSTN call recorded end to end', () => {
  it('R-30/R-15/R-19/R-18/R-31/R-32: two pure channels of the parties, no prompt/tone/beep energy, duration within 100 ms, pause visible in WAV and metadata, exactly the announcements played', async () => {
    const { srs } = e2e.servers;
    const run = await e2e.placeCall({ direction: 'inbound', talkMs: 16_000 });
    const tones: Array<{ kind: string; at: number }> = [];
    run.trace.session.on('toneStarted', (e) => tones.push({ kind: e.kind, at: performance.now() }));
    try {
      const connectedAt = await run.connected();
      // the first reminder tone comes 10 s into the recording; pause after it, resume 2 s later
      await sleep(Math.max(0, connectedAt + 11_000 - performance.now()));
      await pressCode(run, '*3');
      await sleep(2000);
      await pressCode(run, '*4');
      await run.partiesOk();
      await until(() => srs.summaries.length === 1, 'the recording to end', 5000);
    } finally {
      run.close();
    }

    const summary = srs.summaries[0]!;
    expect(summary.endReason).toBe('bye-from-src');
    // label 1 is sent by the PSTN party, label 2 by alice
    const aorOf = (id: string | undefined): string | undefined => summary.participants.find((p) => p.id === id)?.aor;
    expect(aorOf(summary.streams.find((s) => s.label === '1')?.senders[0])).toBe('tel:+15559990000');
    expect(aorOf(summary.streams.find((s) => s.label === '2')?.senders[0])).toBe('sip:alice@acme.example');

    const wav = readStereoWav(wavFile(srs, summary));
    expect(wav.sampleRate).toBe(8000);
    // the WAV spans the session plus what the fork kept from the answer (media.forkBufferMs, 3000 ms)
    expect(wav.durationMs).toBeGreaterThanOrEqual(summary.durationMs - 100);
    expect(wav.durationMs).toBeLessThanOrEqual(summary.durationMs + 3000 + 100);
    expect(wav.durationMs).toBeGreaterThan(12_000);

    // each channel is one party's tone only, wherever it has sound
    const ch1 = windows(wav.ch1, OTHER_HZ);
    const ch2 = windows(wav.ch2, USER_HZ);
    for (const [report, who] of [
      [ch1, 'channel 1 (PSTN)'],
      [ch2, 'channel 2 (user)'],
    ] as const) {
      const full = fullWindows(report);
      expect(full.length, who).toBeGreaterThan(40);
      for (const w of full) {
        expect(w.share, `${who} at ${w.startMs} ms`).toBeGreaterThan(0.97);
        expect(w.productTone, `${who} at ${w.startMs} ms`).toBeLessThan(1e-4);
      }
    }
    // a reminder tone played during the recording; the windows around it are pure tone
    const reminder = tones.find((t) => t.kind === 'reminder');
    expect(reminder, JSON.stringify(tones)).toBeDefined();
    const reminderMs = wavMsOf(summary, reminder!.at);
    expect(reminderMs).toBeGreaterThan(0);
    for (const report of [ch1, ch2]) {
      const around = report.filter((w) => w.startMs >= reminderMs - 200 && w.startMs < reminderMs + 400);
      expect(around.length).toBeGreaterThan(0);
      for (const w of around) {
        expect(w.share).toBeGreaterThan(0.97);
        expect(w.productTone).toBeLessThan(1e-4);
      }
    }

    // the pause is in the metadata and is silence on both channels
    expect(summary.pauses).toHaveLength(1);
    const pause = summary.pauses[0]!;
    const pauseFrom = Date.parse(pause.start) - Date.parse(summary.wav!.startedAt);
    const pauseTo = Date.parse(pause.end!) - Date.parse(summary.wav!.startedAt);
    expect(pauseTo - pauseFrom).toBeGreaterThan(1000);
    for (const report of [ch1, ch2]) {
      const inside = report.filter((w) => w.startMs > pauseFrom + 200 && w.startMs + 200 < pauseTo - 200);
      expect(inside.length).toBeGreaterThan(3);
      for (const w of inside) expect(w.level, `paused window at ${w.startMs} ms`).toBeLessThan(1e-6);
      expect(fullWindows(report.filter((w) => w.startMs > pauseTo + 500)).length).toBeGreaterThan(5);
    }

    // Metadata history: every document valid RFC 7865, the final one closed, announcements exact
    const history = metadataHistory(srs, summary);
    expect(history.length).toBeGreaterThanOrEqual(3);
    for (const doc of history) expect(validateMetadata(doc.xml)).toEqual([]);
    const final = history.at(-1)!.model;
    const session = final.sessions[0]!;
    expect(session.stopTime).toBeDefined();
    expect(session.pauses).toHaveLength(1);
    const anns = (session.announcements ?? []).map((a) => ({ kind: a.kind, result: a.result, target: a.target, phase: a.phase }));
    expect(anns).toEqual([
      { kind: 'compliance', result: 'played', target: 'pstn', phase: 'pre-answer' },
      { kind: 'start', result: 'skipped', target: 'all', phase: 'mid-call' },
      { kind: 'reminder-tone', result: 'played', target: 'all', phase: 'mid-call' }, // one entry per recording
      { kind: 'pause', result: 'played', target: 'all', phase: 'mid-call' },
      { kind: 'resume', result: 'played', target: 'all', phase: 'mid-call' },
    ]);
    // the skipped start announcement says why
    expect(session.announcements?.[1]?.reason).toBeTruthy();
    // the compliance prompt really played, and only once
    expect(run.trace.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    expect(run.trace.prompts.some((p) => p.name === 'recording-started')).toBe(false);
  }, 38_000);
});
