import { describe, expect, it } from 'vitest';
import { parseMetadata, parseMultipartMixed, parseSiprecBody, parseRecordingSdp, validateMetadata } from '../../../../src/siprec/index.js';
import { buildRecordingBody, initialInviteHeaders, reinviteHeaders, srcContact } from '../../../../src/siprec/client/recording-request.js';
import { clientModel } from './session-fixture.js';

const media = { address: '192.0.2.10', ports: { label1: 30000, label2: 30002 } };

describe('recording request builders (RFC 7866 sections 6.1.1, 8.1.1, 9)', () => {
  it('puts Require: siprec, a From with a user part, Supported, the +sip.src Contact and the Accept list on the initial INVITE, keeping extra headers', () => {
    expect(initialInviteHeaders('src', 'udp', { 'Session-ID': 'abc' })).toEqual({
      'Session-ID': 'abc',
      From: '<sip:src@localhost>',
      Require: 'siprec',
      Supported: 'timer, 100rel',
      Contact: '<sip:src@localhost>;+sip.src',
      Accept: 'application/sdp, application/rs-metadata+xml, application/rs-metadata-request, multipart/mixed',
    });
    expect(reinviteHeaders('rec', 'tcp')).toEqual({ Contact: '<sip:rec@localhost;transport=tcp>;+sip.src' });
    expect(srcContact('src', 'tls')).toBe('<sip:src@localhost;transport=tls>;+sip.src');
  });

  it('builds the multipart body: labelled sendonly/inactive m-lines on the given ports and a valid complete snapshot', () => {
    const body = buildRecordingBody({
      media,
      srtp: false,
      sdpSessionId: '77',
      sdpVersion: 3,
      direction: 'inactive',
      metadata: clientModel(Date.UTC(2025, 0, 1)),
      dialect: 'rfc7865',
      legacyMetadataContentType: false,
      boundarySeed: 'rec-9',
    });
    expect(body.contentType).toBe('multipart/mixed;boundary=uniqueBoundary-rec-9');
    const parsed = parseSiprecBody(body.contentType, body.body);
    const sdp = parseRecordingSdp(parsed.sdp!);
    expect(sdp.origin).toMatchObject({ sessionId: '77', version: '3', address: '192.0.2.10' });
    expect(sdp.streams.map((s) => [s.label, s.port, s.direction])).toEqual([
      ['1', 30000, 'inactive'],
      ['2', 30002, 'inactive'],
    ]);
    expect(parsed.metadataMediaType).toBe('application/rs-metadata+xml');
    expect(validateMetadata(parsed.metadata!)).toEqual([]);
  });

  it('MUST send the BroadWorks shape in the broadworks dialect: no Require, a ;src Contact, the metadata part first (R-41)', () => {
    const headers = initialInviteHeaders('siprec-src', 'tcp', {}, 'broadworks');
    expect(headers.Require).toBeUndefined();
    expect(headers.Contact).toBe('<sip:siprec-src@localhost;transport=tcp>;src');
    expect(headers.From).toBe('<sip:siprec-src@localhost>');
    expect(headers.Supported).toBe('timer, 100rel');
    expect(reinviteHeaders('siprec-src', 'udp', 'broadworks')).toEqual({ Contact: '<sip:siprec-src@localhost>;src' });
    const input = { media, srtp: false, sdpSessionId: '5', sdpVersion: 0, direction: 'sendonly' as const, metadata: clientModel(0), legacyMetadataContentType: false, boundarySeed: 'bw' };
    const bw = buildRecordingBody({ ...input, dialect: 'broadworks' });
    const parts = parseMultipartMixed(bw.contentType, bw.body);
    expect(parts.map((p) => p.mediaType)).toEqual(['application/rs-metadata+xml', 'application/sdp']);
    expect(parts[0]!.disposition).toBe('recording-session');
    expect(parts[0]!.body).toContain('<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"');
    expect(validateMetadata(parts[0]!.body, { dialect: 'broadworks' })).toEqual([]);
    // the rfc7865 dialect keeps SDP first
    const rfc = buildRecordingBody({ ...input, dialect: 'rfc7865' });
    expect(parseMultipartMixed(rfc.contentType, rfc.body).map((p) => p.mediaType)).toEqual(['application/sdp', 'application/rs-metadata+xml']);
    // either order reads the same
    expect(parseSiprecBody(bw.contentType, bw.body).sdp).toBe(parseSiprecBody(rfc.contentType, rfc.body).sdp);
    // and the legacy metadata type is read as well (what older BroadWorks-era servers expect)
    const legacy = buildRecordingBody({ ...input, dialect: 'broadworks', legacyMetadataContentType: true });
    const read = parseSiprecBody(legacy.contentType, legacy.body);
    expect(read.metadataMediaType).toBe('application/rs-metadata');
    expect(parseMetadata(read.metadata!).streams.map((st) => st.label)).toEqual(['1', '2']);
  });

  it('switches to the legacy application/rs-metadata type when asked', () => {
    const body = buildRecordingBody({
      media,
      srtp: false,
      sdpSessionId: '1',
      sdpVersion: 0,
      direction: 'sendonly',
      metadata: clientModel(0),
      dialect: 'rfc7865',
      legacyMetadataContentType: true,
      boundarySeed: 'x',
    });
    expect(parseSiprecBody(body.contentType, body.body).metadataMediaType).toBe('application/rs-metadata');
  });
});
