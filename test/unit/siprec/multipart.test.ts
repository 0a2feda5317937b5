import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import {
  RS_METADATA_LEGACY_CONTENT_TYPE,
  buildSiprecBody,
  chooseBoundary,
  parseContentType,
  parseMultipartMixed,
  parseSiprecBody,
} from '../../../src/siprec/index.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const XML = '<?xml version="1.0" encoding="UTF-8"?>\n<recording xmlns="urn:ietf:params:xml:ns:recording:1"/>\n';

describe('SIPREC multipart/mixed bodies (RFC 7866 section 9, RFC 2046)', () => {
  it('builds SDP then metadata with Content-Disposition: recording-session and CRLF delimiters', () => {
    const { contentType, body } = buildSiprecBody({ sdp: SDP, metadata: XML, boundary: 'uniqueBoundary-abc' });
    expect(contentType).toBe('multipart/mixed;boundary=uniqueBoundary-abc');
    expect(body).toBe(
      '--uniqueBoundary-abc\r\nContent-Type: application/sdp\r\n\r\n' + SDP + '\r\n' +
        '--uniqueBoundary-abc\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n' + XML + '\r\n' +
        '--uniqueBoundary-abc--\r\n',
    );
  });

  it('round-trips both parts exactly', () => {
    const built = buildSiprecBody({ sdp: SDP, metadata: XML, boundary: 'b1' });
    const parsed = parseSiprecBody(built.contentType, built.body);
    expect(parsed.sdp).toBe(SDP);
    expect(parsed.metadata).toBe(XML);
    expect(parsed.metadataMediaType).toBe('application/rs-metadata+xml');
  });

  it('switches to the legacy application/rs-metadata type on request', () => {
    const built = buildSiprecBody({ sdp: SDP, metadata: XML, boundary: 'b1', metadataContentType: RS_METADATA_LEGACY_CONTENT_TYPE });
    expect(built.body).toContain('Content-Type: application/rs-metadata\r\n');
    expect(parseSiprecBody(built.contentType, built.body).metadataMediaType).toBe('application/rs-metadata');
  });

  it('accepts quoted boundaries, LF-only line ends, a preamble and an epilogue', () => {
    const body = 'preamble\n--xyz\ncontent-type: application/sdp\n\nv=0\n\n--xyz\nContent-Type: application/rs-metadata+xml;charset=utf-8\nContent-Disposition: recording-session;handling=required\n\n<a/>\n--xyz--\nepilogue';
    const parsed = parseSiprecBody('multipart/mixed; boundary="xyz"', body);
    expect(parsed.sdp).toBe('v=0\n');
    expect(parsed.metadata).toBe('<a/>');
  });

  it('refuses a body without closing delimiter or without boundary parameter', () => {
    const bad = (ct: string, body: string): boolean => {
      try {
        parseMultipartMixed(ct, body);
        return false;
      } catch (err) {
        return isAppError(err, 'SIPREC_MULTIPART_MALFORMED');
      }
    };
    expect(bad('multipart/mixed;boundary=q', '--q\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n')).toBe(true);
    expect(bad('multipart/mixed', '--q\r\n\r\nx\r\n--q--\r\n')).toBe(true);
    expect(bad('multipart/mixed;boundary=q', 'no delimiter at all')).toBe(true);
  });

  it('does not mistake a longer boundary-prefixed line for the delimiter', () => {
    const parts = parseMultipartMixed('multipart/mixed;boundary=q', '--q\r\n\r\nline\r\n--qq not a delimiter\r\n--q--\r\n');
    expect(parts).toHaveLength(1);
    expect(parts[0]!.body).toBe('line\r\n--qq not a delimiter');
  });

  it('chooses a boundary that occurs in no part', () => {
    const b = chooseBoundary('rec 1', [{ body: '--uniqueBoundary-rec1 inside' }]);
    expect(b.startsWith('uniqueBoundary-rec1')).toBe(true);
    expect('--uniqueBoundary-rec1 inside'.includes(`--${b}`)).toBe(false);
  });

  it('reads lone SDP and lone snapshot-request bodies', () => {
    expect(parseSiprecBody('application/sdp', SDP).sdp).toBe(SDP);
    expect(parseSiprecBody('application/rs-metadata-request', '<x/>').metadataRequest).toBe('<x/>');
    expect(parseContentType('Multipart/Mixed ; boundary="a;b"').params.get('boundary')).toBe('a;b');
  });
});
