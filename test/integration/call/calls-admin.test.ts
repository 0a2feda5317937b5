/** The live-calls admin resource over a real HTTP listener, backed by a CallManager on fakes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsPlugin } from '../../../src/admin/plugins/calls-plugin.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { flush, setup } from '../../unit/call/call-harness-unit.js';
import { startHarness, tempDbPath, type Harness } from '../admin/admin-harness.js';

const ADMIN_PORT = 25990;

describe('admin API: live calls and per-call recording control (R-17)', () => {
  const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'announcement' } }));
  const db = tempDbPath();
  let admin: Harness;

  beforeAll(async () => {
    admin = await startHarness(db.path, { port: ADMIN_PORT, extraPlugins: [callsPlugin(t.manager)] });
    t.inbound('+15550002001');
    await flush();
    t.signaling.answer();
    await flush();
    t.recording.ports[0]!.establish();
    await flush();
  });

  afterAll(async () => {
    await admin?.stop();
    db.cleanup();
  });

  it('GET /v1/calls lists the live call with its recording state', async () => {
    const r = await admin.call('GET', '/v1/calls');
    expect(r.status).toBe(200);
    expect(r.body.calls).toHaveLength(1);
    expect(r.body.calls[0]).toMatchObject({ state: 'connected', direction: 'inbound-pstn', recording: { state: 'recording', party: { kind: 'user', id: 'alice' } } });
  });

  it('POST /v1/calls/{id}/recording pauses and resumes, with the announcement to all (R-18); refusals are 409', async () => {
    const id = (await admin.call('GET', '/v1/calls')).body.calls[0].id as string;
    const pause = await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'pause' });
    expect(pause).toMatchObject({ status: 200, body: { ok: true, state: 'paused' } });
    expect(t.media.sessions[0]!.prompts.at(-1)).toMatchObject({ name: 'recording-paused', target: 'both' });
    const again = await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'pause' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'CALL_CONTROL_REFUSED' } } });
    const byCallId = await admin.call('POST', `/v1/calls/inbound-1/recording`, { action: 'resume' });
    expect(byCallId).toMatchObject({ status: 200, body: { state: 'recording' } });
    expect((await admin.call('POST', `/v1/calls/${id}/recording`, { action: 'explode' })).status).toBe(400);
    expect((await admin.call('POST', '/v1/calls/nope/recording', { action: 'pause' })).status).toBe(404);
  });

  it('DELETE /v1/calls/{id} hangs the call up', async () => {
    const id = (await admin.call('GET', '/v1/calls')).body.calls[0].id as string;
    expect((await admin.call('DELETE', `/v1/calls/${id}`)).status).toBe(204);
    await flush();
    expect((await admin.call('GET', '/v1/calls')).body.calls).toHaveLength(0);
    expect(t.media.sessions[0]!.closeCount).toBe(1);
  });
});
