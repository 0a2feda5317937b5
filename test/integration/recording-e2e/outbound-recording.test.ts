/**
 * End to end, outbound PSTN: SIPp caller (alice's phone, from the PBX) and callee (the PSTN party
 * behind the trunk) through the real call layer, SIPREC client and reference recording server. The
 * post-answer compliance announcement and the pause/resume announcements play while the
 * recording runs: none of them may reach the WAV.
 */
import { describe, expect, it } from 'vitest';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import {
  OTHER_HZ,
  USER_HZ,
  TONE_LEVEL,
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
  block: 1,
  tmpPrefix: 'e2e-outbound-',
  policy: ({ srs }) => recordingOn([srs], 'proceedWithoutAnnouncement', pauseResumePolicy('outbound', 'announcement')),
  trunkTargets: ['carrier'],
});

describe('outbound PSTN call recorded end to end', () => {
  it('R-12/R-15/R-30/R-31: the compliance and pause/resume announcements play during the recording but never reach it; metadata lists exactly them', async () => {
    const { srs } = e2e.servers;
    const run = await e2e.placeCall({ direction: 'outbound', talkMs: 11_000 });
    try {
      const connectedAt = await run.connected();
      await sleep(Math.max(0, connectedAt + 3500 - performance.now()));
      await pressCode(run, '*3');
      await sleep(2500);
      await pressCode(run, '*4');
      await run.partiesOk();
      await until(() => srs.summaries.length === 1, 'the recording to end', 5000);
    } finally {
      run.close();
    }

    const summary = srs.summaries[0]!;
    // R-30 in an outbound call: label 1 is the called PSTN party (leg B), label 2 alice (leg A)
    const aorOf = (id: string | undefined): string | undefined => summary.participants.find((p) => p.id === id)?.aor;
    expect(aorOf(summary.streams.find((s) => s.label === '1')?.senders[0])).toMatch(/\+15559990000/);
    expect(aorOf(summary.streams.find((s) => s.label === '2')?.senders[0])).toMatch(/alice|\+15550002001/);

    const wav = readStereoWav(wavFile(srs, summary));
    // the WAV spans the session plus what the fork kept from the answer (media.forkBufferMs, 3000 ms)
    expect(wav.durationMs).toBeGreaterThanOrEqual(summary.durationMs - 100);
    expect(wav.durationMs).toBeLessThanOrEqual(summary.durationMs + 3000 + 100);
    const ch1 = windows(wav.ch1, OTHER_HZ);
    const ch2 = windows(wav.ch2, USER_HZ);
    for (const report of [ch1, ch2]) {
      for (const w of fullWindows(report)) {
        expect(w.share, `window at ${w.startMs} ms`).toBeGreaterThan(0.97);
        expect(w.productTone).toBeLessThan(1e-4);
      }
    }

    // the compliance prompt played to the PSTN party while recording; in the WAV its
    // time holds the parties' tones at their own level, nothing added
    const compliance = run.trace.prompts.find((p) => p.name === 'compliance');
    expect(compliance?.reason).toBe('completed');
    const played = run.trace.prompts.filter((p) => p.endedAt !== undefined);
    expect(played.map((p) => p.name)).toEqual(expect.arrayContaining(['compliance', 'recording-paused', 'recording-resumed']));
    let checked = 0;
    for (const p of played.filter((x) => x.name === 'compliance')) {
      const from = wavMsOf(summary, p.startedAt!) + 100;
      const to = wavMsOf(summary, p.endedAt!) - 100;
      for (const [report, hz] of [
        [ch1, OTHER_HZ],
        [ch2, USER_HZ],
      ] as const) {
        // the recording's first window may hold the start edge of the parties' audio: count from the first full one
        const speechFrom = fullWindows(report)[0]?.startMs ?? 0;
        const during = report.filter((w) => w.startMs >= Math.max(from, speechFrom) && w.startMs + 200 <= to);
        expect(during.length, `${p.name} windows at ${hz} Hz`).toBeGreaterThan(3);
        for (const w of during) {
          expect(w.level / TONE_LEVEL, `${p.name} at ${w.startMs} ms`).toBeGreaterThan(0.8);
          expect(w.level / TONE_LEVEL, `${p.name} at ${w.startMs} ms`).toBeLessThan(1.25);
          expect(w.share, `${p.name} at ${w.startMs} ms`).toBeGreaterThan(0.97);
        }
        checked += during.length;
      }
    }
    expect(checked).toBeGreaterThan(10);
    // the paused/resumed announcements play while the fork is stopped (pause first, resume
    // after the notification): their time is silence in the WAV
    for (const p of played.filter((x) => x.name === 'recording-paused' || x.name === 'recording-resumed')) {
      const from = wavMsOf(summary, p.startedAt!) + 300;
      const to = wavMsOf(summary, p.endedAt!) - 300;
      for (const report of [ch1, ch2]) {
        // the recording's first window may hold the start edge of the parties' audio: count from the first full one
        const speechFrom = fullWindows(report)[0]?.startMs ?? 0;
        const during = report.filter((w) => w.startMs >= Math.max(from, speechFrom) && w.startMs + 200 <= to);
        expect(during.length, p.name).toBeGreaterThan(2);
        for (const w of during) expect(w.level, `${p.name} at ${w.startMs} ms`).toBeLessThan(1e-6);
      }
    }

    // the pause is silence on both channels
    expect(summary.pauses).toHaveLength(1);
    const pauseFrom = Date.parse(summary.pauses[0]!.start) - Date.parse(summary.wav!.startedAt);
    const pauseTo = Date.parse(summary.pauses[0]!.end!) - Date.parse(summary.wav!.startedAt);
    for (const report of [ch1, ch2]) {
      const inside = report.filter((w) => w.startMs > pauseFrom + 200 && w.startMs + 200 < pauseTo - 200);
      expect(inside.length).toBeGreaterThan(3);
      for (const w of inside) expect(w.level).toBeLessThan(1e-6);
    }

    // exactly the announcements that played (and the skipped start announcement, R-16)
    const history = metadataHistory(srs, summary);
    for (const doc of history) expect(validateMetadata(doc.xml)).toEqual([]);
    const session = history.at(-1)!.model.sessions[0]!;
    expect(session.stopTime).toBeDefined();
    const anns = (session.announcements ?? []).map((a) => ({ kind: a.kind, result: a.result, target: a.target }));
    expect(anns).toEqual([
      { kind: 'start', result: 'skipped', target: 'all' },
      { kind: 'compliance', result: 'played', target: 'pstn' },
      { kind: 'pause', result: 'played', target: 'all' },
      { kind: 'resume', result: 'played', target: 'all' },
    ]);
    const comp = session.announcements!.find((a) => a.kind === 'compliance')!;
    expect(comp.phase).toBe('post-answer');
    expect(comp.start).toBeDefined();
    expect(comp.end! - comp.start!).toBeGreaterThan(1000);
    expect(session.announcements!.find((a) => a.kind === 'pause')?.media).toMatch(/recording-paused/);
  }, 38_000);
});
