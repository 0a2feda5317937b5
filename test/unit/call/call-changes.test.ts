import { describe, expect, it } from 'vitest';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';

describe('CallManager.changes: the live feed of GET /v1/calls/events', () => {
  it('MUST announce a call when it starts, on each state change and recording event, and when it ends', async () => {
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'alwaysWithPauseResume' } }));
    const seen: string[] = [];
    t.manager.changes.on('changed', (id) => seen.push(id));
    const invite = t.inbound(ALICE);
    await flush();
    const { id, callId } = t.manager.list()[0]!;
    expect(seen[0], 'the new call, at once').toBe(id);
    t.signaling.answer();
    await flush();
    t.recording.ports[0]!.establish();
    await flush();
    expect(t.manager.list()[0]!.state).toBe('connected');
    const beforePause = seen.length;
    expect(beforePause, 'answer and recording start').toBeGreaterThan(1);

    const r = await t.manager.control(id, 'pause');
    await flush();
    expect(r.ok).toBe(true);
    expect(seen.length, 'the pause').toBeGreaterThan(beforePause);

    const beforeEnd = seen.length;
    await t.manager.get(id)!.hangup('test');
    await flush();
    expect(t.manager.list()).toEqual([]);
    expect(seen.length, 'the end').toBeGreaterThan(beforeEnd);
    expect(seen.filter((x) => x !== id && x !== callId), 'the call by its id (recording events: its SIP Call-ID)').toEqual([]);
    expect(invite.callId).toBe(callId);
  });
});
