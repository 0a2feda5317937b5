import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMetadata, serializeMetadata, validateMetadata, type RecordingMetadataModel } from '../../../src/siprec/index.js';
import { finalModel, initialModel, lostStartModel, midCallModel, silentStreamModel, transferredModel } from './metadata-fixture.js';

const fixtureUrl = (name: string): URL => new URL(`../../fixtures/siprec/${name}`, import.meta.url);
const fixture = (name: string): string => readFileSync(fixtureUrl(name), 'utf8');

const cases: Array<[string, () => RecordingMetadataModel, 'rfc7865' | 'broadworks']> = [
  ['metadata-initial.xml', initialModel, 'rfc7865'],
  ['metadata-mid-call.xml', midCallModel, 'rfc7865'],
  ['metadata-transferred.xml', transferredModel, 'rfc7865'],
  ['metadata-final.xml', finalModel, 'rfc7865'],
  ['metadata-silent-stream.xml', silentStreamModel, 'rfc7865'],
  ['metadata-lost-start.xml', lostStartModel, 'rfc7865'],
  ['metadata-initial-broadworks.xml', initialModel, 'broadworks'],
];

describe('serializeMetadata (RFC 7865 complete snapshots)', () => {
  for (const [file, build, dialect] of cases) {
    it(`matches the golden file ${file} byte for byte`, () => {
      // UPDATE_GOLDEN=1 rewrites the fixture (on purpose only; review the diff).
      if (process.env.UPDATE_GOLDEN) writeFileSync(fixtureUrl(file), serializeMetadata(build(), { dialect }));
      expect(serializeMetadata(build(), { dialect })).toBe(fixture(file));
    });
    it(`produces a structurally valid document for ${file}`, () => {
      expect(validateMetadata(serializeMetadata(build(), { dialect }), { dialect })).toEqual([]);
    });
    it(`round-trips ${file}: parse -> serialize gives the same bytes and model`, () => {
      const xml = fixture(file);
      const parsed = parseMetadata(xml);
      if (dialect === 'broadworks') expect(parsed).toEqual(build());
      else {
        const expected = build();
        delete expected.broadWorks; // the strict dialect does not carry the block
        expect(parsed).toEqual(expected);
      }
      expect(serializeMetadata(parsed, { dialect })).toBe(xml);
    });
  }

  it('keeps the schema element order of <recording> children', () => {
    const xml = serializeMetadata(finalModel());
    const order = ['datamode', 'group', 'session', 'participant', 'stream', 'sessionrecordingassoc', 'participantsessionassoc', 'participantstreamassoc'];
    const firsts = order.map((n) => xml.indexOf(`\n  <${n}`));
    expect(firsts.every((p) => p > 0)).toBe(true);
    expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
  });

  it('writes ids as base64 of 16 bytes and times as UTC with milliseconds and Z', () => {
    const xml = serializeMetadata(initialModel());
    for (const m of xml.matchAll(/_id="([^"]+)"/g)) expect(Buffer.from(m[1]!, 'base64')).toHaveLength(16);
    for (const m of xml.matchAll(/<[a-z-]*time>([^<]+)</g)) expect(m[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('records every announcement with kind, target, times, language and result (R-31)', () => {
    const model = parseMetadata(serializeMetadata(midCallModel()));
    const anns = model.sessions[0]!.announcements!;
    expect(anns.map((a) => `${a.kind}:${a.result}`)).toEqual(['compliance:played', 'start:skipped', 'pause:played', 'resume:played', 'reminder-tone:played']);
    expect(anns[0]).toMatchObject({ target: 'pstn', language: 'de', phase: 'pre-answer' });
    expect(anns[1]!.reason).toBe('precedence-compliance');
  });

  it('carries the platform information with external type BroadWorks (R-33)', () => {
    const user = parseMetadata(serializeMetadata(initialModel())).participants[1]!;
    expect(user.platform).toEqual({ serviceProvider: 'acme-sp', externalGroup: 'acme-berlin', externalIdentifier: 'alice@acme.example', externalType: 'BroadWorks' });
  });

  it('emits the BroadWorks block only in the broadworks dialect (R-41)', () => {
    expect(serializeMetadata(initialModel())).not.toContain('broadWorksRecordingMetadata');
    const xml = serializeMetadata(initialModel(), { dialect: 'broadworks' });
    expect(xml).toContain('<broadWorksRecordingMetadata xmlns="http://schema.broadsoft.com/broadworksCallRecording" version="3.0">');
    // the draft-era document BroadWorks platforms send, not an RFC 7865 <recording> (metadata-broadworks.test.ts)
    expect(xml).toContain('<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"');
    expect(validateMetadata(xml)).not.toEqual([]); // strict RFC validation refuses it
  });

  it('escapes markup in names and attributes', () => {
    const m = initialModel();
    m.participants[1]!.nameIds[0]!.names[0]!.text = 'A & B <ops> "x"';
    m.sessions[0]!.call!.tenant = 'a"b<c>&';
    const back = parseMetadata(serializeMetadata(m));
    expect(back.participants[1]!.nameIds[0]!.names[0]!.text).toBe('A & B <ops> "x"');
    expect(back.sessions[0]!.call!.tenant).toBe('a"b<c>&');
  });

  it('omits the extension namespace declaration when no extension is used', () => {
    const m = initialModel();
    delete m.sessions[0]!.call;
    delete m.sessions[0]!.announcements;
    delete m.participants[1]!.platform;
    const xml = serializeMetadata(m);
    expect(xml).not.toContain('xmlns:b2b');
    expect(validateMetadata(xml)).toEqual([]);
  });
});

describe('parseMetadata reads the spec examples', () => {
  it('reads the complete example with its announcement extension', () => {
    const m = parseMetadata(fixture('spec-example-complete.xml'));
    expect(m.datamode).toBe('complete');
    expect(m.streams.map((s) => s.label)).toEqual(['1', '2']);
    expect(m.participants[0]!.nameIds[0]!.aor).toBe('sip:+4930123456@trunk.carrier.example');
    expect(m.sessions[0]!.announcements![0]).toMatchObject({ kind: 'compliance', target: 'pstn', result: 'played', start: Date.UTC(2025, 2, 4, 10, 15, 2, 300) });
    expect(m.sessions[0]!.call).toEqual({ direction: 'inbound', trunkCallId: 'a84b4c76e66710@gw1.carrier.example', tenant: 'acme', location: 'berlin-hq', recordingMode: 'always-pause-resume' });
    expect(validateMetadata(fixture('spec-example-complete.xml'))).toEqual([]);
  });

  it('reads the partial example (stop-time and disassociate-times)', () => {
    const m = parseMetadata(fixture('spec-example-partial.xml'));
    expect(m.datamode).toBe('partial');
    expect(m.sessions[0]!.stopTime).toBe(Date.UTC(2025, 2, 4, 10, 21, 40));
    expect(m.participantSessionAssocs.every((a) => a.disassociateTime === Date.UTC(2025, 2, 4, 10, 21, 40))).toBe(true);
    expect(validateMetadata(fixture('spec-example-partial.xml'))).toEqual([]);
  });
});
