import { describe, expect, it } from 'vitest';
import { glareBackoffMs, shouldFailover, targetRequestUri, targetTransport } from '../../../../src/siprec/client/failover-rules.js';

describe('failover rules (R-40) and glare back-off (RFC 3261 section 14.1)', () => {
  it('fails over on timeout, transport errors, 408 and every 5xx', () => {
    expect(shouldFailover({ kind: 'timeout' })).toBe(true);
    expect(shouldFailover({ kind: 'transport', detail: 'x' })).toBe(true);
    for (const status of [408, 500, 502, 503, 504, 599]) expect(shouldFailover({ kind: 'status', status, reason: '' }), String(status)).toBe(true);
  });

  it('does not fail over on other 4xx, 3xx, 6xx, cancel or an unusable answer', () => {
    for (const status of [300, 400, 403, 404, 420, 480, 486, 488, 600, 603]) expect(shouldFailover({ kind: 'status', status, reason: '' }), String(status)).toBe(false);
    expect(shouldFailover({ kind: 'cancelled' })).toBe(false);
    expect(shouldFailover({ kind: 'answer-unusable', detail: '' })).toBe(false);
  });

  it('adds the extra failover statuses a provider lists', () => {
    expect(shouldFailover({ kind: 'status', status: 486, reason: '' }, [486])).toBe(true);
  });

  it('draws the back-off in 2.1-4 s in 10 ms steps when we own the Call-ID, 0-2 s otherwise', () => {
    expect(glareBackoffMs(() => 0)).toBe(2100);
    expect(glareBackoffMs(() => 0.999999)).toBe(4000);
    expect(glareBackoffMs(() => 0.5)).toBe(3050);
    expect(glareBackoffMs(() => 0, false)).toBe(0);
    expect(glareBackoffMs(() => 0.999999, false)).toBe(2000);
    for (let i = 0; i < 50; i++) {
      const ms = glareBackoffMs(Math.random);
      expect(ms % 10).toBe(0);
      expect(ms).toBeGreaterThanOrEqual(2100);
      expect(ms).toBeLessThanOrEqual(4000);
    }
  });

  it('derives the transport from the target and adds ;transport= to the Request-URI when needed (R-42)', () => {
    expect(targetTransport({ uri: 'sips:srs@a.example' })).toBe('tls');
    expect(targetTransport({ uri: 'sip:srs@a.example;transport=TCP' })).toBe('tcp');
    expect(targetTransport({ uri: 'sip:srs@a.example' })).toBe('udp');
    expect(targetRequestUri({ uri: 'sip:srs@a.example:5061', transport: 'tls' })).toBe('sip:srs@a.example:5061;transport=tls');
    expect(targetRequestUri({ uri: 'sip:srs@a.example?X-A=1', transport: 'tcp' })).toBe('sip:srs@a.example;transport=tcp?X-A=1');
    expect(targetRequestUri({ uri: 'sip:srs@a.example;transport=tcp', transport: 'tcp' })).toBe('sip:srs@a.example;transport=tcp');
    expect(targetRequestUri({ uri: 'sip:srs@a.example' })).toBe('sip:srs@a.example');
    expect(targetRequestUri({ uri: 'sip:srs@a.example', transport: 'udp' })).toBe('sip:srs@a.example;transport=udp');
  });
});
