import { describe, expect, it } from 'vitest';
import {
  getHeader, getHeaderList, getTag, parseAppSip, parseNameAddr, parseSipMessage, parseSipUri, parseVia,
  serializeSipMessage, splitHeaderList, withTag,
} from '../../../src/engine/sip-message.js';

const INVITE = [
  'INVITE sip:svc@127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1-0',
  'From: sipp <sip:sipp@127.0.0.1:5080>;tag=abc',
  'To: <sip:svc@127.0.0.1:5060>',
  'Call-ID: 1-1@127.0.0.1',
  'CSeq: 1 INVITE',
  'Contact: <sip:sipp@127.0.0.1:5080>',
  'Max-Forwards: 70',
  'Content-Type: application/sdp',
  'Content-Length: 9',
  '',
  'v=0\r\no=é',
].join('\r\n');

describe('SIP parser (docs/engine.md item B8)', () => {
  it('parses a request with its headers and a UTF-8 body sized in bytes', () => {
    const r = parseSipMessage(Buffer.from(INVITE));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.msg.method).toBe('INVITE');
    expect(r.msg.uri).toBe('sip:svc@127.0.0.1:5060');
    expect(r.msg.body).toBe('v=0\r\no=é');
    expect(getTag(getHeader(r.msg, 'from'))).toBe('abc');
  });

  it('round-trips parse -> serialize byte for byte for a canonical message', () => {
    const r = parseSipMessage(Buffer.from(INVITE));
    expect(r.ok && serializeSipMessage(r.msg)).toBe(INVITE);
  });

  it('expands compact header forms and accepts folded lines and LF-only line ends', () => {
    const text = 'OPTIONS sip:a@b SIP/2.0\nv: SIP/2.0/TCP h;branch=z9hG4bKx\nf: <sip:x@y>;tag=1\nt: <sip:a@b>\ni: cid\nCSeq: 2\n OPTIONS\nl: 0\n\n';
    const r = parseSipMessage(Buffer.from(text));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(getHeader(r.msg, 'call-id')).toBe('cid');
    expect(getHeader(r.msg, 'cseq')).toBe('2 OPTIONS');
    expect(parseVia(getHeader(r.msg, 'via') ?? '')?.transport).toBe('TCP');
  });

  it('splits multi-valued headers outside quotes and brackets', () => {
    expect(splitHeaderList('<sip:a;lr>, "x, y" <sip:b>')).toEqual(['<sip:a;lr>', '"x, y" <sip:b>']);
    const text = INVITE.replace('Max-Forwards: 70', 'Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\nRecord-Route: <sip:p3;lr>');
    const r = parseSipMessage(Buffer.from(text));
    expect(r.ok && getHeaderList(r.msg, 'record-route')).toEqual(['<sip:p1;lr>', '<sip:p2;lr>', '<sip:p3;lr>']);
  });

  it('parses a response and takes the method from CSeq', () => {
    const r = parseSipMessage(Buffer.from('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h:1;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n'));
    expect(r.ok).toBe(true);
    if (r.ok) expect([r.msg.status, r.msg.reason, r.msg.method]).toEqual([180, 'Ringing', 'INVITE']);
  });

  const bad: Array<[string, string]> = [
    ['garbage', '\x00\x01\x02garbage'],
    ['bad start line', 'HELLO\r\n\r\n'],
    ['missing Call-ID', INVITE.replace('Call-ID: 1-1@127.0.0.1\r\n', '')],
    ['bad CSeq', INVITE.replace('CSeq: 1 INVITE', 'CSeq: one INVITE')],
    ['CSeq method mismatch', INVITE.replace('CSeq: 1 INVITE', 'CSeq: 1 BYE')],
    ['missing Via', INVITE.replace(/Via: [^\r]*\r\n/, '')],
    ['Content-Length beyond the datagram', INVITE.replace('Content-Length: 9', 'Content-Length: 900')],
    ['non-numeric Content-Length', INVITE.replace('Content-Length: 9', 'Content-Length: 9x')],
    ['header without colon', INVITE.replace('Max-Forwards: 70', 'Max-Forwards 70')],
    ['bad status code', 'SIP/2.0 99 Nope\r\n\r\n'],
  ];
  for (const [name, text] of bad) {
    it(`MUST NOT throw and MUST report an error for malformed input: ${name}`, () => {
      const r = parseSipMessage(Buffer.from(text, 'latin1'));
      expect(r.ok).toBe(false);
    });
  }

  it('keeps enough of a message with a bad CSeq method to answer 400 when core headers parse', () => {
    const r = parseSipMessage(Buffer.from(INVITE.replace('CSeq: 1 INVITE', 'CSeq: 1 BYE')));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.msg?.method).toBe('INVITE');
  });
});

describe('header value helpers', () => {
  it('parses Via with rport, received and IPv6 sent-by', () => {
    const v = parseVia('SIP/2.0/UDP [::1]:5062;rport;branch=z9hG4bKabc;received=10.0.0.1');
    expect(v).toMatchObject({ transport: 'UDP', host: '[::1]', port: 5062, branch: 'z9hG4bKabc' });
    expect(v?.params).toContainEqual(['rport', '']);
  });

  it('parses name-addr and addr-spec forms; tag params belong to the header', () => {
    expect(parseNameAddr('"A, B" <sip:a@b;transport=tcp>;tag=1')).toEqual({ display: '"A, B"', uri: 'sip:a@b;transport=tcp', params: ';tag=1' });
    expect(parseNameAddr('sip:a@b;tag=2')).toEqual({ display: '', uri: 'sip:a@b', params: ';tag=2' });
    expect(withTag('<sip:a@b>', 'x')).toBe('<sip:a@b>;tag=x');
  });

  it('parses sip URIs with port and params', () => {
    expect(parseSipUri('sip:bob@127.0.0.1:5070;transport=TCP')).toMatchObject({ user: 'bob', host: '127.0.0.1', port: 5070, params: [['transport', 'TCP']] });
    expect(parseSipUri('sip:placeholder')?.host).toBe('placeholder');
    expect(parseSipUri('http://x')).toBeUndefined();
  });

  it('parses the SIP part of an app frame without requiring core headers', () => {
    const r = parseAppSip('SIP/2.0 200 OK\r\ncseq: 1 INVITE\r\nX-App: uas\r\nContent-Length: 3\r\n\r\nv=0é');
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.msg.body).toBe('v=0é');
      expect(getHeader(r.msg, 'x-app')).toBe('uas');
      expect(getHeader(r.msg, 'content-length')).toBeUndefined();
    }
  });
});

describe('header injection guards (finding 2)', () => {
  it('MUST reject a NUL or a bare CR inside a header value, keeping the headers for a 400', () => {
    for (const bad of ['Subject: x\0y', 'Subject: hi\rX-Injected: yes']) {
      const r = parseSipMessage(Buffer.from(INVITE.replace('Max-Forwards: 70', bad), 'latin1'));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.msg && getHeader(r.msg, 'call-id')).toBe('1-1@127.0.0.1');
    }
  });
});
