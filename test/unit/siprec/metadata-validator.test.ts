import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { assertValidMetadata, validateMetadata } from '../../../src/siprec/index.js';

const golden = readFileSync(new URL('../../fixtures/siprec/metadata-final.xml', import.meta.url), 'utf8');
const broken = (from: string | RegExp, to: string): string => {
  const out = golden.replace(from, to);
  expect(out).not.toBe(golden);
  return out;
};
const messages = (xml: string): string => validateMetadata(xml).map((i) => `${i.path}: ${i.message}`).join('\n');

describe('validateMetadata (RFC 7865 structural rules)', () => {
  it('accepts the golden final snapshot', () => {
    expect(validateMetadata(golden)).toEqual([]);
  });

  it('rejects hyphenated UUID ids', () => {
    const xml = broken(/2a3OYhkUSjq\/YXVWwLUaVw==/g, 'd9adce86-1914-4a3a-bf61-7556c0b51a57');
    expect(messages(xml)).toMatch(/session_id 'd9adce86-1914-4a3a-bf61-7556c0b51a57' is not a base64 16-byte id/);
  });

  it('rejects base64 ids that do not hold 16 bytes', () => {
    expect(messages(broken('group_id="E3LTPjB+TVCwmMEUjLS7Xw=="', 'group_id="E3LTPjB+TVCw=="'))).toMatch(/group_id .* not a base64 16-byte id/);
  });

  it('rejects +0000 time offsets and times without timezone', () => {
    expect(messages(broken('<stop-time>2025-03-04T10:21:40.000Z</stop-time>', '<stop-time>2025-03-04T10:21:40.000+0000</stop-time>'))).toMatch(/not an xs:dateTime/);
    expect(messages(broken('<start-time>2025-03-04T10:15:02.120Z</start-time>', '<start-time>2025-03-04T10:15:02.120</start-time>'))).toMatch(/not an xs:dateTime/);
    expect(messages(broken('start="2025-03-04T10:15:02.300Z"', 'start="2025-03-04 10:15:02"'))).toMatch(/start .* not an xs:dateTime/);
  });

  it('rejects elements out of the schema order', () => {
    const streamBlock = /  <stream stream_id="yQwWETlMRkSHb3bXudickA==[\s\S]*?<\/stream>\n/.exec(golden)![0];
    const xml = golden.replace(streamBlock, '').replace('  <group ', `${streamBlock}  <group `);
    expect(messages(xml)).toMatch(/out of order/);
    expect(messages(broken('<datamode>complete</datamode>\n', '').replace('</group>\n', '</group>\n  <datamode>complete</datamode>\n'))).toMatch(/<datamode> out of order/);
  });

  it('rejects RFC elements after an extension element', () => {
    const xml = broken('    <b2b:call ', '    <b2b:call x="1"/>\n    <start-time>2025-03-04T10:15:02.120Z</start-time>\n    <b2b:call ');
    expect(messages(xml)).toMatch(/after an extension element|at most 1/);
  });

  it('rejects dangling references (stream session, participantstreamassoc stream and participant, group-ref)', () => {
    expect(messages(broken('<send>yQwWETlMRkSHb3bXudickA==</send>', '<send>AAAAAAAAAAAAAAAAAAAAAA==</send>'))).toMatch(/send stream AAAAAAAAAAAAAAAAAAAAAA== does not resolve/);
    expect(messages(broken('stream_id="Sg+b1TOLSJ2jt/x4i+cE5A==" session_id="2a3OYhkUSjq/YXVWwLUaVw=="', 'stream_id="Sg+b1TOLSJ2jt/x4i+cE5A==" session_id="AAAAAAAAAAAAAAAAAAAAAA=="'))).toMatch(/stream session_id .* does not resolve/);
    expect(messages(broken('<participantstreamassoc participant_id="q83vEjRWeJCrze8SNFZ4kA==">', '<participantstreamassoc participant_id="BBBBBBBBBBBBBBBBBBBBBA==">'))).toMatch(/participant_id .* does not resolve/);
    expect(messages(broken('<group-ref>E3LTPjB+TVCwmMEUjLS7Xw==</group-ref>', '<group-ref>CCCCCCCCCCCCCCCCCCCCCA==</group-ref>'))).toMatch(/group-ref .* does not resolve/);
  });

  it('rejects missing required attributes and elements', () => {
    expect(messages(broken('<stream stream_id="yQwWETlMRkSHb3bXudickA==" session_id="2a3OYhkUSjq/YXVWwLUaVw==">', '<stream stream_id="yQwWETlMRkSHb3bXudickA==">'))).toMatch(/lacks required attribute session_id/);
    expect(messages(broken('    <label>1</label>\n', ''))).toMatch(/lacks required <label>/);
    expect(messages(broken('<nameID aor="sip:bob@pbx.acme.example">', '<nameID>'))).toMatch(/nameID lacks aor/);
  });

  it('rejects a wrong datamode, an unknown RFC element, a wrong namespace and duplicate ids', () => {
    expect(messages(broken('<datamode>complete</datamode>', '<datamode>Complete</datamode>'))).toMatch(/datamode 'Complete'/);
    expect(messages(broken('    <label>2</label>', '    <label>2</label>\n    <mode>separate</mode>'))).toMatch(/unknown element <mode>/);
    expect(messages(broken('xmlns="urn:ietf:params:xml:ns:recording:1"', 'xmlns="urn:ietf:params:xml:ns:recording"'))).toMatch(/root must be/);
    expect(messages(broken('participant_id="q83vEjRWeJCrze8SNFZ4kA==">\n    <nameID', 'participant_id="9+IeICMeTSCEAfOKo5v9lA==">\n    <nameID'))).toMatch(/duplicate participant_id/);
  });

  it('rejects bad announcement records in our extension (R-31)', () => {
    expect(messages(broken('kind="reminder-tone"', 'kind="jingle"'))).toMatch(/announcement kind 'jingle'/);
    expect(messages(broken('result="skipped"', 'result="maybe"'))).toMatch(/announcement result 'maybe'/);
  });

  it('reports malformed XML as one issue and assertValidMetadata throws with a code', () => {
    expect(validateMetadata('<recording><datamode>')).toHaveLength(1);
    try {
      assertValidMetadata(golden.replace('<datamode>complete</datamode>', '<datamode>x</datamode>'));
      expect.unreachable();
    } catch (err) {
      expect(isAppError(err, 'SIPREC_METADATA_INVALID')).toBe(true);
    }
  });

  it('does not resolve references in partial documents (they point at earlier snapshots)', () => {
    const partial = '<?xml version="1.0"?><recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>partial</datamode>' +
      '<participantstreamassoc participant_id="9+IeICMeTSCEAfOKo5v9lA=="><send>yQwWETlMRkSHb3bXudickA==</send></participantstreamassoc></recording>';
    expect(validateMetadata(partial)).toEqual([]);
  });
});
