import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../../src/sip/access-control.js';
import { accessGate, type GateRequest } from '../../../src/sip/access-gate.js';
import { FakeClock } from '../../fakes/fake-clock.js';

const CARRIER = { address: '192.0.2.10', port: 5060 };
const isCarrier = (address: string, port: number): boolean => address === CARRIER.address && port === CARRIER.port;
const req = (address: string, port: number, method: string, inDialog = false): GateRequest => ({ address, port, method, inDialog });

describe('access control on every request (the SIP server request gate)', () => {
  it('MUST answer nothing at all to a denied source, whatever the method, in or out of a dialog', () => {
    const gate = accessGate(new AccessControl({ deny: ['203.0.113.0/24'] }, new FakeClock()), () => false);
    for (const method of ['OPTIONS', 'INVITE', 'REGISTER', 'SUBSCRIBE', 'MESSAGE', 'CANCEL', 'BYE', 'ACK', 'FOO']) {
      expect(gate(req('203.0.113.9', 5060, method)), method).toEqual({ action: 'drop' });
      expect(gate(req('203.0.113.9', 5060, method, true)), `${method} in dialog`).toEqual({ action: 'drop' });
    }
    expect(gate(req('198.51.100.1', 5060, 'OPTIONS'))).toEqual({ action: 'allow' });
  });

  it('MUST rate-limit every out-of-dialog method per source, with one 503 + Retry-After then silence, but never in-dialog requests', () => {
    const access = new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 2 }, retryAfterSec: 3 }, new FakeClock());
    const gate = accessGate(access, () => false);
    expect(gate(req('198.51.100.7', 5060, 'OPTIONS')).action).toBe('allow');
    expect(gate(req('198.51.100.7', 5061, 'REGISTER')).action).toBe('allow');
    expect(gate(req('198.51.100.7', 5062, 'MESSAGE'))).toEqual({ action: 'reject', status: 503, headers: { 'Retry-After': '3' } });
    expect(gate(req('198.51.100.7', 5060, 'INVITE'))).toEqual({ action: 'drop' });
    expect(gate(req('198.51.100.7', 5060, 'BYE', true))).toEqual({ action: 'allow' });
    expect(access.counters().dropped['rate-limited']).toBe(1);
  });

  it('MUST never answer a refused CANCEL or ACK: a CANCEL of a request that was never accepted gets nothing from the gate', () => {
    const gate = accessGate(new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 1, rejectsPerSecond: 10 } }, new FakeClock()), () => false);
    expect(gate(req('198.51.100.7', 5060, 'INVITE')).action).toBe('allow');
    expect(gate(req('198.51.100.7', 5060, 'INVITE')).action).toBe('reject');
    expect(gate(req('198.51.100.7', 5060, 'CANCEL'))).toEqual({ action: 'drop' });
    expect(gate(req('198.51.100.7', 5060, 'ACK'))).toEqual({ action: 'drop' });
  });

  it('MUST keep a trunk (matched by address and port) in a bucket of its own: a flood from its address on another port cannot starve it', () => {
    const clock = new FakeClock();
    const gate = accessGate(new AccessControl({ rateLimit: { ratePerSecond: 5, burst: 5 } }, clock), isCarrier);
    let carrierAllowed = 0;
    let floodAllowed = 0;
    for (let ms = 0; ms < 2000; ms += 10) {
      for (let i = 0; i < 10; i++) if (gate(req(CARRIER.address, 40000 + i, 'INVITE')).action === 'allow') floodAllowed++; // 1,000 req/s spoofed
      if (ms % 250 === 0 && gate(req(CARRIER.address, CARRIER.port, 'INVITE')).action === 'allow') carrierAllowed++; // 4 calls/s
      clock.advance(10);
    }
    expect(carrierAllowed).toBe(8);
    expect(floodAllowed).toBeLessThanOrEqual(5 + 10 + 1);
  });

  it('treats a gate whose trunk lookup throws as an unknown source, never throwing itself', () => {
    const gate = accessGate(new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 1 } }, new FakeClock()), () => {
      throw new Error('settings not loaded');
    });
    expect(gate(req('192.0.2.10', 5060, 'OPTIONS')).action).toBe('allow');
    expect(gate(req('192.0.2.10', 5060, 'OPTIONS')).action).toBe('reject');
  });
});
