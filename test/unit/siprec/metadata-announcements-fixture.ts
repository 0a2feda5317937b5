import {
  endPause,
  finaliseRecordingMetadata,
  recordAnnouncement,
  recordReminderTone,
  startPause,
  type RecordingMetadataModel,
} from '../../../src/siprec/index.js';
import { at, initialModel } from './metadata-fixture.js';

/**
 * One recording that uses every announcement kind: the compliance announcement before the
 * answer (from initialModel), the start announcement skipped by R-16 precedence, a pause with a beep,
 * a resume with the prompt, the reminder tone (R-19, interval 10 s) and the user's stop (skipped by
 * precedence). Same ids and clock as metadata-fixture.ts.
 */
const REMINDER_MS = 200;

/** A play of the reminder tone as the call layer reports it (cumulative for the recording). */
function reminderPlay(m: RecordingMetadataModel, count: number, firstMs: number, lastMs: number): void {
  recordReminderTone(m, {
    kind: 'reminder-tone',
    target: 'all',
    media: 'tone',
    phase: 'mid-call',
    start: at(firstMs),
    end: at(lastMs + REMINDER_MS),
    last: at(lastMs),
    count,
    intervalSeconds: 10,
    result: 'played',
  });
}

/** The update sent after the reminder tone's first play: the entry with count 1. */
export function announcementsUpdateModel(): RecordingMetadataModel {
  const m = initialModel();
  recordAnnouncement(m, { kind: 'start', target: 'all', phase: 'mid-call', result: 'skipped', reason: 'compliancePrecedence' });
  startPause(m, at(20_000));
  recordAnnouncement(m, { kind: 'pause', target: 'all', media: 'beep', phase: 'mid-call', start: at(20_010), end: at(20_350), result: 'played' });
  endPause(m, at(25_000));
  recordAnnouncement(m, {
    kind: 'resume',
    target: 'all',
    media: 'recording-resumed',
    phase: 'mid-call',
    language: 'de',
    start: at(25_000),
    end: at(26_400),
    result: 'played',
  });
  reminderPlay(m, 1, 36_400, 36_400);
  return m;
}

/** The final snapshot: the reminder entry with its final count and last play, then the stop. */
export function announcementsFinalModel(): RecordingMetadataModel {
  const m = announcementsUpdateModel();
  reminderPlay(m, 2, 36_400, 46_400);
  reminderPlay(m, 3, 36_400, 56_400);
  recordAnnouncement(m, { kind: 'stop', target: 'all', phase: 'mid-call', result: 'skipped', reason: 'compliancePrecedence' });
  finaliseRecordingMetadata(m, at(60_000));
  return m;
}

/** A stop that plays: recorded before the final snapshot with its start and no end (it ends after the recording closed). */
export function playedStopModel(): RecordingMetadataModel {
  const m = initialModel();
  recordAnnouncement(m, { kind: 'stop', target: 'all', media: 'recording-stopped', phase: 'mid-call', language: 'en-US', start: at(30_000), result: 'played' });
  finaliseRecordingMetadata(m, at(30_000));
  return m;
}
