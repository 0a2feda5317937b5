import { describe, expect, it } from 'vitest';
import { parseMetadata, validateMetadata } from '../../../../src/siprec/index.js';
import { StateMachine } from '../../../../src/common/state-machine.js';
import { RECORDING_SESSION_TRANSITIONS, type RecordingSessionState } from '../../../../src/siprec/client/recording-session-state.js';
import { establishedSession, flush, makeSession } from './session-fixture.js';

describe('RecordingSession stop/close and the state table (R-32, STYLE habits 4-5)', () => {
  it('sends a final complete snapshot (stop-time, disassociate-times) in a re-INVITE before the BYE (R-32)', async () => {
    const { session, dialog, clock, of } = await establishedSession();
    clock.advance(65_000);
    const stopped = session.stop();
    expect(session.state).toBe('stopping');
    await flush();
    const m = dialog.pendingModify!;
    expect(validateMetadata(m.metadata)).toEqual([]);
    const model = parseMetadata(m.metadata);
    expect(model.datamode).toBe('complete');
    expect(model.sessions[0]!.stopTime).toBe(clock.now());
    expect(model.sessionRecordingAssocs[0]!.disassociateTime).toBe(clock.now());
    expect(model.participantSessionAssocs.every((a) => a.disassociateTime === clock.now())).toBe(true);
    expect(dialog.byeCount).toBe(0);
    m.respond(200);
    await stopped;
    expect(dialog.byeCount).toBe(1);
    expect(session.state).toBe('stopped');
    expect(of('stopped')).toEqual([['stop']]);
  });

  it('still sends BYE when the final snapshot is refused', async () => {
    const { session, dialog } = await establishedSession();
    const stopped = session.stop();
    await flush();
    dialog.pendingModify!.respond(500);
    await stopped;
    expect(dialog.byeCount).toBe(1);
    expect(session.state).toBe('stopped');
  });

  it('sends BYE after stopTimeoutMs when the final snapshot gets no answer', async () => {
    const { session, dialog, clock } = await establishedSession({ stopTimeoutMs: 5000 });
    const stopped = session.stop();
    await flush();
    clock.advance(4999);
    await flush();
    expect(dialog.byeCount).toBe(0);
    clock.advance(1);
    await stopped;
    expect(dialog.byeCount).toBe(1);
    expect(session.state).toBe('stopped');
  });

  it('waits for a pause in flight before the final snapshot, and the final snapshot stays inactive while paused', async () => {
    const { session, dialog } = await establishedSession();
    const paused = session.pause();
    await flush();
    const stopped = session.stop();
    await flush();
    expect(dialog.modifies).toHaveLength(1);
    dialog.pendingModify!.respond(200);
    expect(await paused).toMatchObject({ ok: false });
    await flush();
    expect(dialog.modifies).toHaveLength(2);
    expect(dialog.modifies[1]!.sdp).toContain('a=inactive');
    dialog.pendingModify!.respond(200);
    await stopped;
    expect(dialog.byeCount).toBe(1);
  });

  it('ends as stopped (not failed) when the SRS says BYE while we are stopping', async () => {
    const { session, dialog, of } = await establishedSession();
    const stopped = session.stop();
    await flush();
    dialog.sendBye();
    await stopped;
    expect(session.state).toBe('stopped');
    expect(of('failed')).toEqual([]);
    expect(dialog.byeCount).toBe(0);
  });

  it('answers a snapshot request while stopping without queueing another snapshot', async () => {
    const { session, dialog } = await establishedSession();
    void session.stop();
    await flush();
    const res = await dialog.sendRequest('UPDATE', { contentType: 'application/rs-metadata-request', body: '<requestsnapshot xmlns="urn:ietf:params:xml:ns:recording:1"/>' });
    expect(res.status).toBe(200);
    dialog.pendingModify!.respond(200);
    await flush();
    expect(dialog.modifies).toHaveLength(1);
  });

  it('close() is idempotent: one BYE, no snapshot, stopped once, and methods reject afterwards (CLOSED)', async () => {
    const { session, dialog, of, clock } = await establishedSession();
    await Promise.all([session.close(), session.close()]);
    await session.close();
    expect(dialog.byeCount).toBe(1);
    expect(dialog.modifies).toHaveLength(0);
    expect(of('stopped')).toEqual([['close']]);
    expect(clock.pending).toBe(0);
    await expect(session.pause()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(session.updateMetadata()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('close() during inviting CANCELs the INVITE', async () => {
    const { session, connector } = makeSession();
    void session.start();
    await session.close();
    expect(connector.last.cancelled).toBe(true);
    expect(session.state).toBe('stopped');
  });

  it('close() during stopping BYEs at once and ends the graceful stop', async () => {
    const { session, dialog } = await establishedSession();
    const stopped = session.stop();
    await flush();
    await session.close();
    await stopped;
    expect(dialog.byeCount).toBe(1);
    expect(session.state).toBe('stopped');
  });

  it('logs every transition from -> to through the happy path', async () => {
    const { session, dialog, of } = await establishedSession();
    void session.pause();
    await flush();
    dialog.pendingModify!.respond(200);
    await flush();
    void session.resume();
    await flush();
    dialog.pendingModify!.respond(200);
    await flush();
    const stopped = session.stop();
    await flush();
    dialog.pendingModify!.respond(200);
    await stopped;
    expect(of('state')).toEqual([
      ['idle', 'inviting'],
      ['inviting', 'active'],
      ['active', 'pausing'],
      ['pausing', 'paused'],
      ['paused', 'resuming'],
      ['resuming', 'active'],
      ['active', 'stopping'],
      ['stopping', 'stopped'],
    ]);
  });

  it('the transition table rejects illegal moves and has no way out of the final states', () => {
    const machine = (initial: RecordingSessionState) => new StateMachine({ name: 'recording session', initial, table: RECORDING_SESSION_TRANSITIONS });
    expect(() => machine('idle').transition('active')).toThrowError(expect.objectContaining({ code: 'ILLEGAL_STATE_TRANSITION' }));
    expect(() => machine('paused').transition('pausing')).toThrow();
    expect(machine('inviting').can('stopped')).toBe(true);
    expect(RECORDING_SESSION_TRANSITIONS.stopped).toEqual([]);
    expect(RECORDING_SESSION_TRANSITIONS.failed).toEqual([]);
    expect(RECORDING_SESSION_TRANSITIONS.stopping).toEqual(['stopped']);
  });
});
