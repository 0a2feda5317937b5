import { describe, expect, it } from 'vitest';
import type { AnnouncementNote } from '../../../src/call/call-ports.js';
import type { RecordingSettings } from '../../../src/policy/policy-types.js';
import type { FakeRecordingPort } from '../../fakes/fake-recording-port.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { flush, setup } from './call-harness-unit.js';

/**
 * What the recording controller reports to the recording it belongs to: the reminder tone as
 * one cumulative note per recording, the user's stop before that recording's final snapshot,
 * and skipped notifications with their reason.
 */
const ALICE = '+15550002001';
const onDemand: Partial<RecordingSettings> = {
  enabled: true,
  mode: 'onDemand',
  pauseResumeNotification: 'beep',
  startStopAnnouncement: { pstn: true, internal: true },
  repeatTone: { enabled: true, intervalSeconds: 10 },
};

/** An answered inbound call to alice whose on-demand recording the user started; the recording server accepted. */
async function recordedCall(alice: Partial<RecordingSettings> = onDemand) {
  const t = setup(makeSnapshot({ alice }));
  t.inbound(ALICE);
  await flush();
  t.signaling.answer();
  await flush();
  const id = t.manager.list()[0]!.id;
  const control = async (action: 'start' | 'stop' | 'pause' | 'resume') => {
    const r = await t.manager.control(id, action);
    await flush();
    return r;
  };
  expect(await control('start')).toMatchObject({ ok: true });
  const port = t.recording.ports[0]!;
  port.establish();
  await flush();
  const media = t.media.sessions[0]!;
  const tone = (at: number, kind: 'reminder' | 'beep' = 'reminder') => media.emit('toneStarted', { kind, legs: ['a', 'b'], at, durationMs: 200 });
  return { t, port, media, control, tone };
}

const reminders = (port: FakeRecordingPort): AnnouncementNote[] => port.notes.filter((n) => n.kind === 'reminder-tone');

describe('RecordingController: announcement notes for the metadata (R-31)', () => {
  it('MUST report every reminder-tone play as one cumulative note of that recording: first and last play, count, interval (R-19)', async () => {
    const { port, tone, control, t } = await recordedCall();
    tone(10_000);
    tone(15_000, 'beep'); // a pause/resume beep is not the reminder
    tone(20_000);
    tone(30_000);
    expect(reminders(port)).toEqual([1, 2, 3].map((count, i) => expect.objectContaining({ result: 'played', count, start: 10_000, last: [10_000, 20_000, 30_000][i], end: [10_200, 20_200, 30_200][i], intervalSeconds: 10 })));

    await control('pause');
    tone(40_000); // while paused (a tone still in flight) it is not this recording's reminder
    expect(reminders(port)).toHaveLength(3);
    await control('resume');
    tone(50_000);
    expect(reminders(port).at(-1)).toMatchObject({ count: 4, start: 10_000, last: 50_000 });

    // a new recording of the same call counts its own reminders from 1
    await control('stop');
    tone(55_000);
    expect(reminders(port)).toHaveLength(4);
    await control('start');
    const second = t.recording.ports[1]!;
    second.establish();
    await flush();
    tone(60_000);
    expect(reminders(second)).toEqual([expect.objectContaining({ count: 1, start: 60_000, last: 60_000 })]);
  });

  it("MUST give a user's stop announcement to the recording it stops before that recording's final snapshot, played after the fork stopped (R-15, R-16)", async () => {
    const { port, media, control } = await recordedCall();
    const seen: Array<{ note: AnnouncementNote; stopCalled: boolean }> = [];
    const original = port.announcement.bind(port);
    port.announcement = (note) => {
      seen.push({ note, stopCalled: port.calls.includes('stop') });
      original(note);
    };
    expect(await control('stop')).toMatchObject({ ok: true });
    const stop = seen.filter((s) => s.note.kind === 'stop');
    expect(stop).toHaveLength(1);
    expect(stop[0]!.stopCalled, 'noted before the final snapshot (port.stop)').toBe(false);
    expect(stop[0]!.note).toMatchObject({ result: 'played', target: 'all', media: 'recording-stopped', phase: 'mid-call' });
    expect(stop[0]!.note.start).toBeTypeOf('number');
    expect(port.calls).toContain('stop');
    expect(media.log.indexOf('stopFork')).toBeLessThan(media.log.indexOf('prompt:recording-stopped:both'));
  });

  it('MUST note a skipped stop with its reason in the stopped recording, and skipped pause/resume notifications (R-16, R-18)', async () => {
    const { port, control } = await recordedCall({ ...onDemand, startStopAnnouncement: { pstn: false, internal: false }, pauseResumeNotification: 'none' });
    await control('pause');
    await control('resume');
    await control('stop');
    expect(port.notes.map((n) => `${n.kind}:${n.result}:${n.reason ?? ''}`)).toEqual([
      'start:skipped:settingOff',
      'pause:skipped:settingOff',
      'resume:skipped:settingOff',
      'stop:skipped:settingOff',
    ]);
  });
});
