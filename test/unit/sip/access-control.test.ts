import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { AccessControl, AddressList, parseCidr, parseIpAddress } from '../../../src/sip/access-control.js';
import { FakeClock } from '../../fakes/fake-clock.js';

const from = (address: string, port = 5060): { address: string; port: number } => ({ address, port });

describe('address parsing', () => {
  it('parses IPv4, IPv6 (compressed, full, bracketed, embedded IPv4) and maps ::ffff:a.b.c.d to IPv4', () => {
    expect([...parseIpAddress('192.0.2.7')!]).toEqual([192, 0, 2, 7]);
    expect(parseIpAddress('2001:db8::1')).toHaveLength(16);
    expect(parseIpAddress('[2001:db8::1]')).toHaveLength(16);
    expect([...parseIpAddress('2001:0db8:0000:0000:0000:0000:0000:0001')!]).toEqual([...parseIpAddress('2001:db8::1')!]);
    expect([...parseIpAddress('::ffff:10.1.2.3')!]).toEqual([10, 1, 2, 3]);
    expect([...parseIpAddress('::ffff:a01:203')!]).toEqual([10, 1, 2, 3]);
    expect([...parseIpAddress('64:ff9b::192.0.2.33')!].slice(12)).toEqual([192, 0, 2, 33]);
    expect([...parseIpAddress('::')!]).toEqual(new Array(16).fill(0));
  });

  it('returns undefined (never throws) for anything that is not an address', () => {
    for (const bad of ['', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01234.1.1.1', 'a.b.c.d', '1::2::3', '1:2:3:4:5:6:7:8:9', 'gggg::1', 'example.com', ' ', '::ffff:1.2.3.999']) {
      expect(parseIpAddress(bad), bad).toBeUndefined();
    }
    expect(parseIpAddress(undefined as unknown as string)).toBeUndefined();
  });

  it('parses CIDR blocks with prefix limits per family', () => {
    expect(parseCidr('10.0.0.0/8')?.prefix).toBe(8);
    expect(parseCidr('10.0.0.1')?.prefix).toBe(32);
    expect(parseCidr('2001:db8::/32')?.prefix).toBe(32);
    expect(parseCidr('::ffff:10.0.0.0/104')?.prefix).toBe(8);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('2001:db8::/129')).toBeUndefined();
    expect(parseCidr('10.0.0.0/')).toBeUndefined();
    expect(parseCidr('10.0.0.0/-1')).toBeUndefined();
  });

  it('matches addresses inside CIDR blocks, across both families, and never across families', () => {
    const list = new AddressList(['10.0.0.0/8', '192.0.2.7', '198.51.100.0/23', '2001:db8:abcd::/48', '0.0.0.0/32']);
    expect(list.has('10.255.1.2')).toBe(true);
    expect(list.has('11.0.0.1')).toBe(false);
    expect(list.has('192.0.2.7')).toBe(true);
    expect(list.has('192.0.2.8')).toBe(false);
    expect(list.has('198.51.101.200')).toBe(true);
    expect(list.has('198.51.102.1')).toBe(false);
    expect(list.has('::ffff:10.9.8.7')).toBe(true);
    expect(list.has('2001:db8:abcd:12::5')).toBe(true);
    expect(list.has('2001:db8:abce::5')).toBe(false);
    expect(list.has('::a00:1')).toBe(false); // IPv4-compatible is not IPv4-mapped
    expect(list.has('garbage')).toBe(false);
    expect(new AddressList(['0.0.0.0/0']).has('203.0.113.9')).toBe(true);
    expect(new AddressList(['0.0.0.0/0']).has('2001:db8::1')).toBe(false);
    expect(new AddressList(['::/0']).has('2001:db8::1')).toBe(true);
  });

  it('rejects a bad list entry at construction with CONFIG_INVALID naming the entry', () => {
    let caught: unknown;
    try {
      new AddressList(['10.0.0.0/8', 'pbx.example.com'], 'allow');
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught) && caught.code).toBe('CONFIG_INVALID');
    expect(String((caught as Error).message)).toContain('pbx.example.com');
  });
});

describe('AccessControl: source ACL', () => {
  it('MUST allow any source when no allow list is configured, and count it', () => {
    const acl = new AccessControl({}, new FakeClock());
    expect(acl.checkRequest(from('203.0.113.1'), 'INVITE')).toEqual({ action: 'allow' });
    expect(acl.counters().allowed).toBe(1);
  });

  it('MUST answer 403 to a source outside the allow list (trusted trunks / PBX) and let listed sources through', () => {
    const acl = new AccessControl({ allow: ['192.0.2.0/28', '2001:db8::10'] }, new FakeClock());
    expect(acl.checkRequest(from('192.0.2.14'), 'INVITE').action).toBe('allow');
    expect(acl.checkRequest(from('2001:db8::10'), 'OPTIONS').action).toBe('allow');
    expect(acl.checkRequest(from('192.0.2.16'), 'INVITE')).toEqual({ action: 'reject', status: 403, reason: 'source-not-allowed' });
    expect(acl.checkRequest(from('2001:db8::11'), 'INVITE')).toEqual({ action: 'reject', status: 403, reason: 'source-not-allowed' });
    const c = acl.counters();
    expect(c.allowed).toBe(2);
    expect(c.rejected['source-not-allowed']).toBe(2);
  });

  it('an empty allow list allows no one', () => {
    const acl = new AccessControl({ allow: [] }, new FakeClock());
    expect(acl.checkRequest(from('127.0.0.1'), 'OPTIONS').action).toBe('reject');
  });

  it('MUST refuse a denied source even when the allow list contains it (deny wins), silently', () => {
    const acl = new AccessControl({ allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] }, new FakeClock());
    expect(acl.checkRequest(from('10.6.6.6'), 'INVITE')).toEqual({ action: 'drop', reason: 'source-denied' });
    expect(acl.checkRequest(from('10.6.7.6'), 'INVITE').action).toBe('allow');
    expect(acl.counters().dropped['source-denied']).toBe(1);
  });

  it("MUST drop instead of answering when aclAction is 'drop', and never answer an ACK", () => {
    const quiet = new AccessControl({ allow: ['10.0.0.0/8'], aclAction: 'drop' }, new FakeClock());
    expect(quiet.checkRequest(from('203.0.113.5'), 'INVITE')).toEqual({ action: 'drop', reason: 'source-not-allowed' });
    expect(quiet.counters().dropped['source-not-allowed']).toBe(1);
    expect(quiet.counters().rejected['source-not-allowed']).toBe(0);
    const loud = new AccessControl({ allow: ['10.0.0.0/8'] }, new FakeClock());
    expect(loud.checkRequest(from('203.0.113.5'), 'ACK')).toEqual({ action: 'drop', reason: 'source-not-allowed' });
  });

  it('never throws on a source address that does not parse: it matches no entry', () => {
    const acl = new AccessControl({ allow: ['10.0.0.0/8'], rateLimit: { ratePerSecond: 1 } }, new FakeClock());
    for (const address of ['', 'not-an-ip', '999.1.1.1', undefined as unknown as string]) {
      expect(acl.checkRequest({ address }, 'INVITE').action).toBe('reject');
    }
    expect(acl.checkRequest(undefined as unknown as { address: string }, 'INVITE').action).toBe('reject');
  });
});

describe('AccessControl: per-source rate limit (token bucket)', () => {
  it('MUST let a burst through, then answer 503 with Retry-After once per second, then drop the rest of the flood', () => {
    const clock = new FakeClock();
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 10, burst: 5 }, retryAfterSec: 7 }, clock);
    const actions = Array.from({ length: 20 }, () => acl.checkRequest(from('198.51.100.9'), 'INVITE'));
    expect(actions.slice(0, 5).every((d) => d.action === 'allow')).toBe(true);
    expect(actions[5]).toEqual({ action: 'reject', status: 503, reason: 'rate-limited', retryAfterSec: 7 });
    expect(actions.slice(6).every((d) => d.action === 'drop')).toBe(true);
    const c = acl.counters();
    expect(c.allowed).toBe(5);
    expect(c.rejected['rate-limited']).toBe(1);
    expect(c.dropped['rate-limited']).toBe(14);
  });

  it('MUST refill the bucket at ratePerSecond, never beyond burst', () => {
    const clock = new FakeClock();
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 10, burst: 5, rejectsPerSecond: 0 } }, clock);
    const src = from('198.51.100.9');
    for (let i = 0; i < 5; i++) expect(acl.checkRequest(src, 'OPTIONS').action).toBe('allow');
    expect(acl.checkRequest(src, 'OPTIONS').action).toBe('drop');
    clock.advance(99); // 0.99 tokens
    expect(acl.checkRequest(src, 'OPTIONS').action).toBe('drop');
    clock.advance(1); // 1 token
    expect(acl.checkRequest(src, 'OPTIONS').action).toBe('allow');
    expect(acl.checkRequest(src, 'OPTIONS').action).toBe('drop');
    clock.advance(60_000); // long idle: full again, but only `burst`
    const allowed = Array.from({ length: 8 }, () => acl.checkRequest(src, 'OPTIONS')).filter((d) => d.action === 'allow');
    expect(allowed).toHaveLength(5);
  });

  it('MUST sustain exactly ratePerSecond from one source over time', () => {
    const clock = new FakeClock();
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 20, burst: 1, rejectsPerSecond: 0 } }, clock);
    let allowed = 0;
    for (let ms = 0; ms < 10_000; ms += 10) {
      if (acl.checkRequest(from('203.0.113.77'), 'INVITE').action === 'allow') allowed++;
      clock.advance(10);
    }
    expect(allowed).toBe(200);
  });

  it('keeps one bucket per address (any port, any spelling), independent between sources', () => {
    const clock = new FakeClock();
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 2, rejectsPerSecond: 0 } }, clock);
    expect(acl.checkRequest(from('10.0.0.1', 5060), 'INVITE').action).toBe('allow');
    expect(acl.checkRequest(from('::ffff:10.0.0.1', 40000), 'INVITE').action).toBe('allow');
    expect(acl.checkRequest(from('10.0.0.1', 5062), 'INVITE').action).toBe('drop');
    expect(acl.checkRequest(from('10.0.0.2'), 'INVITE').action).toBe('allow');
    expect(acl.counters().trackedSources).toBe(2);
  });

  it('MUST NOT rate limit exempt sources (e.g. the carrier trunks)', () => {
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 1, exempt: ['192.0.2.0/24'] } }, new FakeClock());
    for (let i = 0; i < 100; i++) expect(acl.checkRequest(from('192.0.2.1'), 'INVITE').action).toBe('allow');
    expect(acl.counters().trackedSources).toBe(0);
  });

  it('applies the ACL before the rate limit: a refused source spends no tokens', () => {
    const acl = new AccessControl({ deny: ['10.0.0.1'], rateLimit: { ratePerSecond: 1, burst: 1 } }, new FakeClock());
    for (let i = 0; i < 3; i++) expect(acl.checkRequest(from('10.0.0.1'), 'INVITE').action).toBe('drop');
    expect(acl.counters().dropped['source-denied']).toBe(3);
    expect(acl.counters().rejected['rate-limited']).toBe(0);
    expect(acl.counters().trackedSources).toBe(0);
  });

  it('MUST keep memory bounded under many spoofed sources: at most maxSources buckets', () => {
    const clock = new FakeClock();
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 1, maxSources: 100 } }, clock);
    for (let i = 0; i < 5000; i++) acl.checkRequest(from(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 'INVITE');
    expect(acl.counters().trackedSources).toBeLessThanOrEqual(100);
    expect(acl.counters().allowed).toBe(5000);
  });

  it('evicts refilled buckets before live ones, so an active flooder stays limited at the cap', () => {
    const clock = new FakeClock();
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 1, rejectsPerSecond: 0, maxSources: 3 } }, clock);
    acl.checkRequest(from('10.0.0.1'), 'INVITE');
    acl.checkRequest(from('10.0.0.2'), 'INVITE');
    clock.advance(2000); // both refilled: forgetting them loses nothing
    acl.checkRequest(from('10.0.0.9'), 'INVITE'); // the flooder, bucket now empty
    acl.checkRequest(from('10.0.0.3'), 'INVITE'); // at the cap: the refilled ones go first
    acl.checkRequest(from('10.0.0.4'), 'INVITE');
    expect(acl.checkRequest(from('10.0.0.9'), 'INVITE').action).toBe('drop');
  });

  it('MUST never answer a rate-limited ACK', () => {
    const acl = new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 1 } }, new FakeClock());
    expect(acl.checkRequest(from('10.0.0.1'), 'ACK').action).toBe('allow');
    expect(acl.checkRequest(from('10.0.0.1'), 'ACK')).toEqual({ action: 'drop', reason: 'rate-limited' });
  });

  it('rejects invalid limits at construction with CONFIG_INVALID', () => {
    const clock = new FakeClock();
    for (const bad of [{ ratePerSecond: 0 }, { ratePerSecond: -1 }, { ratePerSecond: Number.NaN }, { ratePerSecond: 5, burst: 0.5 }, { ratePerSecond: 5, maxSources: 0 }]) {
      expect(() => new AccessControl({ rateLimit: bad }, clock), JSON.stringify(bad)).toThrow(/rateLimit/);
    }
    expect(() => new AccessControl({ maxConcurrentCalls: -1 }, clock)).toThrow(/maxConcurrentCalls/);
  });
});

describe('AccessControl: max concurrent calls', () => {
  it('MUST answer 503 once maxConcurrentCalls calls are up, and admit again after a release', () => {
    const acl = new AccessControl({ maxConcurrentCalls: 2, retryAfterSec: 3 }, new FakeClock());
    const first = acl.acquireCall();
    const second = acl.acquireCall();
    expect(first.action).toBe('allow');
    expect(second.action).toBe('allow');
    expect(acl.activeCalls).toBe(2);
    expect(acl.acquireCall()).toEqual({ action: 'reject', status: 503, reason: 'max-concurrent-calls', retryAfterSec: 3 });
    if (first.action === 'allow') first.release();
    expect(acl.activeCalls).toBe(1);
    expect(acl.acquireCall().action).toBe('allow');
    expect(acl.counters().rejected['max-concurrent-calls']).toBe(1);
    expect(acl.counters().activeCalls).toBe(2);
  });

  it('release() is idempotent: a double release never frees a slot it does not own', () => {
    const acl = new AccessControl({ maxConcurrentCalls: 1 }, new FakeClock());
    const slot = acl.acquireCall();
    if (slot.action !== 'allow') throw new Error('expected a slot');
    slot.release();
    slot.release();
    expect(acl.activeCalls).toBe(0);
    const next = acl.acquireCall();
    expect(next.action).toBe('allow');
    expect(acl.acquireCall().action).toBe('reject');
  });

  it('is unlimited by default, and 0 refuses every call', () => {
    const open = new AccessControl({}, new FakeClock());
    for (let i = 0; i < 1000; i++) expect(open.acquireCall().action).toBe('allow');
    expect(new AccessControl({ maxConcurrentCalls: 0 }, new FakeClock()).acquireCall().action).toBe('reject');
  });

  it('counters() is a snapshot: later decisions do not change a returned object', () => {
    const acl = new AccessControl({ allow: ['10.0.0.0/8'] }, new FakeClock());
    const before = acl.counters();
    acl.checkRequest(from('11.0.0.1'), 'INVITE');
    expect(before.rejected['source-not-allowed']).toBe(0);
    expect(acl.counters().rejected['source-not-allowed']).toBe(1);
  });
});
