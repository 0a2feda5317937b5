/**
 * The recording-session client over real loopback sockets: the embedded SIP engine, a drachtio-srf
 * app using the DrachtioSrsConnector, and SIPp acting as the recording server (sipp-scenarios/srs/).
 * Ports 18000-18999 only (SIP, SIPp control, media).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, systemTimers } from '../../../src/common/clock.js';
import { createRecordingMetadata } from '../../../src/siprec/index.js';
import { RecordingSession } from '../../../src/siprec/client/recording-session.js';
import type { RecordingSessionOptions } from '../../../src/siprec/client/recording-session-options.js';
import type { RecordingFailure } from '../../../src/siprec/client/recording-session-types.js';
import { DrachtioSrsConnector } from '../../../src/sip/srs-connector.js';
import { startHarness, type EngineHarness, type TestApp } from '../../support/engine-harness.js';
import { portBlock } from '../../support/ports.js';
import { assertSippInstalled, findMessages, scenarioPath, startSipp, type SippProcess, type SippOptions } from '../../support/sipp.js';
import { sleep, until } from '../../support/wait.js';

const SIPREC_CLIENT_PORTS = { from: 18000, to: 18999 };
const ports = portBlock(SIPREC_CLIENT_PORTS, 0, 200);

let harness: EngineHarness;
let app: TestApp;
let connector: DrachtioSrsConnector;

beforeAll(async () => {
  assertSippInstalled();
  const [sipPort, adminPort] = ports.take(2);
  harness = await startHarness({ sipPort: sipPort!, adminPort: adminPort! });
  app = await harness.connectApp({ routes: [] });
  connector = new DrachtioSrsConnector(app.srf);
}, 15_000);

afterAll(async () => {
  await harness?.close();
});

/** A SIPp recording server on fresh ports; returns it with its SIP URI and media port. */
async function srs(scenario: string, extra: Partial<SippOptions> = {}): Promise<{ sipp: SippProcess; uri: string; mediaPort: number }> {
  const [port, controlPort] = ports.take(2);
  const mediaPort = ports.take(4)[0]!;
  const sipp = startSipp({
    scenario: scenarioPath(scenario, 'srs'),
    port: port!,
    controlPort: controlPort!,
    mediaPort,
    timeoutSec: 20,
    ...extra,
  });
  await sipp.ready();
  return { sipp, uri: `sip:srs@127.0.0.1:${port}`, mediaPort };
}

function session(targets: string[], over: Partial<RecordingSessionOptions> = {}): RecordingSession {
  const now = systemClock.now();
  const [p1, , p2] = ports.take(4);
  return new RecordingSession({
    connector,
    targets: targets.map((uri) => ({ uri })),
    metadata: createRecordingMetadata({
      groupId: 'AAECAwQFBgcICQoLDA0ODw==',
      sessionId: 'EBESExQVFhcYGRobHB0eHw==',
      streamIds: { label1: 'UFFSU1RVVldYWVpbXF1eXw==', label2: 'YGFiY2RlZmdoaWprbG1ubw==' },
      sipSessionId: 'it-call@127.0.0.1',
      startTime: now,
      other: { id: 'ICEiIyQlJicoKSorLC0uLw==', aor: 'sip:+4930123456@127.0.0.1' },
      user: { id: 'MDEyMzQ1Njc4OTo7PD0+Pw==', aor: 'sip:alice@127.0.0.1' },
    }),
    media: { address: '127.0.0.1', ports: { label1: p1!, label2: p2! } },
    failurePolicy: 'proceedWithAnnouncement',
    sessionId: 'it',
    clock: systemClock,
    timers: systemTimers,
    attemptTimeoutMs: 1500,
    ...over,
  });
}

describe('recording-session client against SIPp recording servers (RFC 7866, R-30, R-32, R-40)', () => {
  it('establishes with a valid multipart INVITE, pauses, resumes, sends the final snapshot and BYE (R-30, R-32)', async () => {
    const { sipp, uri, mediaPort } = await srs('srs-answer');
    const s = session([uri]);
    const outcome = await s.start();
    expect(outcome.established, JSON.stringify(outcome)).toBe(true);
    expect(s.rtpTargets?.label1).toMatchObject({ address: '127.0.0.1', port: mediaPort, accepted: true });
    expect(s.rtpTargets?.label2).toMatchObject({ port: mediaPort + 2, accepted: true });
    expect(await s.pause()).toMatchObject({ ok: true, status: 200 });
    expect(s.state).toBe('paused');
    expect(await s.resume()).toMatchObject({ ok: true, status: 200 });
    expect(s.state).toBe('active');
    await s.stop();
    expect(s.state).toBe('stopped');
    const result = await sipp.done;
    expect(result.exitCode, result.describe()).toBe(0);
    const invites = findMessages(result.messages, { direction: 'received', method: 'INVITE' });
    expect(invites).toHaveLength(4); // initial, pause, resume, final snapshot
    expect(invites[1]!.text).toMatch(/a=inactive/);
    expect(invites[3]!.text).toMatch(/<stop-time>/);
    expect(findMessages(result.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
  }, 20_000);

  it('fails over from a silent recording server to the next one within the attempt timeout (R-40)', async () => {
    const silent = await srs('srs-no-answer', { pauseMs: 3000 });
    const good = await srs('srs-answer');
    const s = session([silent.uri, good.uri], { attemptTimeoutMs: 1000 });
    const t0 = Date.now();
    const outcome = await s.start();
    expect(outcome.established, JSON.stringify(outcome)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(s.attempts.map((a) => a.outcome.kind)).toEqual(['timeout', 'established']);
    await s.stop();
    const [r1, r2] = await Promise.all([silent.sipp.done, good.sipp.done]);
    expect(r2.exitCode, r2.describe()).toBe(0);
    expect(findMessages(r1.messages, { direction: 'received', method: 'INVITE' }).length).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('waits for a slow recording server that answers within the attempt timeout (100 Trying, 200 after 500 ms)', async () => {
    const { sipp, uri } = await srs('srs-slow-answer', { pauseMs: 500 });
    const s = session([uri], { attemptTimeoutMs: 2000 });
    const outcome = await s.start();
    expect(outcome.established, JSON.stringify(outcome)).toBe(true);
    expect(s.attempts).toHaveLength(1);
    await s.stop();
    const result = await sipp.done;
    expect(result.exitCode, result.describe()).toBe(0);
  }, 20_000);

  it('fails over from a closed port to the next recording server (R-40)', async () => {
    const closed = ports.next();
    const good = await srs('srs-answer');
    const s = session([`sip:srs@127.0.0.1:${closed}`, good.uri], { attemptTimeoutMs: 1000 });
    const outcome = await s.start();
    expect(outcome.established, JSON.stringify(outcome)).toBe(true);
    expect(s.attempts[0]!.outcome.kind).toMatch(/timeout|transport|status/);
    await s.stop();
    const r = await good.sipp.done;
    expect(r.exitCode, r.describe()).toBe(0);
  }, 20_000);

  it('fails over on 503 and reports failed with the policy when every server fails (R-40)', async () => {
    const a = await srs('srs-503');
    const b = await srs('srs-503');
    const s = session([a.uri, b.uri]);
    const failed: RecordingFailure[] = [];
    s.on('failed', (f) => failed.push(f));
    const outcome = await s.start();
    expect(outcome.established).toBe(false);
    expect(failed[0]).toMatchObject({ reason: 'no-recording-server', policy: 'proceedWithAnnouncement', phase: 'start' });
    expect(failed[0]!.attempts.map((x) => x.outcome)).toEqual([
      expect.objectContaining({ kind: 'status', status: 503 }),
      expect.objectContaining({ kind: 'status', status: 503 }),
    ]);
    const [ra, rb] = await Promise.all([a.sipp.done, b.sipp.done]);
    expect(ra.exitCode, ra.describe()).toBe(0);
    expect(rb.exitCode, rb.describe()).toBe(0);
  }, 20_000);

  it('CANCELs the pending recording INVITE when the call ends first', async () => {
    const { sipp, uri } = await srs('srs-expect-cancel');
    const s = session([uri], { attemptTimeoutMs: 5000 });
    const outcome = s.start();
    expect(s.state).toBe('inviting');
    await sleep(300); // let the 100 Trying arrive
    await s.stop();
    expect(await outcome).toMatchObject({ established: false, state: 'stopped' });
    const result = await sipp.done;
    expect(result.exitCode, result.describe()).toBe(0);
    expect(findMessages(result.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
  }, 20_000);

  it('reports failed with the policy when the recording server sends BYE mid-call (R-40)', async () => {
    const { sipp, uri } = await srs('srs-bye-after', { pauseMs: 300 });
    const s = session([uri]);
    const failed: RecordingFailure[] = [];
    s.on('failed', (f) => failed.push(f));
    expect((await s.start()).established).toBe(true);
    await until(() => failed.length > 0, 'the failed event', 5000);
    expect(failed[0]).toMatchObject({ reason: 'srs-bye', phase: 'mid-call', policy: 'proceedWithAnnouncement' });
    const result = await sipp.done;
    expect(result.exitCode, result.describe()).toBe(0);
  }, 20_000);

  it('retries a pause re-INVITE answered 491 after the RFC 3261 back-off (2.1 s with random 0)', async () => {
    const { sipp, uri } = await srs('srs-glare-491');
    const s = session([uri], { random: () => 0 });
    expect((await s.start()).established).toBe(true);
    const t0 = Date.now();
    expect(await s.pause()).toMatchObject({ ok: true, status: 200 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    await s.stop();
    const result = await sipp.done;
    expect(result.exitCode, result.describe()).toBe(0);
  }, 20_000);
});
