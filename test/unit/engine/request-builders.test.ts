import { describe, expect, it } from 'vitest';
import {
  buildAckForNon2xx, buildAppResponse, buildCancel, buildInDialogRequest, buildNewRequest, contentTypeFor,
} from '../../../src/engine/request-builders.js';
import { parseAppSip, parseSipText, serializeSipMessage, type SipMessage } from '../../../src/engine/sip-message.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n';
const app = (text: string): SipMessage => {
  const r = parseAppSip(text);
  if (!r.ok) throw new Error(r.error);
  return r.msg;
};
const net = (text: string): SipMessage => {
  const r = parseSipText(text);
  if (!r.ok) throw new Error(r.error);
  return r.msg;
};
const lines = (...l: string[]): string => l.join('\r\n');

const INVITE_IN = lines(
  'INVITE sip:svc@127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1-0;rport=5080',
  'Record-Route: <sip:proxy.example;lr>',
  'From: sipp <sip:sipp@127.0.0.1:5080>;tag=30637SIPpTag001',
  'To: <sip:svc@127.0.0.1:5060>',
  'Call-ID: 1-30637@127.0.0.1',
  'CSeq: 1 INVITE',
  'Contact: <sip:sipp@127.0.0.1:5080>',
  'Content-Type: application/sdp',
  `Content-Length: ${SDP.length}`,
  '',
  SDP,
);

describe('request builders (golden output, docs/engine.md protocol section 6)', () => {
  it('builds an out-of-dialog INVITE from srf createUAC input like drachtio-server does (E21)', () => {
    const built = buildNewRequest(
      app(lines('INVITE sip:bob@127.0.0.1:5070 SIP/2.0', 'From: sip:alice@example.com', 'X-Test: uac', `Content-Length: ${SDP.length}`, '', SDP)),
      { via: 'SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKb1', hostport: '127.0.0.1:5060', contact: '<sip:127.0.0.1:5060>', callId: 'cid-1', cseq: 123206169, fromTag: 'ftag' },
    );
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(serializeSipMessage(built.msg)).toBe(lines(
      'INVITE sip:bob@127.0.0.1:5070 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKb1',
      'Max-Forwards: 70',
      'From: <sip:alice@example.com>;tag=ftag',
      'To: <sip:bob@127.0.0.1:5070>',
      'Call-ID: cid-1',
      'CSeq: 123206169 INVITE',
      'Contact: <sip:127.0.0.1:5060>',
      'Content-Type: application/sdp',
      `Content-Length: ${SDP.length}`,
      'X-Test: uac',
      '',
      SDP,
    ));
  });

  it('defaults From to our address, replaces @localhost, and refuses a non-SDP body without Content-Type', () => {
    const built = buildNewRequest(app(lines('OPTIONS sip:a@127.0.0.1:5071 SIP/2.0', 'To: <sip:a@localhost>', 'Content-Length: 0', '', '')), {
      via: 'SIP/2.0/UDP h:1;rport;branch=z9hG4bKx', hostport: '127.0.0.1:5060', contact: '<sip:127.0.0.1:5060>', callId: 'c', cseq: 5, fromTag: 't',
    });
    expect(built.ok && serializeSipMessage(built.msg)).toContain('From: <sip:127.0.0.1:5060>;tag=t\r\nTo: <sip:a@127.0.0.1:5060>\r\n');
    expect(built.ok && serializeSipMessage(built.msg)).not.toContain('Contact:');
    const bad = buildNewRequest(app(lines('MESSAGE sip:a@b SIP/2.0', '', 'hello')), {
      via: 'v', hostport: 'h:1', contact: 'c', callId: 'c', cseq: 1, fromTag: 't',
    });
    expect(bad).toEqual({ ok: false, error: 'missing content-type' });
    expect(contentTypeFor([], '')).toEqual({ ok: true, value: undefined });
  });

  it('builds the 200 OK to an INVITE from the stored request plus the app headers (F28, E20)', () => {
    const built = buildAppResponse(
      net(INVITE_IN),
      app(lines('SIP/2.0 200 OK', 'Call-ID: 1-30637@127.0.0.1', 'cseq: 1 INVITE', 'Via: SIP/2.0/UDP evil', 'Content-Length: 3', 'X-App: uas', '', SDP)),
      { toTag: 'totag', contact: '<sip:127.0.0.1:5060>', hostport: '127.0.0.1:5060', rseq: undefined, sessionExpires: undefined },
    );
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(serializeSipMessage(built.msg)).toBe(lines(
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1-0;rport=5080',
      'From: sipp <sip:sipp@127.0.0.1:5080>;tag=30637SIPpTag001',
      'To: <sip:svc@127.0.0.1:5060>;tag=totag',
      'Call-ID: 1-30637@127.0.0.1',
      'CSeq: 1 INVITE',
      'Record-Route: <sip:proxy.example;lr>',
      'Contact: <sip:127.0.0.1:5060>',
      'Content-Type: application/sdp',
      `Content-Length: ${SDP.length}`,
      'X-App: uas',
      '',
      SDP,
    ));
  });

  it('adds RSeq for a reliable 1xx and Session-Expires + Require: timer for a 2xx when asked', () => {
    const rel = buildAppResponse(net(INVITE_IN), app(lines('SIP/2.0 183 Session Progress', 'Require: 100rel', '', '')), {
      toTag: 't', contact: '<sip:h:1>', hostport: 'h:1', rseq: 7, sessionExpires: undefined,
    });
    expect(rel.ok && serializeSipMessage(rel.msg)).toMatch(/Contact: <sip:h:1>\r\nRSeq: 7\r\nContent-Length: 0\r\nRequire: 100rel\r\n/);
    const st = buildAppResponse(net(INVITE_IN), app(lines('SIP/2.0 200 OK', '', '')), {
      toTag: 't', contact: undefined, hostport: 'h:1', rseq: undefined, sessionExpires: { name: 'session-expires', value: '1800;refresher=uac' }, requireTimer: true,
    });
    expect(st.ok && serializeSipMessage(st.msg)).toMatch(/Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n/);
  });

  it('builds CANCEL with the INVITE top Via, To without tag and CSeq number (D18)', () => {
    const cancel = buildCancel(net(INVITE_IN.replace('Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1-0;rport=5080', 'Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKme')), [{ name: 'reason', value: 'SIP;cause=487' }]);
    expect(serializeSipMessage(cancel)).toBe(lines(
      'CANCEL sip:svc@127.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKme',
      'Max-Forwards: 70',
      'From: sipp <sip:sipp@127.0.0.1:5080>;tag=30637SIPpTag001',
      'To: <sip:svc@127.0.0.1:5060>',
      'Call-ID: 1-30637@127.0.0.1',
      'CSeq: 1 CANCEL',
      'Content-Length: 0',
      'Reason: SIP;cause=487',
      '',
      '',
    ));
  });

  it('builds the ACK for a non-2xx with the To-tag of the response (D16)', () => {
    const resp = net(lines('SIP/2.0 486 Busy Here', 'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1-0', 'From: <sip:a@b>;tag=1', 'To: <sip:svc@127.0.0.1:5060>;tag=busy', 'Call-ID: x', 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''));
    const ack = serializeSipMessage(buildAckForNon2xx(net(INVITE_IN), resp));
    expect(ack).toMatch(/^ACK sip:svc@127\.0\.0\.1:5060 SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:5080;branch=z9hG4bK-1-0;rport=5080\r\n/);
    expect(ack).toContain('To: <sip:svc@127.0.0.1:5060>;tag=busy\r\n');
    expect(ack).toContain('CSeq: 1 ACK\r\n');
  });

  it('builds an in-dialog request with route set, tags, CSeq and Contact for re-INVITE (E22)', () => {
    const d = { callId: 'cid', localParty: '<sip:a@h>;tag=L', remoteParty: '<sip:b@r>;tag=R', routeSet: ['<sip:p1;lr>', '<sip:p2;lr>'], localContact: '<sip:h:1>' };
    const info = serializeSipMessage(buildInDialogRequest(d, { method: 'INFO', uri: 'sip:b@10.0.0.2', cseq: 11, via: 'SIP/2.0/UDP h:1;rport;branch=z9hG4bKi', appHeaders: [{ name: 'content-type', value: 'application/dtmf-relay' }], body: 'Signal=1\r\n' }));
    expect(info).toBe(lines(
      'INFO sip:b@10.0.0.2 SIP/2.0', 'Via: SIP/2.0/UDP h:1;rport;branch=z9hG4bKi', 'Max-Forwards: 70', 'From: <sip:a@h>;tag=L', 'To: <sip:b@r>;tag=R',
      'Call-ID: cid', 'CSeq: 11 INFO', 'Route: <sip:p1;lr>', 'Route: <sip:p2;lr>', 'Content-Type: application/dtmf-relay', 'Content-Length: 10', '', 'Signal=1\r\n',
    ));
    const reinvite = serializeSipMessage(buildInDialogRequest(d, { method: 'INVITE', uri: 'sip:b@10.0.0.2', cseq: 12, via: 'v', appHeaders: [], body: SDP }));
    expect(reinvite).toContain('Contact: <sip:h:1>\r\nContent-Type: application/sdp\r\n');
  });
});
