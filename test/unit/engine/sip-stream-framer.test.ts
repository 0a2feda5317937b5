import { describe, expect, it } from 'vitest';
import { SipStreamFramer } from '../../../src/engine/sip-stream-framer.js';

const msg = (body: string): string =>
  `MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('TCP framing by Content-Length (RFC 3261 section 18.3, docs/engine.md item B8)', () => {
  it('reassembles a message split across reads', () => {
    const f = new SipStreamFramer(65535);
    const m = msg('héllo');
    const b = Buffer.from(m);
    expect(f.push(b.subarray(0, 10)).messages).toHaveLength(0);
    expect(f.push(b.subarray(10, b.length - 2)).messages).toHaveLength(0);
    const r = f.push(b.subarray(b.length - 2));
    expect(r.messages.map((x) => x.toString())).toEqual([m]);
  });

  it('splits several messages in one read and skips CRLF keep-alives, counting CRLFCRLF pings', () => {
    const f = new SipStreamFramer(65535);
    const r = f.push(Buffer.from('\r\n\r\n' + msg('a') + '\r\n\r\n' + msg('bc')));
    expect(r.messages.map((x) => x.toString())).toEqual([msg('a'), msg('bc')]);
    expect(r.pings).toBe(2);
  });

  it('reports a message over the size limit with its header block (for a 513)', () => {
    const f = new SipStreamFramer(100);
    const r = f.push(Buffer.from(msg('x'.repeat(200))));
    expect(r.error?.reason).toBe('too-large');
    expect(r.error?.head?.toString()).toContain('MESSAGE sip:a@b');
  });

  it('reports a header block that never ends within the limit', () => {
    const f = new SipStreamFramer(50);
    expect(f.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + 'X: y\r\n'.repeat(20))).error?.reason).toBe('too-large');
  });

  it('reports a non-numeric Content-Length', () => {
    const f = new SipStreamFramer(65535);
    expect(f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: abc\r\n\r\n')).error?.reason).toBe('bad-content-length');
  });
});

describe('TCP stream garbage detection (finding 4)', () => {
  it('reports binary garbage at the start of a message so the connection can be closed and counted', () => {
    const f = new SipStreamFramer(65535);
    expect(f.push(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])).error?.reason).toBe('garbage');
  });

  it('accepts a start line that arrives in pieces', () => {
    const f = new SipStreamFramer(65535);
    expect(f.push(Buffer.from('INV')).error).toBeUndefined();
  });
});
