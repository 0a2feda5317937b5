import { describe, expect, it } from 'vitest';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { connectedInbound, flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };

describe('CallManager: dialog audit after the link to the SIP server came back', () => {
  it('MUST end a call whose caller hung up while the link was down: BYE to the callee, recording stopped', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const { invite, legB } = await connectedInbound(t, ALICE);
    expect(t.manager.size).toBe(1);
    invite.legA!.probeResult = 'gone';
    t.signaling.reconnect();
    await flush();
    expect(invite.legA!.probes).toBe(1);
    // leg A gone: leg B is not asked, it gets the BYE
    expect(legB.probes).toBe(0);
    expect(legB.hangups).toBe(1);
    expect(t.recording.ports[0]!.calls).toContain('stop');
    expect(t.manager.size).toBe(0);
  });

  it('MUST end a call whose callee is gone and leave calls whose dialogs are alive (or could not be asked) alone', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const first = t.inbound(ALICE, { callId: 'c1' });
    await flush();
    const firstB = t.signaling.answer();
    const second = t.inbound(ALICE, { callId: 'c2' });
    await flush();
    const secondB = t.signaling.answer();
    const third = t.inbound(ALICE, { callId: 'c3' });
    await flush();
    const thirdB = t.signaling.answer();
    await flush();
    expect(t.manager.size).toBe(3);
    firstB.probeResult = 'gone';
    third.legA!.probeResult = 'unknown';
    thirdB.probeResult = 'unknown';
    expect(await t.manager.auditDialogs()).toBe(1);
    await flush();
    expect(first.legA!.hangups).toBe(1);
    expect(second.legA!.hangups + secondB.hangups + third.legA!.hangups + thirdB.hangups).toBe(0);
    expect([first.legA!.probes, firstB.probes, second.legA!.probes, secondB.probes]).toEqual([1, 1, 1, 1]);
    expect(t.manager.size).toBe(2);
  });
});
