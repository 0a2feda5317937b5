import { describe, expect, it } from 'vitest';
import { parseSiprecBody, parseRecordingSdp, validateMetadata } from '../../../../src/siprec/index.js';
import { buildRecordingBody, initialInviteHeaders, reinviteHeaders, srcContact } from '../../../../src/siprec/client/recording-request.js';
import { clientModel } from './session-fixture.js';

const media = { address: '192.0.2.10', ports: { label1: 30000, label2: 30002 } };

describe('recording request builders (RFC 7866 sections 6.1.1, 8.1.1, 9)', () => {
  it('puts Require: siprec, the +sip.src Contact and the Accept list on the initial INVITE, keeping extra headers', () => {
    expect(initialInviteHeaders('src', 'udp', { 'Session-ID': 'abc' })).toEqual({
      'Session-ID': 'abc',
      Require: 'siprec',
      Contact: '<sip:src@localhost>;+sip.src',
      Accept: 'application/sdp, application/rs-metadata-request',
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
