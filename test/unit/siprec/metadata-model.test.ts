import { describe, expect, it } from 'vitest';
import { activeSenderOf, endPause, finaliseRecordingMetadata, isPaused, replaceParticipant, serializeMetadata, startPause, validateMetadata } from '../../../src/siprec/index.js';
import { IDS, T0, at, initialModel, midCallModel } from './metadata-fixture.js';

describe('RecordingMetadataModel helpers', () => {
  it('starts with label 1 sent by the PSTN party and label 2 by the user (R-30)', () => {
    const m = initialModel();
    expect(activeSenderOf(m, '1')?.id).toBe(IDS.pstn);
    expect(activeSenderOf(m, '2')?.id).toBe(IDS.user);
    expect(m.sessions[0]!.startTime).toBe(T0);
  });

  it('transfer keeps the session and streams, disassociates the leaving party and associates the new one', () => {
    const m = initialModel();
    expect(replaceParticipant(m, IDS.user, { id: IDS.transferTarget, aor: 'sip:bob@pbx.acme.example' }, at(1000))).toBe(true);
    expect(activeSenderOf(m, '2')?.id).toBe(IDS.transferTarget);
    expect(m.participantSessionAssocs.find((a) => a.participantId === IDS.user)?.disassociateTime).toBe(at(1000));
    expect(m.participantStreamAssocs.find((a) => a.participantId === IDS.transferTarget)).toMatchObject({ send: [IDS.stream2], recv: [IDS.stream1], associateTime: at(1000) });
    expect(m.sessions).toHaveLength(1);
    expect(m.sessions[0]!.announcements!.filter((a) => a.kind === 'compliance')).toHaveLength(1);
    expect(replaceParticipant(m, IDS.user, { id: IDS.group, aor: 'sip:x@y' }, at(2000))).toBe(false);
    expect(validateMetadata(serializeMetadata(m))).toEqual([]);
  });

  it('pause and resume are recorded once each; a second pause while paused is ignored (R-18, R-32)', () => {
    const m = initialModel();
    startPause(m, at(10));
    startPause(m, at(20));
    expect(isPaused(m)).toBe(true);
    endPause(m, at(30));
    endPause(m, at(40));
    expect(isPaused(m)).toBe(false);
    expect(m.sessions[0]!.pauses).toEqual([{ start: at(10), end: at(30) }]);
  });

  it('the final snapshot carries stop-time and closes every open association and pause (R-32)', () => {
    const m = midCallModel();
    startPause(m, at(150_000));
    finaliseRecordingMetadata(m, at(300_000));
    expect(m.sessions[0]!.stopTime).toBe(at(300_000));
    expect(m.sessions[0]!.pauses!.at(-1)!.end).toBe(at(300_000));
    expect([...m.sessionRecordingAssocs, ...m.participantSessionAssocs, ...m.participantStreamAssocs].every((a) => a.disassociateTime === at(300_000))).toBe(true);
    finaliseRecordingMetadata(m, at(400_000));
    expect(m.sessions[0]!.stopTime).toBe(at(300_000)); // idempotent
  });
});
