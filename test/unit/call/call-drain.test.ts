import { describe, expect, it } from 'vitest';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { connectedInbound, flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };

describe('CallManager: graceful drain', () => {
  it('MUST refuse new calls with 503 + Retry-After and MUST NOT cut a call before the drain time, then end it cleanly', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const { invite } = await connectedInbound(t, ALICE);
    let cut: number | undefined;
    void t.manager.drain(30_000).then((n) => (cut = n));
    const late = t.inbound(ALICE);
    await flush();
    expect(late.rejected).toBe(503);
    expect(late.rejectHeaders).toEqual({ 'Retry-After': '30' });
    t.clock.advance(29_999);
    await flush();
    expect(invite.legA!.hangups).toBe(0);
    expect(t.manager.size).toBe(1);
    expect(cut).toBeUndefined();
    t.clock.advance(1);
    await flush();
    expect(invite.legA!.hangups).toBe(1);
    expect(t.recording.ports[0]!.calls).toContain('stop');
    expect(t.manager.size).toBe(0);
    expect(cut).toBe(1);
  });

  it('MUST send Retry-After = the drain time left (RFC 3261 section 21.5.4), not a fixed 30 s', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    await connectedInbound(t, ALICE);
    void t.manager.drain(120_000);
    t.clock.advance(100_500);
    const late = t.inbound(ALICE);
    await flush();
    expect(late.rejected).toBe(503);
    expect(late.rejectHeaders).toEqual({ 'Retry-After': '20' });
    expect(t.manager.retryAfterSec).toBe(20);
  });

  it('resolves as soon as the last call ends by itself, cutting none', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    t.inbound(ALICE);
    await flush();
    const legB = t.signaling.answer();
    await flush();
    let cut: number | undefined;
    void t.manager.drain(30_000).then((n) => (cut = n));
    await flush();
    expect(cut).toBeUndefined();
    legB.emit('bye', 'BYE');
    await flush();
    expect(cut).toBe(0);
    expect(t.clock.pending).toBe(0);
  });
});
