/**
 * Engine conformance, transports: calls over TCP with SIPp (-t t1), TCP stream framing with a raw
 * net.Socket (a message split across writes, several messages in one write), and UDP retransmission
 * absorption with a raw datagram socket.
 * Ports: block 3 of the conformance range (15450-15599).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import {
  RawSipPeer,
  deferred,
  rawRequest,
  sendResponse,
  startHarness,
  testSdp,
  within,
  type EngineHarness,
  type SrfDialog,
  type TestApp,
} from '../../support/engine-harness.js';
import { expectedOn } from '../../support/engine-divergences.js';
import { ENGINE_CONFORMANCE_PORTS, portBlock, sippPorts } from '../../support/ports.js';
import { findMessages, headerOf, runSipp, scenarioPath, startSipp, type SippResult } from '../../support/sipp.js';
import { sleep, until } from '../../support/wait.js';

const ports = portBlock(ENGINE_CONFORMANCE_PORTS, 3, 150);
let harness: EngineHarness;
let app: TestApp;
const peers: RawSipPeer[] = [];

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  app = await harness.connectApp({ routes: ['invite'] });
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(() => app.handle('invite', undefined));

afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.close();
});

function expectSippOk(result: SippResult, calls = 1): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(calls);
  expect(result.stats.failed, result.describe()).toBe(0);
}

const engineAddress = (): { host: string; port: number } => ({ host: harness.sipHost, port: harness.sipPort });

async function tcpPeer(): Promise<RawSipPeer> {
  const peer = await RawSipPeer.tcp(ports.next(), engineAddress());
  peers.push(peer);
  return peer;
}

async function udpPeer(): Promise<RawSipPeer> {
  const peer = await RawSipPeer.udp(ports.next(), engineAddress());
  peers.push(peer);
  return peer;
}

function invite(peer: RawSipPeer, callId: string, body = testSdp(40200)): string {
  return rawRequest({
    method: 'INVITE',
    uri: `sip:raw@${harness.target}`,
    callId,
    branch: `z9hG4bK-${randomUUID()}`,
    fromTag: 'rawtag1',
    cseq: 1,
    local: { port: peer.localPort, transport: peer.transport },
    body,
  });
}

function ackFor(peer: RawSipPeer, sentInvite: string, response: string): string {
  const toTag = /;tag=([^;\s>]+)/.exec(headerOf(response, 'To', 't') ?? '')?.[1];
  const branch = /branch=([^;\s]+)/.exec(headerOf(sentInvite, 'Via', 'v') ?? '')?.[1] ?? 'z9hG4bK-x';
  return rawRequest({
    method: 'ACK',
    uri: `sip:raw@${harness.target}`,
    callId: headerOf(sentInvite, 'Call-ID', 'i')!,
    branch,
    fromTag: 'rawtag1',
    toTag,
    cseq: 1,
    local: { port: peer.localPort, transport: peer.transport },
  });
}

describe('engine conformance: transports', () => {
  it('C10 TCP: a SIPp call over TCP (-t t1) is answered by the app and torn down by SIPp', async () => {
    const destroyed = deferred<void>();
    let protocol = '';
    app.handle('invite', (req, res) => {
      protocol = req.protocol;
      app.srf
        .createUAS(req, res, { localSdp: testSdp(40202) })
        .then((d) => d.on('destroy', () => destroyed.resolve()))
        .catch(destroyed.reject);
    });
    const result = await runSipp({
      scenario: scenarioPath('uac-call-bye'),
      remote: harness.target,
      ...sippPorts(ports),
      transport: 't1',
      timeoutSec: 15,
    });
    expectSippOk(result);
    expect(result.messages.every((m) => m.transport === 'TCP')).toBe(true);
    const ok = findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0]!;
    expect(headerOf(ok.text, 'Contact', 'm')).toMatch(/transport=tcp/i);
    await within(destroyed.promise, 2000, "the dialog's destroy event");
    expect(protocol, 'srf req.protocol').toBe('tcp');
  });

  it('C11 TCP: createUAC to a ;transport=tcp URI goes out over TCP, with a TCP Via, and completes', async () => {
    const p = sippPorts(ports);
    const sipp = startSipp({ scenario: scenarioPath('uas-answer'), ...p, transport: 't1', timeoutSec: 15 });
    await sipp.ready();
    const dialog: SrfDialog = await within(
      app.srf.createUAC(`sip:callee@127.0.0.1:${p.port};transport=tcp`, { localSdp: testSdp(40204) }).catch(async (err: unknown) => {
        // Explain a failure: the response the engine delivered and what SIPp saw.
        const raw = (err as { res?: { raw?: string } }).res?.raw ?? String(err);
        const seen = await sipp.stop();
        throw new Error(`createUAC over TCP failed:\n${raw}\n${seen.describe()}`);
      }),
      5000,
      'createUAC over TCP',
    );
    dialog.destroy();
    const result = await sipp.done;
    expectSippOk(result);
    const inv = findMessages(result.messages, { direction: 'received', method: 'INVITE' })[0]!;
    expect(inv.transport).toBe('TCP');
    expect(headerOf(inv.text, 'Via', 'v')).toMatch(/^SIP\/2\.0\/TCP /);
  });

  it('B8 TCP framing: an INVITE split across five writes (inside a header and inside the body) reaches the app intact', async () => {
    const peer = await tcpPeer();
    const seen = deferred<{ body: string; callId: string }>();
    app.handle('invite', (req, res) => {
      seen.resolve({ body: req.body, callId: req.get('Call-ID') });
      sendResponse(res, 486);
    });
    const body = testSdp(40206);
    const msg = invite(peer, `split-${randomUUID()}`, body);
    const cuts = [7, msg.indexOf('Call-ID') + 4, msg.indexOf('\r\n\r\n') + 2, msg.indexOf('m=audio') + 3];
    let at = 0;
    for (const cut of [...cuts, msg.length]) {
      await peer.send(msg.slice(at, cut));
      at = cut;
      await sleep(30);
    }
    const got = await within(seen.promise, 3000, 'the app to get the split INVITE');
    expect(got.body).toBe(body);
    expect(got.callId).toBe(headerOf(msg, 'Call-ID'));
    const busy = await peer.waitFor((m) => m.startsWith('SIP/2.0 486'), 3000, '486 on the same TCP connection');
    expect(headerOf(busy, 'Call-ID', 'i')).toBe(headerOf(msg, 'Call-ID'));
    await peer.send(ackFor(peer, msg, busy));
  });

  it('B8 TCP framing: three requests and CRLF keep-alives in one write each get their own answer, in order', async () => {
    const peer = await tcpPeer();
    const callIds = [1, 2, 3].map((i) => `batch-${i}-${randomUUID()}`);
    const messages = callIds.map((callId, i) =>
      rawRequest({
        method: 'MESSAGE',
        uri: `sip:raw@${harness.target}`,
        callId,
        branch: `z9hG4bK-batch-${i}-${randomUUID()}`,
        fromTag: `batch${i}`,
        cseq: 1,
        local: { port: peer.localPort, transport: 'TCP' },
        body: `hello ${i} \u00e9\u00e8`,
        contentType: 'text/plain; charset=utf-8',
      }),
    );
    await peer.send('\r\n\r\n' + messages.join('\r\n\r\n'));
    // drachtio-server drops everything that follows a keep-alive in the same read
    const expected = expectedOn(harness, 'crlf-keepalive-then-request', { engine: callIds, drachtio: [] as string[] });
    await until(() => peer.received.length >= expected.length, `${expected.length} answers`, 3000);
    await sleep(500);
    for (const r of peer.received) expect(r.split('\r\n')[0]).toBe('SIP/2.0 503 Service Unavailable');
    expect(peer.received.map((m) => headerOf(m, 'Call-ID', 'i')), 'each answered once, in order').toEqual(expected);
  });

  it('D13 UDP: a retransmitted INVITE is absorbed (the app sees one INVITE) and the last provisional is repeated', async () => {
    const peer = await udpPeer();
    let invites = 0;
    const answered = deferred<void>();
    app.handle('invite', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      invites++;
      sendResponse(res, 180);
      setTimeout(() => {
        sendResponse(res, 486);
        answered.resolve();
      }, 300);
    });
    const msg = invite(peer, `retrans-${randomUUID()}`);
    await peer.send(msg);
    await peer.waitFor((m) => m.startsWith('SIP/2.0 180'), 2000, '180 Ringing');
    await peer.send(msg);
    await sleep(50);
    await peer.send(msg);
    await within(answered.promise, 2000, 'the app to answer');
    const busy = await peer.waitFor((m) => m.startsWith('SIP/2.0 486'), 2000, '486');
    await peer.send(ackFor(peer, msg, busy));
    await sleep(100);
    expect(invites).toBe(1);
    // RFC 3261 17.2.1: a retransmission in Proceeding gets the most recent provisional again.
    expect(peer.startingWith('SIP/2.0 180').length).toBeGreaterThanOrEqual(2);
    const stats = harness.stats();
    if (stats) expect(stats.retransmissionsAbsorbed).toBeGreaterThanOrEqual(2);
  });

  it('D13 UDP: the final non-2xx is retransmitted until ACKed, then stops (Timer G/H)', async () => {
    const peer = await udpPeer();
    app.handle('invite', (_req, res) => sendResponse(res, 486));
    const msg = invite(peer, `timer-g-${randomUUID()}`);
    await peer.send(msg);
    await peer.waitFor((m) => m.startsWith('SIP/2.0 486'), 2000, '486');
    await sleep(harness.timers.t1 * 4);
    const beforeAck = peer.startingWith('SIP/2.0 486').length;
    expect(beforeAck, 'the 486 was retransmitted while no ACK came').toBeGreaterThanOrEqual(2);
    await peer.send(ackFor(peer, msg, peer.startingWith('SIP/2.0 486')[0]!));
    await sleep(harness.timers.t1 * 8);
    expect(peer.startingWith('SIP/2.0 486').length - beforeAck, 'no retransmission after the ACK').toBeLessThanOrEqual(1);
  });
});
