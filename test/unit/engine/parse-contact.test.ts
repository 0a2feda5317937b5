import { describe, expect, it } from 'vitest';
import { parseContact } from '../../../src/engine/sip-transport.js';

describe('parseContact (drachtio-style contacts, RFC 3261 section 26.2 for sips)', () => {
  it('MUST read udp/tcp contacts with the default port 5060', () => {
    expect(parseContact('sip:127.0.0.1;transport=udp,tcp')).toEqual({ host: '127.0.0.1', port: 5060, protocols: ['udp', 'tcp'] });
  });

  it('MUST read a sips: contact as tls on port 5061 by default', () => {
    expect(parseContact('sips:10.0.0.1')).toEqual({ host: '10.0.0.1', port: 5061, protocols: ['tls'] });
    expect(parseContact('sips:10.0.0.1:5071;transport=tls')).toEqual({ host: '10.0.0.1', port: 5071, protocols: ['tls'] });
  });

  it('MUST read transport=tls on a sip: contact, alone or with udp/tcp', () => {
    expect(parseContact('sip:[::1]:5061;transport=tls').protocols).toEqual(['tls']);
    expect(parseContact('sip:127.0.0.1:5060;transport=udp,tcp,tls').protocols).toEqual(['udp', 'tcp', 'tls']);
  });

  it('MUST reject unknown transports and a sips: contact that asks for plain transports', () => {
    expect(() => parseContact('sip:127.0.0.1;transport=sctp')).toThrow(/sctp/);
    expect(() => parseContact('sips:127.0.0.1;transport=udp')).toThrow(/tls only/);
  });
});
