/**
 * Hardening, faults around a recorded call (ports 32000-32767):
 *
 * 1. The link between the app (drachtio-srf, the product's call layer over it) and the engine is cut
 *    in the middle of a recorded call. The media plane does not depend on that link: the parties'
 *    RTP and both fork streams to the recording server keep flowing. New INVITEs get 503 from the
 *    engine while no app is connected. Signalling of the call in progress: nothing is sent or lost
 *    while the link is down (the dialogs stay in the engine and in srf); once srf has reconnected,
 *    the engine hands the dialog's in-dialog requests to the new connection, so the caller's BYE
 *    after the outage ends both legs and the recording normally. New calls work again.
 * 2. A TCP reset on the recording server's SIP connection (provider transport tcp; a raw TCP server
 *    that reads the INVITE and resets): the R-40 failure policy applies (proceedWithAnnouncement:
 *    "recording stopped" to both parties) and the call goes on with its media unaffected.
 *
 * The call layer is assembled here like test/support/call-harness.ts does, but with the app link
 * through a LinkRelay and the engine offering TCP (for the TCP recording server).
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallManager } from '../../../src/call/call-manager.js';
import { siprecRecordingFactory } from '../../../src/call/siprec-recording-port.js';
import { systemClock, systemTimers } from '../../../src/common/clock.js';
import { startEngine, type Engine } from '../../../src/engine/index.js';
import { PromptLibrary } from '../../../src/media/audio/prompt-library.js';
import { MediaPlane } from '../../../src/media/media-plane.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { PolicySnapshot } from '../../../src/policy/policy-types.js';
import { SrfSignalingPort } from '../../../src/sip/leg.js';
import { SignalingConnection } from '../../../src/sip/signaling-connection.js';
import { DrachtioSrsConnector } from '../../../src/sip/srs-connector.js';
import type { CallDriver } from '../recording-e2e/e2e-harness.js';
import {
  OTHER_HZ,
  USER_HZ,
  e2eSnapshot,
  fullWindows,
  placeCall,
  readStereoWav,
  slice,
  startSrs,
  toneShare,
  traceDriver,
  wavFile,
  wavMsOf,
  windows,
  type SrsInstance,
} from '../recording-e2e/e2e-harness.js';
import { tracingMediaFactory, type SessionTrace } from '../../support/call-harness.js';
import { LinkRelay, rawRequest } from '../../support/engine-harness.js';
import { portBlock, type PortBlock } from '../../support/ports.js';
import { RtpPeer } from '../../support/rtp-peer.js';
import { sleep, until } from '../../support/wait.js';

const block: PortBlock = portBlock({ from: 32000, to: 32767 }, 0, 768);
const trunkPort = block.next();
const pbxPort = block.next();
const sipPort = block.next();
const adminPort = block.next();
const relayPort = block.next();
const tcpSrsPort = block.next();
const rawPort = block.next();
const dir = mkdtempSync(join(tmpdir(), 'hardening-faults-'));
const SECRET = 'faults-secret';

let engine: Engine;
let relay: LinkRelay;
let signaling: SignalingConnection;
let plane: MediaPlane;
let manager: CallManager;
let srs: SrsInstance;
let tcpSrs: Server;
const tcpSrsSeen: { connections: number; invites: number; resets: number } = { connections: 0, invites: 0, resets: 0 };
const sessions: SessionTrace[] = [];
let snapshot: PolicySnapshot;

const driver = (): CallDriver => traceDriver(sipPort, manager, sessions);

function configure(uri: string, transport: 'udp' | 'tcp'): void {
  snapshot = e2eSnapshot({
    trunkPort,
    provider: { recordingServers: [{ uri, transport }], transport, failurePolicy: 'proceedWithAnnouncement' },
    policy: { alice: { enabled: true, mode: 'always' } },
  });
}

/** A recording server that reads one INVITE per connection and answers it with a TCP RST. */
function startResettingServer(port: number): Promise<Server> {
  const server = createServer((socket: Socket) => {
    tcpSrsSeen.connections++;
    let text = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (text.includes('\r\n\r\n') && text.startsWith('INVITE ')) {
        tcpSrsSeen.invites++;
        tcpSrsSeen.resets++;
        socket.resetAndDestroy();
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Sends one INVITE from a raw UDP socket and resolves with the first final status the engine sends back. */
async function rawInviteStatus(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(rawPort, '127.0.0.1', () => r()));
  try {
    const status = new Promise<number>((resolve) => {
      sock.on('message', (msg) => {
        const m = /^SIP\/2\.0 (\d{3})/.exec(msg.toString('utf8'));
        if (m && Number(m[1]) >= 200) resolve(Number(m[1]));
      });
    });
    const text = rawRequest({
      method: 'INVITE',
      uri: `sip:+15550002001@127.0.0.1:${sipPort}`,
      callId: `outage-${Date.now()}`,
      branch: `z9hG4bK-outage-${Date.now()}`,
      fromTag: 'outage',
      cseq: 1,
      local: { port: rawPort, transport: 'UDP' },
      body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=sendrecv\r\n',
    });
    sock.send(text, sipPort, '127.0.0.1');
    return await Promise.race([status, sleep(2000).then(() => -1)]);
  } finally {
    sock.close();
  }
}

beforeAll(async () => {
  engine = await startEngine({
    sipContacts: [`sip:127.0.0.1:${sipPort};transport=udp,tcp`],
    adminHost: '127.0.0.1',
    adminPort,
    secret: SECRET,
    t1: 100,
    t2: 800,
    t4: 1000,
  });
  relay = new LinkRelay(relayPort, engine.adminAddress);
  await relay.start();
  signaling = await SignalingConnection.connect({ host: '127.0.0.1', port: relayPort, secret: SECRET, logger: silentLogger });
  const [srsRtp] = block.take(20);
  srs = await startSrs({ sipPort: block.next(), rtpFrom: srsRtp!, rtpTo: srsRtp! + 19, dir: join(dir, 'srs') });
  tcpSrs = await startResettingServer(tcpSrsPort);
  const prompts = PromptLibrary.load('prompts', { languages: ['en'] });
  const range = block.take(101);
  const rtpMin = range[0]! % 2 === 0 ? range[0]! : range[1]!;
  plane = await MediaPlane.start({ portMin: rtpMin, portMax: rtpMin + 99, workers: 0, prompts });
  const media = tracingMediaFactory(plane, sessions);
  configure(srs.uri, 'udp');
  manager = new CallManager({
    signaling: new SrfSignalingPort(signaling.srf),
    policy: { snapshots: async () => [snapshot] },
    media,
    prompts,
    recording: siprecRecordingFactory({
      connector: new DrachtioSrsConnector(signaling.srf),
      clock: systemClock,
      timers: systemTimers,
      session: { attemptTimeoutMs: 1500, startDeadlineMs: 5000 },
    }),
    options: { admission: { trustedSources: [`127.0.0.1:${pbxPort}`] }, routing: { userProxy: `sip:127.0.0.1:${pbxPort}` } },
    logger: silentLogger,
  }).attach();
}, 20_000);

afterAll(async () => {
  await manager?.close();
  await plane?.close();
  signaling?.close();
  await relay?.close();
  await engine?.close();
  await srs?.close();
  await new Promise<void>((r) => (tcpSrs ? tcpSrs.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

/** Received audio packets of a peer in [from, to) (performance.now()). */
function countIn(peer: RtpPeer, from: number, to: number): number {
  return peer.packets().filter((p) => p.at >= from && p.at < to).length;
}

describe('hardening: faults around a recorded call', () => {
  it('app<->engine link lost mid-call: media and both fork streams keep flowing, new INVITEs get 503, srf reconnects, the call ends normally and new calls work', async () => {
    configure(srs.uri, 'udp');
    const startedBefore = srs.started;
    const run = await placeCall(driver(), block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 8000 });
    let cutAt = 0;
    let restoredAt = 0;
    try {
      await run.connected();
      await until(() => srs.started === startedBefore + 1, 'the recording to start', 5000);
      await sleep(800);
      const reconnected = new Promise<void>((resolve) => signaling.srf.once('connect', () => resolve()));
      relay.cut();
      cutAt = performance.now();
      await until(() => engine.stats().connectedApps === 0, 'the engine to notice the lost app', 2000);
      // a new call while no app is connected: 503 from the engine itself
      expect(await rawInviteStatus()).toBe(503);
      await sleep(Math.max(0, cutAt + 2000 - performance.now()));
      restoredAt = performance.now();
      relay.restore();
      await Promise.race([reconnected, sleep(5000).then(() => Promise.reject(new Error('srf did not reconnect within 5 s')))]);
      await until(() => engine.stats().connectedApps === 1, 'the engine to count the app again', 2000);
      // the call is still up in the call layer after the outage
      expect(manager.list().map((c) => c.state)).toEqual(['connected']);
      // both parties heard each other the whole outage (50 packets/s each way)
      const outageMs = restoredAt - cutAt;
      expect(countIn(run.pstn, cutAt, restoredAt)).toBeGreaterThan((outageMs / 20) * 0.9);
      expect(countIn(run.user, cutAt, restoredAt)).toBeGreaterThan((outageMs / 20) * 0.9);
      expect(toneShare(RtpPeer.decode(run.pstn.packets().filter((p) => p.at >= cutAt && p.at < restoredAt)), USER_HZ)).toBeGreaterThan(0.9);
      expect(toneShare(RtpPeer.decode(run.user.packets().filter((p) => p.at >= cutAt && p.at < restoredAt)), OTHER_HZ)).toBeGreaterThan(0.9);
      // the caller's BYE after the outage reaches the app over the new link: both legs end cleanly
      await run.partiesOk();
    } finally {
      run.close();
    }
    await until(() => manager.list().length === 0, 'the call to be gone', 3000);
    await until(() => srs.summaries.length === 1, 'the recording summary', 3000);
    const summary = srs.summaries[0]!;
    expect(summary.endReason).not.toBe('fault-bye');
    // the recording server got both streams through the outage: the WAV holds each party's tone there
    const wav = readStereoWav(wavFile(srs, summary));
    const from = wavMsOf(summary, cutAt);
    const to = wavMsOf(summary, restoredAt);
    expect(wav.durationMs).toBeGreaterThan(to + 500);
    const ch1 = fullWindows(windows(slice(wav.ch1, from, to), OTHER_HZ));
    const ch2 = fullWindows(windows(slice(wav.ch2, from, to), USER_HZ));
    const expectedWindows = Math.floor((to - from) / 200) - 1;
    expect(ch1.length).toBeGreaterThanOrEqual(expectedWindows);
    expect(ch2.length).toBeGreaterThanOrEqual(expectedWindows);
    for (const w of [...ch1, ...ch2]) expect(w.share).toBeGreaterThan(0.97);

    // a new recorded call after the link is back works end to end
    const again = await placeCall(driver(), block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 1500 });
    await again.finish();
    await until(() => srs.summaries.length === 2, 'the second recording summary', 3000);
  }, 40_000);

  it('a party hanging up while the app<->engine link is down: the engine answers its BYE, and once srf has reconnected the app finds the dialog gone and ends the call (BYE to the other party, recording stopped normally)', async () => {
    configure(srs.uri, 'udp');
    const startedBefore = srs.started;
    const summariesBefore = srs.summaries.length;
    const run = await placeCall(driver(), block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 1200 });
    let calleeEndedAt = 0;
    let restoredAt = 0;
    try {
      await run.connected();
      await until(() => srs.started === startedBefore + 1, 'the recording to start', 5000);
      // the recording server's 200 answered and ACKed before the cut (talk time 1,200 ms from the caller's ACK)
      await until(() => manager.list()[0]?.recording.state === 'recording', 'the recording to be established', 2000);
      await sleep(200);
      const reconnected = new Promise<void>((resolve) => signaling.srf.once('connect', () => resolve()));
      relay.cut();
      await until(() => engine.stats().connectedApps === 0, 'the engine to notice the lost app', 2000);
      // the caller's BYE comes while no app is connected: answered by the engine (SIPp's scenario ends ok)
      const [caller, callee] = [run.done.then(([c]) => c), run.done.then(([, c]) => c)];
      await sleep(2500);
      // the app has not heard of it: the call and the callee's leg are still up
      expect(manager.list().map((c) => c.state)).toEqual(['connected']);
      restoredAt = performance.now();
      relay.restore();
      await Promise.race([reconnected, sleep(5000).then(() => Promise.reject(new Error('srf did not reconnect within 5 s')))]);
      const calleeResult = await callee;
      calleeEndedAt = performance.now();
      expect((await caller).exitCode, (await caller).describe()).toBe(0);
      // the callee got a BYE from the B2BUA (its scenario waits for one) soon after the link came back
      expect(calleeResult.exitCode, calleeResult.describe()).toBe(0);
      expect(calleeEndedAt - restoredAt).toBeLessThan(3000);
    } finally {
      run.close();
    }
    await until(() => manager.list().length === 0, 'the call to be gone', 3000);
    await until(() => srs.summaries.length === summariesBefore + 1, 'the recording summary', 3000);
    expect(srs.summaries[summariesBefore]!.endReason).not.toBe('fault-bye');
  }, 30_000);

  it('R-40: a TCP reset on the recording server connection applies the failure policy (proceed), the call and its media go on', async () => {
    configure(`sip:srs@127.0.0.1:${tcpSrsPort}`, 'tcp');
    const invitesBefore = tcpSrsSeen.invites;
    const run = await placeCall(driver(), block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 5000 });
    await run.finish();
    // one INVITE, answered by a reset (the only server, so no failover)
    expect(tcpSrsSeen.invites).toBe(invitesBefore + 1);
    // proceedWithAnnouncement: both parties hear "recording stopped" once, the call was not ended
    const stopped = run.trace.prompts.filter((p) => p.name === 'recording-stopped');
    expect(stopped.map((p) => p.leg).sort()).toEqual(['a', 'b']);
    for (const p of stopped) expect(p.reason).toBe('completed');
    // the reset failed the attempt at once (the engine's transport error), not the 1500 ms attempt timeout
    for (const p of stopped) expect(p.startedAt! - run.trace.createdAt).toBeLessThan(1200);
    // after the announcement the parties heard each other, uninterrupted
    const after = Math.max(...stopped.map((p) => p.endedAt!)) + 200;
    const end = after + 1500;
    expect(countIn(run.pstn, after, end)).toBeGreaterThan((1500 / 20) * 0.9);
    expect(countIn(run.user, after, end)).toBeGreaterThan((1500 / 20) * 0.9);
    expect(toneShare(RtpPeer.decode(run.pstn.packets().filter((p) => p.at >= after && p.at < end)), USER_HZ)).toBeGreaterThan(0.9);
    expect(toneShare(RtpPeer.decode(run.user.packets().filter((p) => p.at >= after && p.at < end)), OTHER_HZ)).toBeGreaterThan(0.9);
    expect(RtpPeer.continuityProblems(run.pstn.packets())).toEqual([]);
    await until(() => manager.list().length === 0, 'the call to be gone', 3000);
  }, 30_000);
});
