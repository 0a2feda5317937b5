import { describe, expect, it } from 'vitest';
import { bestFinal, buildProxiedRequest, redirectTargets, viaHop, withoutTopVia } from '../../../src/engine/proxy-messages.js';
import { parseProxyTimeout, parseProxyTokens } from '../../../src/engine/proxy-options.js';
import { isTerminatingNotify, subscriptionSeconds } from '../../../src/engine/subscription-dialogs.js';
import { parseSipText, serializeSipMessage, type SipMessage } from '../../../src/engine/sip-message.js';

const lines = (...l: string[]): string => l.join('\r\n');
const net = (text: string): SipMessage => {
  const r = parseSipText(text);
  if (!r.ok) throw new Error(r.error);
  return r.msg;
};

const INVITE = lines(
  'INVITE sip:svc@127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1-0;rport=5080',
  'Max-Forwards: 70',
  'Route: <sip:127.0.0.1:5060;lr>, <sip:edge.example;lr>',
  'Record-Route: <sip:upstream.example;lr>',
  'From: sipp <sip:sipp@127.0.0.1:5080>;tag=a1',
  'To: <sip:svc@127.0.0.1:5060>',
  'Call-ID: c1@127.0.0.1',
  'CSeq: 1 INVITE',
  'Contact: <sip:sipp@127.0.0.1:5080>',
  'X-Tenant: old',
  'Content-Length: 0',
  '',
  '',
);

describe('proxy frame (srf req.proxy -> engine)', () => {
  it("MUST read srf's proxy leader: flags, timeouts and every destination", () => {
    const r = parseProxyTokens(['m1', 'proxy', 'txn1', 'remainInDialog', 'fullResponse', '', 'simultaneous', '2s', '1500ms', 'sip:a@h', 'sip:b@h']);
    expect(r).toEqual({
      ok: true,
      options: {
        txnId: 'txn1', recordRoute: true, fullResponse: true, followRedirects: false, simultaneous: true,
        provisionalTimeoutMs: 2000, finalTimeoutMs: 1500, destinations: ['sip:a@h', 'sip:b@h'],
      },
    });
  });

  it('MUST refuse a proxy frame without destination and ignore timeouts in a bad syntax (as drachtio-server)', () => {
    expect(parseProxyTokens(['m1', 'proxy', 'txn1', '', 'fullResponse', '', 'serial', '', '']).ok).toBe(false);
    expect(parseProxyTimeout('3 seconds')).toBeUndefined();
    expect(parseProxyTimeout('')).toBeUndefined();
    expect(parseProxyTimeout('250ms')).toBe(250);
  });
});

describe('proxied request (RFC 3261 section 16.6)', () => {
  it('MUST add its Via on top, decrement Max-Forwards, drop the Route naming it, add Record-Route above the others and apply the app headers', () => {
    const out = buildProxiedRequest(net(INVITE), {
      via: 'SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKp1',
      requestUri: 'sip:callee@10.0.0.2:5070',
      recordRoute: '<sip:127.0.0.1:5060;lr>',
      dropFirstRoute: true,
      appHeaders: [{ name: 'x-tenant', value: 'new' }, { name: 'via', value: 'SIP/2.0/UDP evil' }],
    });
    expect(serializeSipMessage(out)).toBe(
      lines(
        'INVITE sip:callee@10.0.0.2:5070 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKp1',
        'Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1-0;rport=5080',
        'Max-Forwards: 69',
        'Route: <sip:edge.example;lr>',
        'Record-Route: <sip:127.0.0.1:5060;lr>',
        'Record-Route: <sip:upstream.example;lr>',
        'From: sipp <sip:sipp@127.0.0.1:5080>;tag=a1',
        'To: <sip:svc@127.0.0.1:5060>',
        'Call-ID: c1@127.0.0.1',
        'CSeq: 1 INVITE',
        'Contact: <sip:sipp@127.0.0.1:5080>',
        'Content-Length: 0',
        'X-Tenant: new',
        '',
        '',
      ),
    );
  });

  it('MUST set Max-Forwards 70 when the request has none', () => {
    const req = net(INVITE.replace('Max-Forwards: 70\r\n', ''));
    const out = buildProxiedRequest(req, { via: 'SIP/2.0/UDP h:1;branch=z9hG4bKx', requestUri: req.uri, recordRoute: undefined, dropFirstRoute: false, appHeaders: [] });
    expect(out.headers[1]).toEqual({ name: 'max-forwards', value: '70' });
  });
});

describe('responses through the proxy (RFC 3261 section 16.7)', () => {
  it('MUST remove only its own Via item, whether the Vias share a header line or not', () => {
    const joined = net(lines('SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP p:5060;branch=z9hG4bKp, SIP/2.0/UDP c:5080;branch=z9hG4bKc', 'From: <sip:a@h>;tag=1', 'To: <sip:b@h>;tag=2', 'Call-ID: x', 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''));
    expect(withoutTopVia(joined).headers.filter((h) => h.name === 'via')).toEqual([{ name: 'via', value: 'SIP/2.0/UDP c:5080;branch=z9hG4bKc' }]);
  });

  it('MUST pick a 6xx first, else the lowest class, with the challenge-type 4xx preferred (step 6)', () => {
    expect(bestFinal([486, 603, 302])).toBe(1);
    expect(bestFinal([503, 486])).toBe(1);
    expect(bestFinal([404, 407])).toBe(1);
    expect(bestFinal([486, 302])).toBe(1);
    expect(bestFinal([480, 486])).toBe(0);
    expect(bestFinal([])).toBe(-1);
  });

  it('MUST send a stray response to the received/rport of the next Via', () => {
    expect(viaHop('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKc;received=192.0.2.1;rport=40000')).toEqual({ protocol: 'udp', host: '192.0.2.1', port: 40000 });
    expect(viaHop('SIP/2.0/TCP 10.0.0.5;branch=z9hG4bKc')).toEqual({ protocol: 'tcp', host: '10.0.0.5', port: 5060 });
  });

  it('MUST take the Contacts of a 3xx in order as further destinations', () => {
    const r = net(lines('SIP/2.0 302 Moved', 'Via: SIP/2.0/UDP p:5060;branch=z9hG4bKp', 'From: <sip:a@h>;tag=1', 'To: <sip:b@h>;tag=2', 'Call-ID: x', 'CSeq: 1 INVITE', 'Contact: <sip:one@h1>;q=0.5, <sip:two@h2>', 'Content-Length: 0', '', ''));
    expect(redirectTargets(r)).toEqual(['sip:one@h1', 'sip:two@h2']);
  });
});

describe('subscriptions (RFC 6665)', () => {
  const sub = (extra: string): SipMessage =>
    net(lines('SUBSCRIBE sip:p@h SIP/2.0', 'Via: SIP/2.0/UDP c:5080;branch=z9hG4bKs', 'From: <sip:a@h>;tag=1', 'To: <sip:p@h>', 'Call-ID: s', 'CSeq: 1 SUBSCRIBE', extra, 'Content-Length: 0', '', ''));
  it("MUST take the subscription's duration from the 2xx's Expires, else the request's", () => {
    const ok = (expires: string): SipMessage => net(lines('SIP/2.0 202 Accepted', 'Via: SIP/2.0/UDP c:5080;branch=z9hG4bKs', 'From: <sip:a@h>;tag=1', 'To: <sip:p@h>;tag=2', 'Call-ID: s', 'CSeq: 1 SUBSCRIBE', expires, 'Content-Length: 0', '', ''));
    expect(subscriptionSeconds(sub('Expires: 600'), ok('Expires: 60'))).toBe(60);
    expect(subscriptionSeconds(sub('Expires: 0'), ok('X-A: 1'))).toBe(0);
  });

  it('MUST see a NOTIFY with Subscription-State terminated as the end of the subscription', () => {
    const notify = (state: string): SipMessage =>
      net(lines('NOTIFY sip:a@h SIP/2.0', 'Via: SIP/2.0/UDP c:5080;branch=z9hG4bKn', 'From: <sip:p@h>;tag=2', 'To: <sip:a@h>;tag=1', 'Call-ID: s', 'CSeq: 1 NOTIFY', `Subscription-State: ${state}`, 'Content-Length: 0', '', ''));
    expect(isTerminatingNotify(notify('terminated;reason=timeout'))).toBe(true);
    expect(isTerminatingNotify(notify('active;expires=60'))).toBe(false);
  });
});
