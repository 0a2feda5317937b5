import { describe, expect, it } from 'vitest';
import {
  buildSiprecBody,
  buildSnapshotRequest,
  parseMetadata,
  parseRecordingSdp,
  parseSiprecBody,
  RS_METADATA_REQUEST_CONTENT_TYPE,
  validateMetadata,
} from '../../../../src/siprec/index.js';
import { answerFor } from '../../../fakes/fake-srs-connector.js';
import { CLIENT_IDS, establishedSession, flush } from './session-fixture.js';

const directions = (sdp: string): string[] => parseRecordingSdp(sdp).streams.map((s) => s.direction);
const version = (sdp: string): number => Number(parseRecordingSdp(sdp).origin.version);

describe('RecordingSession mid-call: pause/resume, glare, SRS requests (R-18, R-32, R-40)', () => {
  it('pauses with a re-INVITE a=inactive on every m-line and a pause record in the metadata (R-32)', async () => {
    const { session, dialog, of } = await establishedSession();
    const result = session.pause();
    expect(session.state).toBe('pausing');
    await flush();
    const m = dialog.pendingModify!;
    expect(directions(m.sdp)).toEqual(['inactive', 'inactive']);
    expect(m.headers.Contact).toContain('+sip.src');
    expect(m.metadata).toContain('b2b:pause');
    expect(validateMetadata(m.metadata)).toEqual([]);
    m.respond(200);
    expect(await result).toMatchObject({ ok: true, status: 200 });
    expect(session.state).toBe('paused');
    expect(of('paused')).toHaveLength(1);
  });

  it('bumps the SDP o= version on every offer (RFC 3264 section 8)', async () => {
    const { session, dialog, connector } = await establishedSession();
    const first = version(parseSiprecBody(connector.last.request.body.contentType, connector.last.request.body.body).sdp!);
    void session.pause();
    await flush();
    dialog.pendingModify!.respond(200);
    await flush();
    void session.resume();
    await flush();
    const [a, b] = dialog.modifies.map((m) => version(m.sdp));
    expect(a).toBeGreaterThan(first);
    expect(b).toBeGreaterThan(a!);
  });

  it('rolls the pause back when the SRS refuses it: state active again, pause record removed, refused emitted', async () => {
    const { session, dialog, metadata, of } = await establishedSession();
    const result = session.pause();
    await flush();
    dialog.pendingModify!.respond(488);
    expect(await result).toMatchObject({ ok: false, status: 488 });
    expect(session.state).toBe('active');
    expect(metadata.sessions[0]!.pauses ?? []).toEqual([]);
    expect(of('refused')).toEqual([['pause', 488]]);
    expect(of('paused')).toEqual([]);
    // The next offer is sendonly again.
    void session.updateMetadata();
    await flush();
    expect(directions(dialog.pendingModify!.sdp)).toEqual(['sendonly', 'sendonly']);
  });

  it('resumes with a=sendonly and closes the pause; a refused resume stays paused with the pause re-opened', async () => {
    const { session, dialog, metadata, of } = await establishedSession();
    void session.pause();
    await flush();
    dialog.pendingModify!.respond(200);
    await flush();
    const refused = session.resume();
    await flush();
    expect(directions(dialog.pendingModify!.sdp)).toEqual(['sendonly', 'sendonly']);
    dialog.pendingModify!.respond(500);
    expect(await refused).toMatchObject({ ok: false });
    expect(session.state).toBe('paused');
    expect(metadata.sessions[0]!.pauses!.at(-1)!.end).toBeUndefined();
    const ok = session.resume();
    await flush();
    dialog.pendingModify!.respond(200);
    expect(await ok).toMatchObject({ ok: true });
    expect(session.state).toBe('active');
    expect(metadata.sessions[0]!.pauses!.at(-1)!.end).toBeDefined();
    expect(of('resumed')).toHaveLength(1);
  });

  it('retries a re-INVITE answered 491 after the RFC 3261 14.1 back-off of 2.1-4 s (SRC owns the Call-ID)', async () => {
    const { session, dialog, clock } = await establishedSession({ random: () => 0.5 });
    const result = session.pause();
    await flush();
    dialog.pendingModify!.respond(491);
    await flush();
    expect(session.state).toBe('pausing');
    // 2100 + floor(0.5 * 191) * 10 = 3050 ms
    clock.advance(3049);
    await flush();
    expect(dialog.modifies).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(dialog.modifies).toHaveLength(2);
    expect(directions(dialog.modifies[1]!.sdp)).toEqual(['inactive', 'inactive']);
    dialog.pendingModify!.respond(200);
    expect(await result).toMatchObject({ ok: true });
    expect(session.state).toBe('paused');
  });

  it('gives up after maxGlareRetries 491s and rolls back', async () => {
    const { session, dialog, clock } = await establishedSession({ maxGlareRetries: 2 });
    const result = session.pause();
    for (let i = 0; i < 3; i++) {
      await flush();
      dialog.pendingModify!.respond(491);
      await flush();
      clock.advance(4000);
    }
    expect(await result).toMatchObject({ ok: false, status: 491 });
    expect(dialog.modifies).toHaveLength(3);
    expect(session.state).toBe('active');
  });

  it('answers 491 to an SRS re-INVITE that arrives while our re-INVITE is pending (glare)', async () => {
    const { session, dialog } = await establishedSession();
    void session.pause();
    await flush();
    const res = await dialog.sendRequest('INVITE', { contentType: 'application/sdp', body: answerFor(dialog.pendingModify!.body) });
    expect(res.status).toBe(491);
  });

  it('fails with the R-40 policy when the SRS sends BYE mid-call', async () => {
    const { session, dialog, of } = await establishedSession({ failurePolicy: 'proceedWithAnnouncement' });
    dialog.sendBye();
    expect(session.state).toBe('failed');
    expect(of('failed')[0]![0]).toMatchObject({ reason: 'srs-bye', phase: 'mid-call', policy: 'proceedWithAnnouncement', code: 'SIPREC_CLIENT_SRS_LOST' });
    expect(dialog.byeCount).toBe(0);
  });

  it('treats 408 to a re-INVITE as a lost dialog: BYE and failed with the policy (RFC 3261 14.1)', async () => {
    const { session, dialog, of } = await establishedSession();
    const r = session.pause();
    await flush();
    dialog.pendingModify!.respond(408);
    expect(await r).toMatchObject({ ok: false, status: 408 });
    expect(session.state).toBe('failed');
    expect(dialog.byeCount).toBe(1);
    expect(of('failed')[0]![0]).toMatchObject({ reason: 'dialog-lost', phase: 'mid-call' });
  });

  it('treats a re-INVITE without any answer within modifyTimeoutMs as a lost dialog', async () => {
    const { session, dialog, clock } = await establishedSession({ modifyTimeoutMs: 8000 });
    void session.pause();
    await flush();
    clock.advance(7999);
    await flush();
    expect(session.state).toBe('pausing');
    clock.advance(1);
    await flush();
    expect(session.state).toBe('failed');
    expect(dialog.byeCount).toBe(1);
  });

  it('answers a snapshot request (UPDATE, rs-metadata-request) with 200 and then sends a complete snapshot (RFC 7866 9.3)', async () => {
    const { dialog, of } = await establishedSession();
    const res = await dialog.sendRequest('UPDATE', { contentType: RS_METADATA_REQUEST_CONTENT_TYPE, body: buildSnapshotRequest('SRS restarted') });
    expect(res.status).toBe(200);
    expect(of('snapshotRequested')).toEqual([['SRS restarted']]);
    await flush();
    const m = dialog.pendingModify!;
    const model = parseMetadata(m.metadata);
    expect(model.datamode).toBe('complete');
    expect(model.participants.map((p) => p.id)).toEqual([CLIENT_IDS.pstn, CLIENT_IDS.user]);
    expect(model.streams.map((s) => s.label)).toEqual(['1', '2']);
    expect(directions(m.sdp)).toEqual(['sendonly', 'sendonly']);
  });

  it('answers a snapshot request inside an SRS re-INVITE with an SDP answer, then sends the snapshot', async () => {
    const { dialog } = await establishedSession();
    const body = buildSiprecBody({ sdp: dialog.answerSdp, metadata: buildSnapshotRequest('audit'), boundary: 'srs-b', metadataContentType: RS_METADATA_REQUEST_CONTENT_TYPE });
    const res = await dialog.sendRequest('INVITE', { contentType: body.contentType, body: body.body });
    expect(res.status).toBe(200);
    expect(res.body?.contentType).toBe('application/sdp');
    expect(directions(res.body!.body)).toEqual(['sendonly', 'sendonly']);
    await flush();
    expect(dialog.modifies).toHaveLength(1);
  });

  it('accepts an SRS re-INVITE moving its media: answers with our sendonly SDP and emits targetsChanged', async () => {
    const { session, dialog, of } = await establishedSession();
    const moved = dialog.answerSdp.replace(/127\.0\.0\.9/g, '10.1.1.1').replace(/^o=(\S+) (\S+) 1 /m, 'o=$1 $2 2 ');
    const res = await dialog.sendRequest('INVITE', { contentType: 'application/sdp', body: moved });
    expect(res.status).toBe(200);
    expect(directions(res.body!.body)).toEqual(['sendonly', 'sendonly']);
    expect(of('targetsChanged')).toHaveLength(1);
    expect(session.rtpTargets?.label1.address).toBe('10.1.1.1');
  });

  it('answers 400 to an SRS request with a malformed multipart body', async () => {
    const { dialog } = await establishedSession();
    const res = await dialog.sendRequest('INVITE', { contentType: 'multipart/mixed;boundary=x', body: 'garbage' });
    expect(res.status).toBe(400);
  });

  it('sends participant changes on transfer in the same recording session (disassociate old, associate new)', async () => {
    const { session, dialog, clock } = await establishedSession();
    clock.advance(30_000);
    const r = session.transferParticipant(CLIENT_IDS.pstn, { id: CLIENT_IDS.transferTarget, aor: 'sip:+4940999@trunk.example' });
    await flush();
    const model = parseMetadata(dialog.pendingModify!.metadata);
    expect(model.participants.map((p) => p.id)).toContain(CLIENT_IDS.transferTarget);
    const old = model.participantSessionAssocs.find((a) => a.participantId === CLIENT_IDS.pstn)!;
    expect(old.disassociateTime).toBe(clock.now());
    expect(model.participantStreamAssocs.find((a) => a.participantId === CLIENT_IDS.transferTarget)?.send).toEqual([CLIENT_IDS.stream1]);
    dialog.pendingModify!.respond(200);
    expect(await r).toMatchObject({ ok: true });
  });

  it('sends one INVITE transaction at a time: an update requested during a pause waits for the pause to finish', async () => {
    const { session, dialog } = await establishedSession();
    void session.pause();
    await flush();
    void session.updateMetadata((m) => (m.participants[1]!.nameIds[0]!.names = [{ text: 'Alice B', lang: 'en' }]));
    await flush();
    expect(dialog.modifies).toHaveLength(1);
    expect(dialog.modifies[0]!.metadata).not.toContain('Alice B');
    dialog.pendingModify!.respond(200);
    await flush();
    expect(dialog.modifies).toHaveLength(2);
    expect(directions(dialog.modifies[1]!.sdp)).toEqual(['inactive', 'inactive']);
    expect(dialog.modifies[1]!.metadata).toContain('Alice B');
  });

  it('rejects pause() outside active/paused as an illegal transition', async () => {
    const { session, dialog } = await establishedSession();
    dialog.sendBye();
    expect(session.state).toBe('failed');
    await expect(session.pause()).rejects.toMatchObject({ code: 'ILLEGAL_STATE_TRANSITION' });
  });
});

describe('RecordingSession metadata coalescing', () => {
  it('an update queued behind a pause that already carried it sends nothing more (complete snapshots)', async () => {
    const { session, dialog } = await establishedSession();
    void session.pause();
    const update = session.updateMetadata((m) => (m.participants[1]!.nameIds[0]!.names = [{ text: 'Carol', lang: 'en' }]));
    await flush();
    expect(dialog.modifies[0]!.metadata).toContain('Carol');
    dialog.pendingModify!.respond(200);
    expect(await update).toMatchObject({ ok: true, status: 0 });
    expect(dialog.modifies).toHaveLength(1);
  });
});
