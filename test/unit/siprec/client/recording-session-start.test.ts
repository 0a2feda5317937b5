import { describe, expect, it } from 'vitest';
import { parseSiprecBody, parseRecordingSdp, parseContentType, validateMetadata } from '../../../../src/siprec/index.js';
import { isAppError } from '../../../../src/common/errors.js';
import { RecordingSession } from '../../../../src/siprec/client/recording-session.js';
import { answerFor } from '../../../fakes/fake-srs-connector.js';
import { establishedSession, flush, makeSession, TARGETS } from './session-fixture.js';

describe('RecordingSession start and failover (RFC 7866, R-30, R-34, R-40)', () => {
  it('sends the INVITE with Require: siprec, +sip.src and a multipart body of two sendonly labelled streams and valid metadata (R-30)', () => {
    const { session, connector } = makeSession();
    void session.start();
    const req = connector.last.request;
    expect(req.target).toBe('sip:srs@10.0.0.1:5060');
    expect(req.headers.Require).toBe('siprec');
    expect(req.headers.Contact).toMatch(/^<sip:src@localhost>;\+sip\.src$/);
    expect(req.headers.Accept).toContain('application/rs-metadata-request');
    const ct = parseContentType(req.body.contentType);
    expect(ct.mediaType).toBe('multipart/mixed');
    expect(ct.params.get('boundary')).toBeTruthy();
    const body = parseSiprecBody(req.body.contentType, req.body.body);
    const sdp = parseRecordingSdp(body.sdp!);
    expect(sdp.streams.map((s) => [s.label, s.direction, s.port, s.profile])).toEqual([
      ['1', 'sendonly', 20000, 'RTP/AVP'],
      ['2', 'sendonly', 20002, 'RTP/AVP'],
    ]);
    expect(body.metadataMediaType).toBe('application/rs-metadata+xml');
    expect(validateMetadata(body.metadata!)).toEqual([]);
    expect(body.metadata).toContain('<datamode>complete</datamode>');
  });

  it('MUST NOT wait for the recording server: start() returns at once and the state is inviting (R-34)', () => {
    const { session, connector } = makeSession();
    let settled = false;
    void session.start().then(() => (settled = true));
    expect(session.state).toBe('inviting');
    expect(connector.invites).toHaveLength(1);
    expect(settled).toBe(false);
  });

  it('emits established with the SRS RTP addresses for label 1 and label 2 when the SRS answers 200', async () => {
    const { session, connector, of } = makeSession();
    const outcome = session.start();
    connector.last.answer(answerFor(connector.last.request.body, { address: '10.9.9.9', ports: [41000, 41002] }));
    const result = await outcome;
    expect(result.established).toBe(true);
    expect(session.state).toBe('active');
    const [info] = of('established')[0] as [{ targets: { label1: { address: string; port: number; accepted: boolean }; label2: { port: number } } }];
    expect(info.targets.label1).toMatchObject({ address: '10.9.9.9', port: 41000, accepted: true, payloadType: 0 });
    expect(info.targets.label2).toMatchObject({ port: 41002, accepted: true });
    expect(of('state')).toEqual([
      ['idle', 'inviting'],
      ['inviting', 'active'],
    ]);
  });

  it('fails over to the next recording server when the first stays silent for the attempt timeout (4 s) and CANCELs it (R-40)', async () => {
    const { session, connector, clock, of } = makeSession();
    void session.start();
    clock.advance(3999);
    await flush();
    expect(connector.invites).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(connector.invites[0]!.cancelled).toBe(true);
    expect(connector.invites).toHaveLength(2);
    expect(connector.last.request.target).toBe('sip:srs@10.0.0.2:5060');
    expect(of('attemptFailed')[0]![0]).toMatchObject({ attempt: 0, outcome: { kind: 'timeout' }, elapsedMs: 4000 });
    connector.last.answer();
    await flush();
    expect(session.state).toBe('active');
  });

  it.each([
    ['503', (p: { reject: (s: number) => void }) => p.reject(503)],
    ['500', (p: { reject: (s: number) => void }) => p.reject(500)],
    ['408', (p: { reject: (s: number) => void }) => p.reject(408)],
    ['a transport error', (p: { failTransport: () => void }) => p.failTransport()],
  ])('fails over to the next recording server on %s (R-40)', async (_name, fail) => {
    const { session, connector } = makeSession();
    void session.start();
    fail(connector.last as never);
    await flush();
    expect(connector.invites).toHaveLength(2);
    expect(connector.last.request.target).toBe(TARGETS[1]!.uri);
    expect(session.state).toBe('inviting');
  });

  it('does not fail over on 488: fails at once with the configured R-40 policy', async () => {
    const { session, connector, of } = makeSession();
    const outcome = session.start();
    connector.last.reject(488, 'Not Acceptable Here');
    const result = await outcome;
    expect(connector.invites).toHaveLength(1);
    expect(session.state).toBe('failed');
    expect(result.established).toBe(false);
    const [failure] = of('failed')[0] as [{ reason: string; phase: string; policy: string; code: string; detail: string }];
    expect(failure).toMatchObject({ reason: 'no-recording-server', phase: 'start', policy: 'endCallWithAnnouncement', code: 'SIPREC_CLIENT_SRS_UNAVAILABLE' });
    expect(failure.detail).toContain('488');
  });

  it('reports failed with the policy once every recording server failed, trying each once in order', async () => {
    const { session, connector, of } = makeSession();
    void session.start();
    connector.last.reject(503);
    await flush();
    connector.last.failTransport();
    await flush();
    connector.last.reject(500);
    await flush();
    expect(connector.invites.map((i) => i.request.target)).toEqual(TARGETS.map((t) => t.uri));
    expect(session.state).toBe('failed');
    const [failure] = of('failed')[0] as [{ attempts: Array<{ target: string }> }];
    expect(failure.attempts.map((a) => a.target)).toEqual(TARGETS.map((t) => t.uri));
  });

  it('bounds the attempts by maxAttempts even with more targets', async () => {
    const { session, connector } = makeSession({ maxAttempts: 2 });
    void session.start();
    connector.last.reject(503);
    await flush();
    connector.last.reject(503);
    await flush();
    expect(connector.invites).toHaveLength(2);
    expect(session.state).toBe('failed');
  });

  it('fails with start-deadline when the whole start-up exceeds its bound, cancelling the attempt in flight (R-40)', async () => {
    const { session, connector, clock, of } = makeSession({ startDeadlineMs: 6000 });
    void session.start();
    clock.advance(4000);
    await flush();
    expect(connector.invites).toHaveLength(2);
    clock.advance(2000);
    await flush();
    expect(connector.invites[1]!.cancelled).toBe(true);
    expect(connector.invites).toHaveLength(2);
    expect(session.state).toBe('failed');
    expect(of('failed')[0]![0]).toMatchObject({ reason: 'start-deadline', policy: 'endCallWithAnnouncement' });
    expect(clock.pending).toBe(0);
  });

  it('CANCELs the pending recording INVITE when stopped while inviting (the call ended first)', async () => {
    const { session, connector, clock, of } = makeSession();
    const outcome = session.start();
    await session.stop();
    expect(connector.last.cancelled).toBe(true);
    expect(session.state).toBe('stopped');
    expect(of('stopped')).toEqual([['cancelled']]);
    expect(await outcome).toMatchObject({ established: false, state: 'stopped' });
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    await flush();
    expect(connector.invites).toHaveLength(1);
  });

  it('sends metadata changed while inviting right after the 200', async () => {
    const { session, connector } = makeSession();
    void session.start();
    await session.updateMetadata((m) => (m.participants[0]!.nameIds[0]!.names = [{ text: 'Bob', lang: 'en' }]));
    const dialog = connector.last.answer();
    await flush();
    expect(dialog.modifies).toHaveLength(1);
    expect(dialog.modifies[0]!.metadata).toContain('Bob');
  });

  it('tries a TLS target with ;transport=tls and a TLS Contact (R-42)', () => {
    const { session, connector } = makeSession({ targets: [{ uri: 'sip:srs@rec.example.com:5061', transport: 'tls' }] });
    void session.start();
    expect(connector.last.request.target).toBe('sip:srs@rec.example.com:5061;transport=tls');
    expect(connector.last.request.headers.Contact).toBe('<sip:src@localhost;transport=tls>;+sip.src');
  });

  it('offers RTP/SAVP with a=crypto on every m-line when SRTP is required, and refuses a plain RTP answer (R-42)', async () => {
    const crypto = {
      label1: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw' },
      label2: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0' },
    };
    const { session, connector, of } = makeSession({ srtp: true, media: { address: '127.0.0.1', ports: { label1: 20000, label2: 20002 }, crypto } });
    void session.start();
    const sdp = parseRecordingSdp(parseSiprecBody(connector.last.request.body.contentType, connector.last.request.body.body).sdp!);
    expect(sdp.streams.map((s) => [s.profile, s.crypto.length])).toEqual([
      ['RTP/SAVP', 1],
      ['RTP/SAVP', 1],
    ]);
    const plain = answerFor(connector.last.request.body, { acceptCrypto: true }).replace(/^a=crypto.*\r\n/gm, '');
    const dialog = connector.last.answer(plain);
    await flush();
    expect(dialog.byeCount).toBe(1);
    expect(session.state).toBe('failed');
    expect(of('failed')[0]![0]).toMatchObject({ reason: 'answer-unusable' });
  });

  it('establishes over SRTP when the SRS answers with a=crypto and reports its key (R-42)', async () => {
    const crypto = {
      label1: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw' },
      label2: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0' },
    };
    const { session, connector } = makeSession({ srtp: true, media: { address: '127.0.0.1', ports: { label1: 20000, label2: 20002 }, crypto } });
    void session.start();
    connector.last.answer(answerFor(connector.last.request.body, { acceptCrypto: true }));
    await flush();
    expect(session.state).toBe('active');
    expect(session.rtpTargets?.label1.remoteCrypto?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
  });

  it('refuses SRTP without keys at construction (programmer error)', () => {
    expect(() => makeSession({ srtp: true })).toThrowError(expect.objectContaining({ code: 'SIPREC_CLIENT_OPTIONS_INVALID' }));
  });

  it('fails with answer-unusable (no failover) when the SRS accepts no stream, and BYEs that dialog', async () => {
    const { session, connector } = makeSession();
    void session.start();
    const refusedAll = answerFor(connector.last.request.body).replace(/^m=audio \d+/gm, 'm=audio 0');
    const dialog = connector.last.answer(refusedAll);
    await flush();
    expect(dialog.byeCount).toBe(1);
    expect(connector.invites).toHaveLength(1);
    expect(session.failure?.reason).toBe('answer-unusable');
  });

  it('reports a refused stream (port 0) as not accepted while the other is established', async () => {
    const { session, connector } = makeSession();
    void session.start();
    connector.last.answer(answerFor(connector.last.request.body, { ports: [41000, 0] }));
    await flush();
    expect(session.state).toBe('active');
    expect(session.rtpTargets?.label1.accepted).toBe(true);
    expect(session.rtpTargets?.label2.accepted).toBe(false);
  });

  it('start() is idempotent and rejects after close()', async () => {
    const { session } = await establishedSession();
    const a = session.start();
    expect(await a).toMatchObject({ established: true });
    await session.close();
    expect(() => session.start()).toThrowError(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('refuses to build without a recording server', () => {
    try {
      makeSession({ targets: [] });
      expect.unreachable();
    } catch (err) {
      expect(isAppError(err, 'SIPREC_CLIENT_OPTIONS_INVALID')).toBe(true);
    }
    expect(RecordingSession).toBeTypeOf('function');
  });
});
