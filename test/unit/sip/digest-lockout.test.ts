import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, digestResponse } from '../../../src/sip/digest-auth.js';
import { DigestLockout } from '../../../src/sip/digest-lockout.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakeInvite, sdpOffer } from '../../fakes/fake-legs.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { flush, setup } from '../call/call-harness-unit.js';

describe('digest lockout (password guessing)', () => {
  it('MUST lock a user after 5 failures within the window by default, refusing even the right password until the lockout ends', () => {
    const clock = new FakeClock();
    const lock = new DigestLockout({}, clock);
    const verdicts = Array.from({ length: 5 }, (_, i) => lock.failed(`198.51.100.${i}`, 'alice')); // from five sources
    expect(verdicts.slice(0, 4).every((v) => !v.locked && v.newLockout === undefined)).toBe(true);
    expect(verdicts[4]).toEqual({ locked: true, newLockout: { key: 'user', lockMs: 60_000, failures: 5 } });
    expect(lock.succeeded('alice').locked).toBe(true);
    expect(lock.userLocked('bob')).toBe(false);
    clock.advance(60_000);
    expect(lock.succeeded('alice').locked).toBe(false);
    expect(lock.counters().lockouts.user).toBe(1);
  });

  it('MUST lock a source after 4 x maxFailures guesses across users, and back off: each further lockout doubles, up to 64 x', () => {
    const clock = new FakeClock();
    const lock = new DigestLockout({ maxFailures: 2, lockoutMs: 1000 }, clock);
    const lockouts: number[] = [];
    for (let round = 0; round < 9; round++) {
      let n = 0;
      for (;;) {
        const v = lock.failed('203.0.113.5', `user${round}-${n++}`); // a new user each guess: only the source counts up
        if (v.newLockout?.key === 'source') {
          expect(n).toBe(8);
          lockouts.push(v.newLockout.lockMs);
          break;
        }
      }
      expect(lock.sourceLocked('203.0.113.5')).toBe(true);
      clock.advance(lockouts.at(-1)!);
      expect(lock.sourceLocked('203.0.113.5')).toBe(false);
    }
    expect(lockouts).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 64_000, 64_000]);
  });

  it('counts failures within the window only, forgives a user after a success, and is off with maxFailures 0', () => {
    const clock = new FakeClock();
    const lock = new DigestLockout({ maxFailures: 3, lockoutMs: 10_000 }, clock);
    lock.failed('192.0.2.1', 'alice');
    lock.failed('192.0.2.1', 'alice');
    clock.advance(10_001);
    expect(lock.failed('192.0.2.1', 'alice').locked).toBe(false); // the window started again
    expect(lock.succeeded('alice').locked).toBe(false);
    lock.failed('192.0.2.1', 'alice');
    expect(lock.failed('192.0.2.1', 'alice').locked).toBe(false); // forgiven by the success
    const off = new DigestLockout({ maxFailures: 0 }, clock);
    for (let i = 0; i < 100; i++) expect(off.failed('192.0.2.1', 'alice').locked).toBe(false);
  });

  it('MUST keep memory bounded under guesses from many spoofed sources', () => {
    const lock = new DigestLockout({ maxKeys: 100 }, new FakeClock());
    for (let i = 0; i < 5000; i++) lock.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `u${i}`);
    expect(lock.counters().tracked).toBeLessThanOrEqual(100);
  });
});

describe('CallManager: digest failures are limited by default when digest is on', () => {
  it('MUST refuse a guessing user with 403 after 5 wrong passwords, even with the right one, and count auth-locked', async () => {
    const digest = (clock: FakeClock) => new DigestAuthenticator({ realm: 'acme.example', users: [{ username: 'carol', password: 'pw', identities: ['carol'] }] }, clock);
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'always' } }), { admission: { trustedSources: [] } }, undefined, digest);
    const uri = 'sip:alice@b2bua';
    const send = (headers: Record<string, string>, callId: string, source = '203.0.113.9'): FakeInvite => {
      const invite = new FakeInvite({ from: '<sip:carol@acme.example>;tag=c', to: `<${uri}>`, source, sdp: sdpOffer(33000), headers, callId });
      t.signaling.deliver(invite);
      return invite;
    };
    const first = send({}, 'c0');
    await flush();
    const nonce = /nonce="([^"]+)"/.exec(first.rejectHeaders!['Proxy-Authenticate']!)![1]!;
    let nc = 0;
    const auth = (password: string): string => {
      const ncText = (++nc).toString(16).padStart(8, '0');
      const ha1 = createHash('md5').update(`carol:acme.example:${password}`).digest('hex');
      const response = digestResponse('MD5', { ha1, nonce, method: 'INVITE', uri, qop: 'auth', nc: ncText, cnonce: 'abc' });
      return `Digest username="carol", realm="acme.example", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${ncText}, cnonce="abc"`;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const guess = send({ 'Proxy-Authorization': auth(`guess${i}`) }, `g${i}`, `203.0.113.${10 + i}`);
      await flush();
      statuses.push(guess.rejected!);
    }
    expect(statuses).toEqual([407, 407, 407, 407, 403, 403, 403, 403]);
    const right = send({ 'Proxy-Authorization': auth('pw') }, 'ok', '203.0.113.50');
    await flush();
    expect(right.rejected).toBe(403);
    expect(t.rejected.filter((r) => r === 'auth-locked')).toHaveLength(5);
    t.clock.advance(60_000);
    const later = send({ 'Proxy-Authorization': auth('pw') }, 'ok2', '203.0.113.50');
    await flush();
    expect(later.rejected).toBeUndefined();
  });
});
