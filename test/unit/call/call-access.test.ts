import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../../src/sip/access-control.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };

describe('CallManager: access control before admission', () => {
  it('MUST refuse a denied source with 403 before any policy or media work', async () => {
    const t = setup(makeSnapshot({ alice: always }), {}, (clock) => new AccessControl({ deny: ['192.0.2.0/24'] }, clock));
    const invite = t.inbound(ALICE);
    await flush();
    expect(invite.rejected).toBe(403);
    expect(t.media.sessions).toHaveLength(0);
    expect(t.signaling.dials).toHaveLength(0);
  });

  it('MUST answer a per-source INVITE flood with one 503 + Retry-After and then silence, and admit again once the bucket refills', async () => {
    const t = setup(makeSnapshot({ alice: always }), {}, (clock) => new AccessControl({ rateLimit: { ratePerSecond: 1, burst: 1 }, retryAfterSec: 2 }, clock));
    const first = t.inbound(ALICE);
    const second = t.inbound(ALICE);
    const third = t.inbound(ALICE);
    await flush();
    expect(first.rejected).toBeUndefined();
    expect(t.signaling.dials).toHaveLength(1);
    expect(second.rejected).toBe(503);
    expect(second.rejectHeaders).toEqual({ 'Retry-After': '2' });
    expect(third.rejected).toBeUndefined();
    t.clock.advance(1000);
    t.inbound(ALICE);
    await flush();
    expect(t.signaling.dials).toHaveLength(2);
  });

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
});
