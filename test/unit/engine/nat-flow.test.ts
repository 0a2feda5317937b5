import { describe, expect, it } from 'vitest';
import { flowTarget, isPrivateAddress, uacUsesFlow, uasUsesFlow, type Flow } from '../../../src/engine/nat-flow.js';
import { parseSipText, type SipMessage } from '../../../src/engine/sip-message.js';
import type { MessageSource } from '../../../src/engine/sip-transport.js';
import { responseTarget } from '../../../src/engine/transaction-table.js';

const lines = (...l: string[]): string => l.join('\r\n');
const net = (text: string): SipMessage => {
  const r = parseSipText(text);
  if (!r.ok) throw new Error(r.error);
  return r.msg;
};

/** An INVITE as a phone behind a NAT writes it: Via and Contact name its private address. */
function invite(contact: string, extra: string[] = [], via = 'SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK-n1'): SipMessage {
  return net(
    lines(
      'INVITE sip:svc@203.0.113.1:5060 SIP/2.0',
      `Via: ${via}`,
      ...extra,
      'From: <sip:alice@example.com>;tag=a1',
      'To: <sip:svc@203.0.113.1>',
      'Call-ID: nat-1',
      'CSeq: 1 INVITE',
      `Contact: ${contact}`,
      'Content-Length: 0',
      '',
      '',
    ),
  );
}

function ok(contact: string): SipMessage {
  return net(
    lines(
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 203.0.113.1:5060;rport;branch=z9hG4bK-u1',
      'From: <sip:svc@203.0.113.1>;tag=f1',
      'To: <sip:bob@example.com>;tag=t1',
      'Call-ID: nat-2',
      'CSeq: 1 INVITE',
      `Contact: ${contact}`,
      'Content-Length: 0',
      '',
      '',
    ),
  );
}

const udpFlow: Flow = { protocol: 'udp', host: '198.51.100.9', port: 40123 };

describe('NAT traversal: which address in-dialog requests go to (nat-flow.ts)', () => {
  it('isPrivateAddress: RFC 1918, RFC 6598, link-local and IPv6 ULA are private; public, loopback and host names are not', () => {
    for (const h of ['10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.1', '100.64.0.1', '100.127.255.255', '169.254.1.1', 'fd00::1', '[fc12::5]', 'fe80::1']) {
      expect(isPrivateAddress(h), h).toBe(true);
    }
    for (const h of ['172.15.0.1', '172.32.0.1', '100.128.0.1', '192.0.2.1', '8.8.8.8', '127.0.0.1', '::1', '2001:db8::1', 'pbx.example.com', '', '10.1.2']) {
      expect(isPrivateAddress(h), h).toBe(false);
    }
  });

  it("UAS 'flow': the peer's flow whenever there is no route set, also when the Contact equals the source", () => {
    expect(uasUsesFlow('flow', udpFlow, invite('<sip:alice@10.0.0.7:5060>'), [])).toBe(true);
    expect(uasUsesFlow('flow', udpFlow, invite('<sip:alice@198.51.100.9:40123>'), [])).toBe(true);
    expect(uasUsesFlow('flow', { ...udpFlow, protocol: 'tcp' }, invite('<sip:alice@10.0.0.7:5060;transport=tcp>'), [])).toBe(true);
  });

  it("UAS 'flow': a Record-Routing proxy is trusted unless the first hop names a private address", () => {
    expect(uasUsesFlow('flow', udpFlow, invite('<sip:alice@10.0.0.7>'), ['<sip:proxy.example.com;lr>'])).toBe(false);
    expect(uasUsesFlow('flow', udpFlow, invite('<sip:alice@10.0.0.7>'), ['<sip:192.168.1.2;lr>'])).toBe(true);
  });

  it("UAS 'detect' (drachtio-server's default): UDP, no Record-Route, Contact host or explicit port differs from the source", () => {
    expect(uasUsesFlow('detect', udpFlow, invite('<sip:alice@10.0.0.7:5060>'), [])).toBe(true);
    expect(uasUsesFlow('detect', udpFlow, invite('<sip:alice@198.51.100.9:5999>'), [])).toBe(true);
    expect(uasUsesFlow('detect', udpFlow, invite('<sip:alice@198.51.100.9:40123>'), [])).toBe(false);
    expect(uasUsesFlow('detect', udpFlow, invite('<sip:alice@198.51.100.9>'), [])).toBe(false); // no port: only the host counts
    expect(uasUsesFlow('detect', { ...udpFlow, protocol: 'tcp' }, invite('<sip:alice@10.0.0.7:5060>'), [])).toBe(false);
    const rr = 'Record-Route: <sip:proxy.example.com;lr>';
    expect(uasUsesFlow('detect', udpFlow, invite('<sip:alice@10.0.0.7:5060>', [rr]), ['<sip:proxy.example.com;lr>'])).toBe(false);
  });

  it("UAS 'contact': RFC 3261 as written, never the flow", () => {
    expect(uasUsesFlow('contact', udpFlow, invite('<sip:alice@10.0.0.7:5060>'), [])).toBe(false);
  });

  it("UAC: the 2xx's source when its Contact names another host ('detect') or always without a route ('flow'); a private first hop in both", () => {
    const natOk = ok('<sip:bob@10.0.0.8:5060>');
    const sameHost = ok('<sip:bob@198.51.100.9:5070>');
    expect(uacUsesFlow('detect', udpFlow, natOk, [])).toBe(true);
    expect(uacUsesFlow('detect', udpFlow, sameHost, [])).toBe(false); // drachtio compares the host only
    expect(uacUsesFlow('flow', udpFlow, sameHost, [])).toBe(true);
    expect(uacUsesFlow('detect', udpFlow, natOk, ['<sip:10.1.1.1;lr>'])).toBe(true);
    expect(uacUsesFlow('flow', udpFlow, natOk, ['<sip:proxy.example.com;lr>'])).toBe(false);
    expect(uacUsesFlow('contact', udpFlow, natOk, [])).toBe(false);
  });

  it('flowTarget over UDP: the flow address:port replaces the Contact (the Request-URI is not touched here)', () => {
    const base = { protocol: 'udp' as const, host: '10.0.0.7', port: 5060 };
    expect(flowTarget(base, udpFlow)).toEqual({ target: { protocol: 'udp', host: '198.51.100.9', port: 40123 }, redirected: true });
    expect(flowTarget({ ...base, host: '198.51.100.9', port: 40123 }, udpFlow).redirected).toBe(false);
  });

  it('flowTarget over TCP/TLS: the connection the peer opened, the Contact dialled once it is closed; SNI kept', () => {
    const tcp = flowTarget({ protocol: 'tcp', host: '10.0.0.7', port: 5060 }, { protocol: 'tcp', host: '198.51.100.9', port: 51000 });
    expect(tcp).toEqual({ target: { protocol: 'tcp', host: '198.51.100.9', port: 51000, reconnect: { host: '10.0.0.7', port: 5060 } }, redirected: true });
    const tls = flowTarget({ protocol: 'tls', host: '10.0.0.7', port: 5061, serverName: 'phone.example.com' }, { protocol: 'tls', host: '198.51.100.9', port: 51001 });
    expect(tls.target.serverName).toBe('phone.example.com');
    expect(tls.target.reconnect).toEqual({ host: '10.0.0.7', port: 5061 });
  });

  it('flowTarget: a flow over another transport than the Contact asks for is not used', () => {
    const base = { protocol: 'tcp' as const, host: '10.0.0.7', port: 5060 };
    expect(flowTarget(base, udpFlow)).toEqual({ target: base, redirected: false });
  });
});

describe('NAT traversal: where responses go (forced rport, RFC 3581 section 4 / RFC 3261 section 18.2.2)', () => {
  const local = { protocol: 'udp' as const, host: '203.0.113.1', port: 5060 };
  it('UDP: the source address and port even when the Via has no rport and names a private address', () => {
    const src: MessageSource = { protocol: 'udp', remoteHost: '198.51.100.9', remotePort: 40123, local };
    expect(responseTarget(invite('<sip:alice@10.0.0.7>'), src)).toEqual({ protocol: 'udp', host: '198.51.100.9', port: 40123 });
  });

  it('TCP: the connection the request came on, else the source address at the Via sent-by port', () => {
    const src: MessageSource = { protocol: 'tcp', remoteHost: '198.51.100.9', remotePort: 51000, local: { ...local, protocol: 'tcp' } };
    expect(responseTarget(invite('<sip:alice@10.0.0.7>', [], 'SIP/2.0/TCP 10.0.0.7:5062;branch=z9hG4bK-t1'), src)).toEqual({
      protocol: 'tcp', host: '198.51.100.9', port: 51000, reconnect: { host: '198.51.100.9', port: 5062 },
    });
    expect(responseTarget(invite('<sip:alice@10.0.0.7>', [], 'SIP/2.0/TCP 10.0.0.7;branch=z9hG4bK-t2'), src).reconnect).toEqual({ host: '198.51.100.9', port: 5060 });
  });
});
