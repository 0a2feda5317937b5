/**
 * What the engine leaves out of drachtio-server's behaviour is refused with a NOK that names the
 * feature (docs/engine.md "Not supported"), so an srf app fails loudly instead of hanging.
 * A raw UDP peer plays the caller. Ports: block 2 of 46000-46999.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RawSipPeer,
  deferred,
  externalServerConfigured,
  rawRequest,
  sendResponse,
  startHarness,
  testSdp,
  within,
  type EngineHarness,
  type SrfRequest,
  type SrfResponse,
  type TestApp,
} from '../../support/engine-harness.js';
import { portBlock } from '../../support/ports.js';
import { headerOf } from '../../support/sipp.js';

const ports = portBlock({ from: 46000, to: 46999 }, 2, 50);
let harness: EngineHarness;
let app: TestApp;
let peer: RawSipPeer;

type ProxyFn = (req: SrfRequest, destination: string[], opts: Record<string, unknown>) => Promise<unknown>;
type RequestFn = (uri: string, opts: { method: string }) => Promise<unknown>;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  app = await harness.connectApp({ routes: ['invite'] });
  peer = await RawSipPeer.udp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
});

afterAll(async () => {
  await peer?.close();
  await harness?.close();
});

beforeEach(() => app.handle('invite', undefined));

function invite(callId: string): string {
  return rawRequest({
    method: 'INVITE',
    uri: `sip:raw@${harness.target}`,
    callId,
    branch: `z9hG4bK-${randomUUID()}`,
    fromTag: 'rawtag1',
    cseq: 1,
    local: { port: peer.localPort, transport: 'UDP' },
    body: testSdp(peer.localPort + 2),
  });
}

function proxy(req: SrfRequest, destinations: string[]): Promise<unknown> {
  return (app.srf.proxyRequest.bind(app.srf) as unknown as ProxyFn)(req, destinations, {});
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected a NOK, the request succeeded');
}

// engine-only: drachtio-server words (and in part does) these differently
describe.skipIf(externalServerConfigured())('features the engine leaves out are refused by name', () => {
  it('MUST refuse a request over a WebSocket transport with a NOK naming WebSocket', async () => {
    const request = app.srf.request.bind(app.srf) as unknown as RequestFn;
    const message = await errorOf(request('sip:ws-peer@127.0.0.1:8080;transport=ws', { method: 'OPTIONS' }));
    expect(message).toContain('requested protocol/transport not available');
    expect(message).toContain('WebSocket');
  });

  it('MUST refuse to proxy to tel: destinations with a NOK naming them, and answer the caller 500', async () => {
    const outcome = deferred<string>();
    app.handle('invite', (req) => void errorOf(proxy(req, ['tel:+15550001111'])).then(outcome.resolve));
    const callId = randomUUID();
    const from = peer.received.length;
    await peer.send(invite(callId));
    const message = await within(outcome.promise, 3000, 'the proxy NOK');
    expect(message).toContain('tel: destinations');
    const final = await peer.waitFor((m) => m.startsWith('SIP/2.0 500') && m.includes(callId), 3000, 'the 500', from);
    expect(headerOf(final, 'To', 't')).toMatch(/;tag=/);
  });

  it('MUST refuse to proxy a request the app already answered provisionally, and leave the request to the app', async () => {
    const outcome = deferred<string>();
    app.handle('invite', (req: SrfRequest, res: SrfResponse) => {
      sendResponse(res, 180);
      void errorOf(proxy(req, ['sip:callee@127.0.0.1:9'])).then((message) => {
        outcome.resolve(message);
        sendResponse(res, 486);
      });
    });
    const callId = randomUUID();
    const from = peer.received.length;
    await peer.send(invite(callId));
    const message = await within(outcome.promise, 3000, 'the proxy NOK');
    expect(message).toContain('already answered');
    await peer.waitFor((m) => m.startsWith('SIP/2.0 486') && m.includes(callId), 3000, "the app's own 486", from);
  });

  it('MUST refuse to proxy a request inside a dialog, and leave it to the app', async () => {
    const outcome = deferred<string>();
    app.handle('invite', (req: SrfRequest, res: SrfResponse) => {
      void app.srf.createUAS(req, res, { localSdp: testSdp(ports.next()) }).then((dialog) => {
        (dialog as unknown as { on(e: 'info', fn: (r: SrfRequest, s: SrfResponse) => void): void }).on('info', (ireq, ires) => {
          void errorOf(proxy(ireq, ['sip:callee@127.0.0.1:9'])).then((message) => {
            outcome.resolve(message);
            sendResponse(ires, 200);
          });
        });
      });
    });
    const callId = randomUUID();
    const from = peer.received.length;
    const sent = invite(callId);
    await peer.send(sent);
    const ok = await peer.waitFor((m) => m.startsWith('SIP/2.0 200') && m.includes(callId), 3000, 'the 200', from);
    const toTag = /;tag=([^;\s>]+)/.exec(headerOf(ok, 'To', 't') ?? '')?.[1];
    const base = { uri: `sip:raw@${harness.target}`, callId, fromTag: 'rawtag1', toTag, local: { port: peer.localPort, transport: 'UDP' as const } };
    await peer.send(rawRequest({ ...base, method: 'ACK', branch: `z9hG4bK-${randomUUID()}`, cseq: 1 }));
    await peer.send(rawRequest({ ...base, method: 'INFO', branch: `z9hG4bK-${randomUUID()}`, cseq: 2, body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' }));
    const message = await within(outcome.promise, 3000, 'the proxy NOK');
    expect(message).toContain('inside a dialog');
    await peer.waitFor((m) => m.startsWith('SIP/2.0 200') && m.includes('CSeq: 2 INFO'), 3000, "the app's 200 to the INFO", from);
    await peer.send(rawRequest({ ...base, method: 'BYE', branch: `z9hG4bK-${randomUUID()}`, cseq: 3 }));
    await peer.waitFor((m) => m.startsWith('SIP/2.0 200') && m.includes('CSeq: 3 BYE'), 3000, 'the 200 to the BYE', from);
  });
});
