/**
 * The live-calls admin resource with a call that has two recordings (R-10: an internal call between
 * two recorded users): POST /v1/calls/{id}/recording names the recording with `party`.
 * A real HTTP listener (port 45490) over a CallManager on fakes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsPlugin } from '../../../src/admin/plugins/calls-plugin.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { flush, setup } from '../../unit/call/call-harness-unit.js';
import { startHarness, tempDbPath, type Harness } from '../admin/admin-harness.js';

const ADMIN_PORT = 45490;
const pauseResume = { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'beep' } as const;

describe('admin API: per-call control of a call with two recordings (R-10, R-17)', () => {
  const t = setup(makeSnapshot({ alice: pauseResume, bob: pauseResume }));
  const db = tempDbPath();
  let admin: Harness;

  beforeAll(async () => {
    admin = await startHarness(db.path, { port: ADMIN_PORT, extraPlugins: [callsPlugin(t.manager)] });
    t.fromUser('alice@acme.example', '+15550002002');
    await flush();
    t.signaling.answer();
    await flush();
    for (const p of t.recording.ports) p.establish();
    await flush();
  });

  afterAll(async () => {
    await admin?.stop();
    db.cleanup();
  });

  it('MUST refuse a control that names no recording (409) and apply one that does to that recording only', async () => {
    const id = (await admin.call('GET', '/v1/calls')).body.calls[0].id as string;
    const [alice, bob] = t.recording.ports;
    const unnamed = await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'pause' });
    expect(unnamed).toMatchObject({ status: 409, body: { error: { code: 'CALL_CONTROL_REFUSED' } } });
    expect(unnamed.body.error.message).toMatch(/party/);
    expect((await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'pause', party: 'carol' })).status).toBe(409);
    expect((await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'pause', party: '' })).status).toBe(400);
    const byId = await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'pause', party: 'bob' });
    expect(byId).toMatchObject({ status: 200, body: { ok: true, state: 'paused' } });
    expect(bob!.calls).toContain('pause');
    expect(alice!.calls).not.toContain('pause');
    const bySide = await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'pause', party: 'caller' });
    expect(bySide).toMatchObject({ status: 200, body: { ok: true, state: 'paused' } });
    expect(alice!.calls).toContain('pause');
    // the first recording (the caller's) stays the call's `recording`
    expect((await admin.call('GET', `/v1/calls/${id}`)).body.recording).toMatchObject({ state: 'paused', party: { kind: 'user', id: 'alice' } });
  });

  it('MUST name in each recording session of the call whom it records and in which mode', async () => {
    const call = (await admin.call('GET', '/v1/calls')).body.calls[0] as { recordings: Array<{ siprecSessionId: string; party: { kind: string; id: string }; mode: string }> };
    expect(call.recordings.map((r) => [r.party, typeof r.mode])).toEqual([
      [{ kind: 'user', id: 'alice' }, 'string'],
      [{ kind: 'user', id: 'bob' }, 'string'],
    ]);
    expect(new Set(call.recordings.map((r) => r.siprecSessionId)).size).toBe(2);
  });
});
