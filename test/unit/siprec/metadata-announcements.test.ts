import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseMetadata,
  recordReminderTone,
  serializeMetadata,
  validateMetadata,
  type MetadataDialect,
  type RecordingMetadataModel,
} from '../../../src/siprec/index.js';
import { announcementsFinalModel, announcementsUpdateModel, playedStopModel } from './metadata-announcements-fixture.js';
import { at, initialModel } from './metadata-fixture.js';

const fixtureUrl = (name: string): URL => new URL(`../../fixtures/siprec/${name}`, import.meta.url);
const fixture = (name: string): string => readFileSync(fixtureUrl(name), 'utf8');
const anns = (m: RecordingMetadataModel) => m.sessions[0]!.announcements ?? [];
const strict = (m: RecordingMetadataModel): RecordingMetadataModel => {
  delete m.broadWorks; // the rfc7865 dialect does not carry the BroadWorks block
  return m;
};

const goldens: Array<[string, () => RecordingMetadataModel]> = [
  ['metadata-announcements-update.xml', announcementsUpdateModel],
  ['metadata-announcements-final.xml', announcementsFinalModel],
];

describe('announcement entries in the metadata (R-31, R-19)', () => {
  for (const [file, build] of goldens) {
    it(`matches the golden file ${file} byte for byte, valid and round-tripping`, () => {
      // UPDATE_GOLDEN=1 rewrites the fixture (on purpose only; review the diff).
      if (process.env.UPDATE_GOLDEN) writeFileSync(fixtureUrl(file), serializeMetadata(build()));
      const xml = fixture(file);
      expect(serializeMetadata(build())).toBe(xml);
      expect(validateMetadata(xml)).toEqual([]);
      expect(parseMetadata(xml)).toEqual(strict(build()));
      expect(serializeMetadata(parseMetadata(xml))).toBe(xml);
    });
  }

  it('MUST carry every kind, played and skipped with its reason, in the final document (R-31)', () => {
    const final = parseMetadata(fixture('metadata-announcements-final.xml'));
    expect(anns(final).map((a) => `${a.kind}:${a.result}${a.reason ? `:${a.reason}` : ''}`)).toEqual([
      'compliance:played',
      'start:skipped:compliancePrecedence',
      'pause:played',
      'resume:played',
      'reminder-tone:played',
      'stop:skipped:compliancePrecedence',
    ]);
  });

  it('MUST keep ONE reminder-tone entry per recording with interval, count, first and last play (R-19)', () => {
    const update = anns(parseMetadata(fixture('metadata-announcements-update.xml'))).filter((a) => a.kind === 'reminder-tone');
    expect(update).toEqual([expect.objectContaining({ count: 1, intervalSeconds: 10, start: at(36_400), last: at(36_400) })]);
    const final = anns(parseMetadata(fixture('metadata-announcements-final.xml'))).filter((a) => a.kind === 'reminder-tone');
    expect(final).toEqual([expect.objectContaining({ id: update[0]!.id, count: 3, intervalSeconds: 10, start: at(36_400), last: at(56_400), end: at(56_600) })]);
    expect(fixture('metadata-announcements-final.xml')).toMatch(/<b2b:announcement id="5" kind="reminder-tone" [^>]*last="[^"]+" count="3" intervalSeconds="10" result="played"\/>/);
  });

  it('recordReminderTone adds the entry once, then only refreshes it; a skipped tone is an entry of its own', () => {
    const m = initialModel();
    const play = (count: number, lastMs: number) =>
      recordReminderTone(m, { kind: 'reminder-tone', target: 'all', start: at(10_000), last: at(lastMs), count, intervalSeconds: 10, result: 'played' });
    expect(play(1, 10_000)).toBe('added');
    expect(play(2, 20_000)).toBe('updated');
    expect(play(3, 30_000)).toBe('updated');
    expect(anns(m).filter((a) => a.kind === 'reminder-tone')).toEqual([expect.objectContaining({ count: 3, last: at(30_000), start: at(10_000) })]);
    expect(recordReminderTone(m, { kind: 'reminder-tone', target: 'all', result: 'skipped', reason: 'failed' })).toBe('added');
    expect(anns(m).filter((a) => a.kind === 'reminder-tone').map((a) => a.result)).toEqual(['played', 'skipped']);
  });

  it('records a stop that is about to play with its start and no end (R-15: it plays after the fork stopped)', () => {
    const xml = serializeMetadata(playedStopModel());
    expect(validateMetadata(xml)).toEqual([]);
    const stop = anns(parseMetadata(xml)).find((a) => a.kind === 'stop')!;
    expect(stop).toEqual({ id: '2', kind: 'stop', target: 'all', media: 'recording-stopped', phase: 'mid-call', language: 'en-US', start: at(30_000), result: 'played' });
  });

  for (const dialect of ['rfc7865', 'broadworks'] as MetadataDialect[]) {
    it(`MUST carry the same announcement entries, reminder count and stop in the ${dialect} dialect (R-31, R-41)`, () => {
      const model = announcementsFinalModel();
      const xml = serializeMetadata(model, { dialect });
      expect(validateMetadata(xml, { dialect })).toEqual([]);
      expect(anns(parseMetadata(xml))).toEqual(anns(model));
    });
  }

  it('refuses a reminder count or interval that is not a positive integer, and a last play that is not a time', () => {
    const xml = fixture('metadata-announcements-final.xml');
    const issues = (from: string, to: string): string => {
      const broken = xml.replace(from, to);
      expect(broken).not.toBe(xml);
      return validateMetadata(broken).map((i) => i.message).join('\n');
    };
    expect(issues('count="3"', 'count="0"')).toMatch(/count '0' is not a positive integer/);
    expect(issues('intervalSeconds="10"', 'intervalSeconds="ten"')).toMatch(/intervalSeconds 'ten' is not a positive integer/);
    expect(issues('last="2025-03-04T10:15:58.520Z"', 'last="yesterday"')).toMatch(/last 'yesterday' is not an xs:dateTime/);
  });
});
