import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../../src/sip/access-control.js';
import { DigestAuthenticator, digestResponse } from '../../../src/sip/digest-auth.js';
import { FakeInvite, sdpOffer } from '../../fakes/fake-legs.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };

// The source ACL and the per-source rate limit run on every request in the SIP server's request
// gate (test/unit/sip/access-every-request.test.ts); the call layer keeps the concurrent-call limit.
describe('CallManager: access control before admission', () => {
  it('MUST refuse calls beyond the concurrent-call limit with 503 and free the slot when a call ends', async () => {
    const t = setup(makeSnapshot({ alice: always }), {}, (clock) => new AccessControl({ maxConcurrentCalls: 1, retryAfterSec: 5 }, clock));
    t.inbound(ALICE);
    await flush();
    const legB = t.signaling.answer();
    await flush();
    const refused = t.inbound(ALICE);
    await flush();
    expect(refused.rejected).toBe(503);
    expect(refused.rejectHeaders).toEqual({ 'Retry-After': '5' });
    legB.emit('bye', 'BYE');
    await flush();
    expect(t.manager.size).toBe(0);
    const next = t.inbound(ALICE);
    await flush();
    expect(next.rejected).toBeUndefined();
    expect(t.signaling.dials).toHaveLength(2);
  });

  it('MUST challenge an INVITE with Replaces from a source that is neither trunk nor trusted when digest is on (RFC 3891 is no credential), and count 407s by reason', async () => {
    const digest = (clock: Parameters<NonNullable<Parameters<typeof setup>[3]>>[0]) =>
      new DigestAuthenticator({ realm: 'acme.example', users: [{ username: 'carol', password: 'pw', identities: ['carol'] }] }, clock);
    const t = setup(makeSnapshot({ alice: always }), {}, undefined, digest);
    t.inbound(ALICE);
    await flush();
    const legB = t.signaling.answer();
    await flush();
    const replaces = `${legB.callId};to-tag=${legB.localTag};from-tag=${legB.remoteTag}`;
    const stranger = (headers: Record<string, string>, callId: string): FakeInvite =>
      new FakeInvite({ from: '<sip:carol@acme.example>;tag=c', to: '<sip:alice@b2bua>', source: '203.0.113.9', sdp: sdpOffer(33000), headers, callId });
    const bare = stranger({ Replaces: replaces }, 'r1');
    t.signaling.deliver(bare);
    await flush();
    expect(bare.rejected).toBe(407);
    const challenge = bare.rejectHeaders!['Proxy-Authenticate']!;
    expect(challenge).toMatch(/^Digest realm="acme.example", nonce="[^"]+"/);
    expect(legB.hangups).toBe(0);
    // wrong password: challenged again, counted as a failure
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const uri = 'sip:alice@b2bua';
    const auth = (password: string): string => {
      const h1 = createHash('md5').update(`carol:acme.example:${password}`).digest('hex');
      const response = digestResponse('MD5', { ha1: h1, nonce, method: 'INVITE', uri, qop: 'auth', nc: '00000001', cnonce: 'abc' });
      return `Digest username="carol", realm="acme.example", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc"`;
    };
    const wrong = stranger({ Replaces: replaces, 'Proxy-Authorization': auth('nope') }, 'r2');
    t.signaling.deliver(wrong);
    await flush();
    expect(wrong.rejected).toBe(407);
    expect(t.rejected).toEqual(['auth-required', 'auth-failed']);
    expect(legB.hangups).toBe(0);
  });
});
