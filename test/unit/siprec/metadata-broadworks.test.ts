import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  endPause,
  finaliseRecordingMetadata,
  metadataFromElement,
  parseMetadata,
  parseXml,
  recordAnnouncement,
  recordMediaProblem,
  replaceParticipant,
  serializeMetadata,
  startPause,
  validateMetadata,
  type RecordingMetadataModel,
  type XmlElement,
} from '../../../src/siprec/index.js';
import { SIPREC_DRAFT_NS, serializeBroadWorksMetadata } from '../../../src/siprec/metadata-broadworks.js';
import { parseBroadWorksMetadata } from '../../../src/siprec/metadata-broadworks-parser.js';
import { validateBroadWorksMetadata } from '../../../src/siprec/metadata-broadworks-validator.js';
import { isDraftEraSrcContact, isRfcSrcContact } from '../../../src/siprec/metadata-broadworks-headers.js';
import { IDS, at, initialModel } from './metadata-fixture.js';

const fixtureUrl = (name: string): URL => new URL(`../../fixtures/siprec/${name}`, import.meta.url);
const fixture = (name: string): string => readFileSync(fixtureUrl(name), 'utf8');
const BW_NS = 'http://schema.broadsoft.com/broadworksCallRecording';

/** A whole call in the broadworks dialect: announcements played and skipped, a pause, a silent stream, a transfer, the end. */
function finalBroadWorksModel(): RecordingMetadataModel {
  const m = initialModel();
  recordAnnouncement(m, { kind: 'start', target: 'pstn', result: 'skipped', reason: 'precedence-compliance' });
  startPause(m, at(60_000));
  recordAnnouncement(m, { kind: 'pause', target: 'all', media: 'beep', phase: 'mid-call', start: at(60_010), end: at(60_210), result: 'played' });
  endPause(m, at(90_000));
  recordAnnouncement(m, { kind: 'resume', target: 'all', media: 'beep', phase: 'mid-call', start: at(90_010), end: at(90_210), result: 'played' });
  recordMediaProblem(m, { kind: 'silent-stream', label: '2', reason: 'hijack', since: at(100_000), detected: at(105_000), dropped: 250, sdp: '192.0.2.2:4000', source: '198.51.100.7:4000' });
  replaceParticipant(m, IDS.user, { id: IDS.transferTarget, aor: 'sip:bob@pbx.acme.example', name: 'Bob Agent' }, at(200_000));
  recordAnnouncement(m, { kind: 'stop', target: 'pstn', media: 'stop-de.wav', phase: 'mid-call', language: 'de', start: at(397_000), end: at(397_800), result: 'played' });
  finaliseRecordingMetadata(m, at(397_880));
  return m;
}

const cases: Array<[string, () => RecordingMetadataModel]> = [
  ['metadata-initial-broadworks.xml', initialModel],
  ['metadata-final-broadworks.xml', finalBroadWorksModel],
];

const rfcChildren = (el: XmlElement, name?: string): XmlElement[] => el.children.filter((c) => c.ns === SIPREC_DRAFT_NS && (name === undefined || c.name === name));

describe('broadworks dialect: the draft-era <recording_metadata> document (R-41)', () => {
  for (const [file, build] of cases) {
    it(`MUST match the golden file ${file} byte for byte`, () => {
      // UPDATE_GOLDEN=1 rewrites this file's fixtures (on purpose only; review the diff).
      if (process.env.UPDATE_GOLDEN) writeFileSync(fixtureUrl(file), serializeMetadata(build(), { dialect: 'broadworks' }));
      expect(serializeMetadata(build(), { dialect: 'broadworks' })).toBe(fixture(file));
    });

    it(`MUST round-trip ${file}: parse gives the model back, serialize gives the same bytes`, () => {
      const xml = fixture(file);
      const parsed = parseMetadata(xml);
      expect(parsed).toEqual(build());
      expect(serializeBroadWorksMetadata(parsed)).toBe(xml);
    });

    it(`MUST be structurally valid by the draft-era rules: ${file}`, () => {
      const xml = fixture(file);
      expect(validateBroadWorksMetadata(xml)).toEqual([]);
      expect(validateMetadata(xml, { dialect: 'broadworks' })).toEqual([]);
      // it is not an RFC 7865 document: the strict validator refuses it
      expect(validateMetadata(xml)).not.toEqual([]);
    });
  }

  it('MUST have the shape BroadWorks captures show: root, dataMode first, parent references, stream mode, the block in an extensiondata of the session', () => {
    const root = parseXml(fixture('metadata-final-broadworks.xml'));
    expect([root.ns, root.name]).toEqual([SIPREC_DRAFT_NS, 'recording_metadata']);
    expect(root.children[0]!.name).toBe('dataMode');
    const recording = rfcChildren(root, 'recording')[0]!;
    expect(rfcChildren(recording).map((c) => `${c.name}=${c.text}`)).toEqual(['requestor=SRC', 'type=selective']);
    expect(rfcChildren(root, 'group')[0]!.attrs.get('recording')).toBe(recording.attrs.get('id'));
    const session = rfcChildren(root, 'session')[0]!;
    expect(session.attrs.get('group')).toBe(IDS.group);
    for (const p of rfcChildren(root, 'participant')) {
      expect(p.attrs.get('session')).toBe(IDS.session);
      expect(rfcChildren(p, 'aor')).toHaveLength(1);
      for (const s of rfcChildren(p, 'send')) expect(rfcChildren(s, 'id').length).toBeGreaterThan(0);
    }
    for (const s of rfcChildren(root, 'stream')) {
      expect(s.attrs.get('session')).toBe(IDS.session);
      expect(rfcChildren(s, 'mode')[0]!.text).toBe('separate');
    }
    // no RFC 7865 association elements, no element of the RFC 7865 namespace
    expect(root.children.map((c) => c.name).filter((n) => n.endsWith('assoc'))).toEqual([]);
    const everything = (el: XmlElement): XmlElement[] => [el, ...el.children.flatMap(everything)];
    expect(everything(root).filter((e) => e.ns === 'urn:ietf:params:xml:ns:recording:1')).toEqual([]);
    const exts = rfcChildren(root, 'extensiondata');
    const bw = exts.find((e) => e.children.some((c) => c.ns === BW_NS && c.name === 'broadWorksRecordingMetadata'))!;
    expect(bw.attrs.get('parent')).toBe(IDS.session);
    expect(bw.children[0]!.attrs.get('version')).toBe('3.0');
    // the extensions come after every draft element, and each has its own id
    const firstExt = root.children.findIndex((c) => c.name === 'extensiondata');
    expect(root.children.slice(firstExt).every((c) => c.name === 'extensiondata')).toBe(true);
    expect(new Set(exts.map((e) => e.attrs.get('id'))).size).toBe(exts.length);
  });

  it('MUST carry the session facts, announcements, pauses, media problems and platform information as extensiondata', () => {
    const m = parseMetadata(fixture('metadata-final-broadworks.xml'));
    const s = m.sessions[0]!;
    expect(s.sipSessionIds).toEqual(['ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2']);
    expect(s.call).toMatchObject({ direction: 'inbound', tenant: 'acme', recordingMode: 'always-pause-resume' });
    expect(s.announcements!.map((a) => `${a.kind}:${a.result}`)).toEqual(['compliance:played', 'start:skipped', 'pause:played', 'resume:played', 'stop:played']);
    expect(s.pauses).toEqual([{ start: at(60_000), end: at(90_000) }]);
    expect(s.mediaProblems![0]).toMatchObject({ label: '2', reason: 'hijack', dropped: 250 });
    expect(m.participants.map((p) => p.nameIds[0]!.aor)).toEqual(['sip:+4930123456@trunk.carrier.example', 'sip:alice@pbx.acme.example', 'sip:bob@pbx.acme.example']);
    expect(m.participants[1]!.platform?.externalType).toBe('BroadWorks');
    expect(m.participantSessionAssocs.find((a) => a.participantId === IDS.user)?.disassociateTime).toBe(at(200_000));
  });

  it('MUST carry every announcement field the rfc7865 dialect writes, optional reminder fields included', () => {
    const m = initialModel();
    const entry = recordAnnouncement(m, { kind: 'reminder-tone', target: 'all', phase: 'mid-call', start: at(15_000), end: at(15_300), result: 'played' });
    // whatever optional fields the record type has grown (reminder interval, count, last play)
    Object.assign(entry, { intervalSeconds: 15, count: 3, last: at(45_000) });
    const line = (xml: string): string => xml.split('\n').find((l) => l.includes('kind="reminder-tone"'))!.trim();
    const rfc = line(serializeMetadata(m));
    expect(line(serializeMetadata(m, { dialect: 'broadworks' }))).toBe(rfc);
    expect(parseMetadata(serializeMetadata(m, { dialect: 'broadworks' })).sessions[0]!.announcements).toEqual(parseMetadata(serializeMetadata(m)).sessions[0]!.announcements);
  });

  it('MUST leave the rfc7865 dialect unchanged and schema-valid', () => {
    expect(serializeMetadata(initialModel())).toBe(fixture('metadata-initial.xml'));
    expect(serializeMetadata(initialModel(), { dialect: 'rfc7865' })).toBe(fixture('metadata-initial.xml'));
    expect(validateMetadata(fixture('metadata-initial.xml'))).toEqual([]);
  });

  it('MUST read a document as a BroadWorks platform writes it (urn:uuid ids, one stream per send, offsets, no extensions)', () => {
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"><dataMode>complete</dataMode>',
      '<recording id="urn:uuid:00000000-0000-4000-8000-000000000001"><requestor>SRC</requestor><type>selective</type></recording>',
      '<group id="urn:uuid:00000000-0000-4000-8000-000000000002" recording="urn:uuid:00000000-0000-4000-8000-000000000001"><initiator>sip:2001@as.example</initiator></group>',
      '<session id="urn:uuid:00000000-0000-4000-8000-000000000003" group="urn:uuid:00000000-0000-4000-8000-000000000002"><start-time>2024-05-06T09:10:11-04:00</start-time></session>',
      '<participant id="urn:uuid:00000000-0000-4000-8000-000000000004" session="urn:uuid:00000000-0000-4000-8000-000000000003"><aor>sip:2001@as.example</aor><send><id>urn:uuid:00000000-0000-4000-8000-000000000006</id></send></participant>',
      '<participant id="urn:uuid:00000000-0000-4000-8000-000000000005" session="urn:uuid:00000000-0000-4000-8000-000000000003"><aor>sip:+15550100@as.example;user=phone</aor><send><id>urn:uuid:00000000-0000-4000-8000-000000000007</id></send></participant>',
      '<stream id="urn:uuid:00000000-0000-4000-8000-000000000006" session="urn:uuid:00000000-0000-4000-8000-000000000003"><label>1</label><mode>separate</mode></stream>',
      '<stream id="urn:uuid:00000000-0000-4000-8000-000000000007" session="urn:uuid:00000000-0000-4000-8000-000000000003"><label>2</label><mode>separate</mode></stream>',
      '<extensiondata id="urn:uuid:00000000-0000-4000-8000-000000000008" parent="urn:uuid:00000000-0000-4000-8000-000000000003">',
      '<broadWorksRecordingMetadata xmlns="http://schema.broadsoft.com/broadworksCallRecording" version="1.0"><extTrackingID>77:1</extTrackingID>',
      '<serviceProviderID>sp-1</serviceProviderID><groupID>grp-1</groupID><userID>2001@as.example</userID><callID>callhalf-1:0</callID>',
      '<callType><origCall><callingPartyNumber>sip:2001@as.example</callingPartyNumber><calledPartyNumber>sip:+15550100@as.example</calledPartyNumber></origCall></callType>',
      '<recordingType>on</recordingType></broadWorksRecordingMetadata></extensiondata></recording_metadata>',
    ].join('');
    expect(validateBroadWorksMetadata(xml)).toEqual([]);
    const m = parseBroadWorksMetadata(xml);
    expect(metadataFromElement(parseXml(xml))).toEqual(m);
    expect(m.sessions[0]).toEqual({ id: 'urn:uuid:00000000-0000-4000-8000-000000000003', sipSessionIds: [], groupRefs: ['urn:uuid:00000000-0000-4000-8000-000000000002'], startTime: Date.UTC(2024, 4, 6, 13, 10, 11) });
    expect(m.participants.map((p) => p.nameIds[0]!.aor)).toEqual(['sip:2001@as.example', 'sip:+15550100@as.example;user=phone']);
    expect(m.participantStreamAssocs.map((a) => a.send)).toEqual([['urn:uuid:00000000-0000-4000-8000-000000000006'], ['urn:uuid:00000000-0000-4000-8000-000000000007']]);
    expect(m.streams.map((s) => s.label)).toEqual(['1', '2']);
    expect(m.broadWorks).toMatchObject({ version: '1.0', serviceProviderId: 'sp-1', callType: 'origCall', recordingType: 'on' });
  });

  it('MUST report documents that break the draft-era rules', () => {
    const good = fixture('metadata-initial-broadworks.xml');
    const issues = (xml: string): string[] => validateBroadWorksMetadata(xml).map((i) => i.message);
    expect(issues(good.replace('<dataMode>complete</dataMode>', '<dataMode>everything</dataMode>')).join()).toContain('not complete|partial');
    expect(issues(good.replace(`parent="${IDS.user}"`, 'parent="nowhere"')).join()).toContain('does not resolve');
    expect(issues(good.replace('<label>2</label>', '<label>1</label>')).join()).toContain('duplicate stream label');
    expect(issues(good.replace('<mode>separate</mode>', '<mode>stereo</mode>')).join()).toContain('separate|mixed');
    expect(issues(good.replace(/<callType>[^]*<\/callType>/, '')).join()).toContain('lacks <callType>');
    expect(issues(good.replace('kind="compliance"', 'kind="jingle"')).join()).toContain("kind 'jingle'");
    const session = /\n {2}<session [^]*?<\/session>\n/.exec(good)![0];
    expect(issues(good.replace(session, '\n').replace('</recording_metadata>', `${session.trim()}\n</recording_metadata>`)).join()).toContain('out of order');
    expect(issues(good.replace('<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"', '<recording_metadata xmlns="urn:example:other"'))).toHaveLength(1);
  });
});

describe('draft-era SRC Contact (R-41)', () => {
  it('MUST tell the BroadWorks ;src Contact from the RFC 7866 +sip.src one', () => {
    expect(isDraftEraSrcContact('<sip:+4420@192.0.2.1:5060;transport=udp>;src')).toBe(true);
    expect(isDraftEraSrcContact('"A" <sip:a@h;src>')).toBe(false); // a URI parameter is not the header parameter
    expect(isDraftEraSrcContact('<sip:src@192.0.2.1>;+sip.src')).toBe(false);
    expect(isDraftEraSrcContact(undefined)).toBe(false);
    expect(isRfcSrcContact('<sip:src@192.0.2.1>;+sip.src')).toBe(true);
    expect(isRfcSrcContact('<sip:x@192.0.2.1>;src')).toBe(false);
  });
});
