/**
 * The console's recording timeline (console/src/screens/failover-marks.ts) reads the recording event log
 * (GET /v1/recordings/{id}/events) for the recording link's history: a failover to a later
 * recording server, a link lost mid-call, a start after a loss.
 */
import { describe, expect, it } from 'vitest';
import { failoverMarks, type RecordingEvent } from '../../../console/src/screens/failover-marks.js';

const t0 = Date.parse('2026-01-02T10:00:00.000Z');
const at = (iso: string) => Date.parse(iso) - t0;
const ev = (time: string, event: RecordingEvent['event'], extra: Partial<RecordingEvent> = {}): RecordingEvent => ({ time: `2026-01-02T10:00:${time}.000Z`, event, ...extra });

describe('console timeline: failover marks from the recording event log', () => {
  it('MUST mark a start answered after failed attempts with the server that answered and the try', () => {
    const marks = failoverMarks([ev('00', 'started', { recording: { srs: { target: 'sip:backup@192.0.2.2', attempt: 2 } } }), ev('09', 'stopped')], at);
    expect(marks).toEqual([{ at: 0, kind: 'failover', text: 'failover: backup@192.0.2.2 answered on try 3 (the first 2 servers did not)' }]);
  });

  it('MUST NOT mark a start the first server answered', () => {
    expect(failoverMarks([ev('00', 'started', { recording: { srs: { target: 'sip:main@192.0.2.1', attempt: 0 } } })], at)).toEqual([]);
  });

  it('MUST mark a lost link with its reason and a later start as re-established', () => {
    const marks = failoverMarks(
      [
        ev('00', 'started', { recording: { srs: { target: 'sip:main@192.0.2.1', attempt: 0 } } }),
        ev('04', 'failed', { reason: 'srs-lost' }),
        ev('07', 'started', { recording: { srs: { target: 'sips:backup@192.0.2.2', attempt: 1 } } }),
      ],
      at,
    );
    expect(marks).toEqual([
      { at: 4000, kind: 'failover', text: 'recording link lost (srs-lost)' },
      { at: 7000, kind: 'failover', text: 'recording link re-established: backup@192.0.2.2 answered' },
    ]);
  });
});
