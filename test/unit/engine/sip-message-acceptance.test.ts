/**
 * The parser's acceptance rules where the app's parser (drachtio-srf) would read the bytes
 * differently (engine findings 10-14): reject what RFC 3261 forbids, and hand on a CRLF message
 * with `SIP/2.0` for what it allows. drachtio-srf's own parser is the oracle for "the app can
 * parse what it gets".
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { getHeader, parseSipMessage, type ParseResult } from '../../../src/engine/sip-message.js';

interface SrfParsed {
  method?: string;
  uri?: string;
  status?: number;
  headers: Record<string, string>;
  body?: string;
}
const srfParser = createRequire(import.meta.url)('drachtio-srf/lib/sip-parser/parser.js') as {
  parseSipMessage(s: string, lazy: boolean): SrfParsed | undefined;
};

const OPTIONS = [
  'OPTIONS sip:probe@127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-acc-1;rport',
  'Max-Forwards: 70',
  'From: <sip:fuzz@127.0.0.1:5080>;tag=f1',
  'To: <sip:probe@127.0.0.1:5060>',
  'Call-ID: acc-1@127.0.0.1',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const parse = (text: string): ParseResult => parseSipMessage(Buffer.from(text, 'latin1'));

/** A rejected message that still identifies the request, so the engine can answer 400. */
function expectAnswerableReject(r: ParseResult, error: RegExp): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error).toMatch(error);
  expect(r.msg?.method).toBe('OPTIONS');
  expect(r.msg && getHeader(r.msg, 'call-id')).toBe('acc-1@127.0.0.1');
  expect(r.msg && getHeader(r.msg, 'via')).toContain('z9hG4bK-acc-1');
}

/** What the engine hands on (wire form or input) parses in srf to the same request. */
function expectSrfReadsSame(input: Buffer, r: ParseResult): void {
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  const sent = (r.wire ?? input).toString('utf8');
  const srf = srfParser.parseSipMessage(sent, true);
  expect(srf, sent).toBeDefined();
  expect({ method: srf?.method, uri: srf?.uri, callId: srf?.headers['call-id'], cseq: srf?.headers.cseq })
    .toEqual({ method: r.msg.method, uri: r.msg.uri, callId: getHeader(r.msg, 'call-id'), cseq: getHeader(r.msg, 'cseq') });
}

describe('SIP parser acceptance rules (engine findings 10-14, RFC 3261 sections 7 and 25.1)', () => {
  it('control: a canonical request is accepted without a copy (no wire form) and srf reads it the same', () => {
    const buf = Buffer.from(OPTIONS, 'latin1');
    const r = parseSipMessage(buf);
    expect(r.ok && r.wire).toBeUndefined();
    expectSrfReadsSame(buf, r);
  });

  describe('finding 10: the header section MUST end with an empty line (RFC 3261 section 7), on UDP too', () => {
    it('MUST reject a datagram that stops after the last header line, keeping the request for a 400', () => {
      expectAnswerableReject(parse(OPTIONS.replace(/\r\n\r\n$/, '\r\n')), /empty line/);
      expectAnswerableReject(parse(OPTIONS.replace('Content-Length: 0\r\n\r\n', '')), /empty line/);
    });

    it('MUST reject a datagram without any line end after the last header', () => {
      expectAnswerableReject(parse(OPTIONS.replace(/\r\n\r\n$/, '')), /empty line/);
    });

    it('MUST still accept a UDP request without Content-Length when the empty line is there (body = rest)', () => {
      const r = parse(OPTIONS.replace('Content-Length: 0\r\n', ''));
      expect(r.ok).toBe(true);
    });
  });

  describe('finding 11: a header name is a token; only SP/HTAB count as whitespace around it', () => {
    it('MUST reject a header name preceded by a UTF-8 BOM (String.trim() would strip U+FEFF)', () => {
      expectAnswerableReject(parse(OPTIONS.replace('\r\nMax-Forwards:', '\r\n\xef\xbb\xbfMax-Forwards:')), /bad header name/);
    });

    it('MUST reject a header name with NBSP or U+2028 next to it', () => {
      expectAnswerableReject(parse(OPTIONS.replace('Max-Forwards:', 'Max-Forwards\xc2\xa0:')), /bad header name/);
      expectAnswerableReject(parse(OPTIONS.replace('\r\nMax-Forwards:', '\r\n\xe2\x80\xa8Max-Forwards:')), /bad header name/);
    });

    it('MUST accept SP/HTAB between the name and the colon (HCOLON) and trim only SP/HTAB from values', () => {
      const r = parse(OPTIONS.replace('Max-Forwards: 70', 'Max-Forwards \t: \t70 ').replace('CSeq: 1 OPTIONS', 'CSeq: 1 OPTIONS\r\nSubject: \xc2\xa0x'));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(getHeader(r.msg, 'max-forwards')).toBe('70');
      expect(getHeader(r.msg, 'subject')).toBe('\u00a0x');
    });
  });

  describe('finding 12: line ends follow the start line; no bare CR or LF in the header section', () => {
    it('MUST reject a bare LF starting a header line inside a CRLF message', () => {
      expectAnswerableReject(parse(OPTIONS.replace('\r\nCSeq:', '\r\n\nCSeq:')), /control character/);
    });

    it('MUST reject a bare LF inside a header value of a CRLF message', () => {
      expectAnswerableReject(parse(OPTIONS.replace('CSeq: 1 OPTIONS', 'CSeq: 1 OPTIONS\r\nSubject: a\nX-Injected: b')), /control character/);
    });

    it('MUST reject a CR inside an LF-only message', () => {
      const lf = OPTIONS.replace(/\r\n/g, '\n');
      const r = parse(lf.replace('\nCSeq:', '\r\nCSeq:'));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatch(/control character/);
    });

    it('MUST accept an LF-only message and hand it on with CRLF line ends, body bytes unchanged', () => {
      const body = 'v=0\r\no=\xc3\xa9\n';
      const lf = OPTIONS.replace(/\r\n/g, '\n').replace('Content-Length: 0', `Content-Length: ${body.length}`) + body;
      const input = Buffer.from(lf, 'latin1');
      const r = parseSipMessage(input);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const expected = Buffer.from(lf.slice(0, lf.indexOf('\n\n')).replace(/\n/g, '\r\n') + '\r\n\r\n' + body, 'latin1');
      expect(r.wire?.equals(expected)).toBe(true);
      expectSrfReadsSame(input, r);
    });
  });

  describe('finding 13: SIP-Version is case-insensitive (RFC 3261 section 7.1) and handed on as SIP/2.0', () => {
    it('MUST accept a lower- or mixed-case version and hand on the same bytes with SIP/2.0', () => {
      for (const version of ['sip/2.0', 'Sip/2.0', 'sIp/2.0']) {
        const input = Buffer.from(OPTIONS.replace(' SIP/2.0\r\n', ` ${version}\r\n`), 'latin1');
        const copy = Buffer.from(input);
        const r = parseSipMessage(input);
        expect(r.ok).toBe(true);
        if (!r.ok) continue;
        expect(r.wire?.toString('latin1')).toBe(OPTIONS);
        expect(input.equals(copy)).toBe(true); // the input buffer is not modified
        expectSrfReadsSame(input, r);
      }
    });

    it('MUST reject a version that only matches after Unicode case mapping, or another version', () => {
      for (const version of ['S\xc4\xb1P/2.0', '\xc5\xbfIP/2.0', 'SIP/2.1', 'SIP/2.0 ']) {
        expectAnswerableReject(parse(OPTIONS.replace(' SIP/2.0\r\n', ` ${version}\r\n`)), /bad request line/);
      }
    });
  });

  describe('finding 14: the Request-URI is visible ASCII only (RFC 3261 section 25.1)', () => {
    it('MUST reject control characters and raw 8-bit bytes in the Request-URI, keeping the request for a 400', () => {
      for (const bad of ['pro\x0cbe\x01\xe9\xff', 'pro\x7fbe', 'pro\tbe', 'pro\xc3\xa9be']) {
        expectAnswerableReject(parse(OPTIONS.replace('OPTIONS sip:probe@', `OPTIONS sip:${bad}@`)), /bad Request-URI/);
      }
    });

    it('MUST reject a bare CR inside the request line', () => {
      expectAnswerableReject(parse(OPTIONS.replace('OPTIONS sip:probe@', 'OPTIONS sip:probe@\r\r')), /bad (Request-URI|request line)/);
    });

    it('MUST accept escaped octets and every other visible ASCII character in the Request-URI', () => {
      const buf = Buffer.from(OPTIONS.replace('OPTIONS sip:probe@', "OPTIONS sip:pro%E9be;x=<>[]{}|^~`'\"!*@"), 'latin1');
      const r = parseSipMessage(buf);
      expect(r.ok && r.msg.uri).toBe("sip:pro%E9be;x=<>[]{}|^~`'\"!*@127.0.0.1:5060");
      expectSrfReadsSame(buf, r);
    });
  });
});
