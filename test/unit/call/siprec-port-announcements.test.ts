import { describe, expect, it } from 'vitest';
import type { AnnouncementNote, RecordingStartRequest } from '../../../src/call/call-ports.js';
import { SiprecRecordingPort } from '../../../src/call/siprec-recording-port.js';
import { resolveProvider } from '../../../src/policy/effective-settings.js';
import { parseMetadata } from '../../../src/siprec/metadata-parser.js';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakeSrsConnector, type FakeSrsDialog } from '../../fakes/fake-srs-connector.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';

/**
 * The announcement entries the SiprecRecordingPort puts in the metadata it sends: each note in
 * an update when it happens, the reminder tone as one entry whose first play is an update and
 * whose later plays ride on the next update and the final snapshot, in both dialects.
 */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
};

function request(dialect: 'rfc7865' | 'broadworks'): RecordingStartRequest {
  return {
    callId: 'call-ann',
    direction: 'inbound-pstn',
    orgId: 'acme',
    locationId: 'hq',
    mode: 'onDemand',
    userSide: 'callee',
    provider: { ...resolveProvider(makeSnapshot().providers[0]!), dialect },
    other: { aor: 'tel:+15559990000' },
    user: { aor: 'sip:alice@acme.example', name: 'Alice', platform: { serviceProvider: 'sp', externalGroup: 'grp', externalIdentifier: 'ext-alice', externalType: 'BroadWorks' } },
    local: { address: '127.0.0.1', label1Port: 26004, label2Port: 26006 },
  };
}

let n = 0;
const newId = (): string => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

async function established(dialect: 'rfc7865' | 'broadworks') {
  const clock = new FakeClock();
  const connector = new FakeSrsConnector();
  const port = new SiprecRecordingPort({ connector, clock, timers: clock, newId });
  port.start(request(dialect));
  await flush();
  const dialog: FakeSrsDialog = connector.last.answer();
  await flush();
  /** Answers every re-INVITE sent so far with 200; returns how many there were. */
  const answerAll = async (): Promise<number> => {
    let count = 0;
    for (let m = dialog.pendingModify; m; m = dialog.pendingModify) {
      m.respond(200);
      count++;
      await flush();
    }
    return count;
  };
  return { clock, port, dialog, answerAll };
}

const tone = (count: number, first: number, last: number): AnnouncementNote => ({
  kind: 'reminder-tone',
  target: 'all',
  result: 'played',
  phase: 'mid-call',
  media: 'tone',
  start: first,
  end: last + 200,
  last,
  count,
  intervalSeconds: 10,
});

for (const dialect of ['rfc7865', 'broadworks'] as const) {
  describe(`SiprecRecordingPort announcements, ${dialect} dialect (R-31)`, () => {
    it('MUST send each announcement in an update when it happens, and ONE reminder-tone entry whose final count is in the final document (R-19, R-32)', async () => {
      const { clock, port, dialog, answerAll } = await established(dialect);
      const t0 = clock.now();
      const anns = (xml: string) => parseMetadata(xml).sessions[0]!.announcements ?? [];

      port.announcement({ kind: 'pause', target: 'all', result: 'played', phase: 'mid-call', media: 'beep', start: t0 + 1000, end: t0 + 1340 });
      await flush();
      expect(anns(dialog.modifies.at(-1)!.metadata).map((a) => a.kind)).toEqual(['pause']);
      await answerAll();

      const before = dialog.modifies.length;
      port.announcement(tone(1, t0 + 10_000, t0 + 10_000));
      await flush();
      expect(dialog.modifies.length, 'the first play is an update of its own').toBe(before + 1);
      const update = dialog.modifies.at(-1)!.metadata;
      expect(validateMetadata(update, { dialect })).toEqual([]);
      expect(anns(update).filter((a) => a.kind === 'reminder-tone')).toEqual([expect.objectContaining({ count: 1, intervalSeconds: 10, start: t0 + 10_000, last: t0 + 10_000 })]);
      await answerAll();

      port.announcement(tone(2, t0 + 10_000, t0 + 20_000));
      port.announcement(tone(3, t0 + 10_000, t0 + 30_000));
      await flush();
      expect(dialog.modifies.length, 'later plays send nothing of their own').toBe(before + 1);

      port.announcement({ kind: 'stop', target: 'all', result: 'skipped', phase: 'mid-call', reason: 'compliancePrecedence' });
      await flush();
      await answerAll();
      clock.advance(1000);
      const stopping = port.stop();
      await flush();
      await answerAll();
      await stopping;
      const final = dialog.modifies.at(-1)!.metadata;
      expect(validateMetadata(final, { dialect })).toEqual([]);
      expect(parseMetadata(final).sessions[0]!.stopTime).toBeDefined();
      const entries = anns(final);
      expect(entries.map((a) => `${a.kind}:${a.result}`)).toEqual(['pause:played', 'reminder-tone:played', 'stop:skipped']);
      expect(entries[1]).toMatchObject({ count: 3, start: t0 + 10_000, last: t0 + 30_000, end: t0 + 30_200, intervalSeconds: 10 });
      expect(entries[2]).toMatchObject({ reason: 'compliancePrecedence' });
      expect(dialog.byeCount).toBe(1);
    });
  });
}
