/**
 * Engine conformance, app as UAC: the drachtio-srf app places calls and requests through the engine
 * (srf.createUAC, srf.request) to SIPp acting as UAS. Each test asserts what SIPp saw and did
 * (exit code, statistics, message trace) and what the app got back.
 * Ports: block 1 of the conformance range (15150-15299).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { startHarness, testSdp, within, deferred, type EngineHarness, type SrfDialog, type TestApp } from '../../support/engine-harness.js';
import { ENGINE_CONFORMANCE_PORTS, portBlock, sippPorts } from '../../support/ports.js';
import { findMessages, headerOf, scenarioPath, startSipp, type SippOptions, type SippProcess, type SippResult } from '../../support/sipp.js';

const ports = portBlock(ENGINE_CONFORMANCE_PORTS, 1, 150);
let harness: EngineHarness;
let app: TestApp;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  app = await harness.connectApp({ routes: [] });
});

afterAll(async () => {
  await harness?.close();
});

/** Starts a SIPp UAS and waits until it listens. */
async function sippUas(scenario: string, extra: Partial<SippOptions> = {}): Promise<{ sipp: SippProcess; uri: string }> {
  const p = sippPorts(ports);
  const sipp = startSipp({ scenario: scenarioPath(scenario), ...p, timeoutSec: 15, ...extra });
  await sipp.ready();
  return { sipp, uri: `sip:callee@127.0.0.1:${p.port}` };
}

function expectSippOk(result: SippResult, calls = 1): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(calls);
  expect(result.stats.failed, result.describe()).toBe(0);
}

type ProgressCallbacks = { cbRequest?: (err: unknown, req: Srf.SrfRequest) => void; cbProvisional?: (res: Srf.SrfResponse) => void };
/** srf.createUAC with the callback shape srf really has (its bundled types differ). */
function createUac(uri: string, opts: Srf.CreateUACOptions, progress: ProgressCallbacks = {}): Promise<SrfDialog> {
  const create = app.srf.createUAC as unknown as (u: string, o: Srf.CreateUACOptions, p: ProgressCallbacks) => Promise<SrfDialog>;
  return create.call(app.srf, uri, opts, progress);
}

describe('engine conformance: app calls out as UAC (SIPp UAS)', () => {
  it('E21/D16 createUAC: the INVITE carries Via rport/branch, Max-Forwards 70, Contact, Content-Type; 200 is ACKed; destroy sends BYE', async () => {
    const { sipp, uri } = await sippUas('uas-answer');
    const dialog = await within(createUac(uri, { localSdp: testSdp(40100), headers: { 'X-Test': 'uac' } }), 5000, 'createUAC');
    expect(dialog.remote.sdp).toContain('m=audio');
    expect(dialog.sip.remoteTag).toMatch(/SIPpTag01/);
    await new Promise<void>((resolve, reject) => setTimeout(() => dialog.destroy(undefined, (err) => (err ? reject(err) : resolve())), 100));
    const result = await sipp.done;
    expectSippOk(result);
    const invite = findMessages(result.messages, { direction: 'received', method: 'INVITE' })[0]!;
    expect(invite.startLine).toBe(`INVITE ${uri} SIP/2.0`);
    expect(headerOf(invite.text, 'Via', 'v')).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1(:\d+)?;.*branch=z9hG4bK/);
    expect(headerOf(invite.text, 'Via', 'v')).toMatch(/;rport/);
    expect(headerOf(invite.text, 'Max-Forwards')).toBe('70');
    expect(headerOf(invite.text, 'Contact', 'm')).toContain(`127.0.0.1:${harness.sipPort}`);
    expect(headerOf(invite.text, 'Content-Type', 'c')).toBe('application/sdp');
    expect(headerOf(invite.text, 'From', 'f')).toMatch(/;tag=\S+/);
    expect(headerOf(invite.text, 'X-Test')).toBe('uac');
    expect(findMessages(result.messages, { direction: 'received', method: 'ACK' })).toHaveLength(1);
    expect(findMessages(result.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
  });

  it("E23 createUAC, BYE from SIPp: the app's dialog gets 'destroy' and SIPp gets 200 to its BYE", async () => {
    const { sipp, uri } = await sippUas('uas-answer-then-bye');
    const dialog = await within(createUac(uri, { localSdp: testSdp(40102) }), 5000, 'createUAC');
    const destroyed = deferred<string>();
    dialog.on('destroy', (bye) => destroyed.resolve(bye.method));
    const result = await sipp.done;
    expectSippOk(result);
    expect(await within(destroyed.promise, 2000, "the dialog's destroy event")).toBe('BYE');
  });

  it('F27/D17 srf.request OPTIONS: SIPp answers 200 and the app sees the response headers', async () => {
    const { sipp, uri } = await sippUas('uas-options');
    const response = deferred<{ status: number; header: string | undefined }>();
    // the callback form: the listener is on the request before the next message from the server is
    // read (a promise's continuation may come after a fast 200 that arrived in the same read)
    const request = app.srf.request as unknown as (u: string, o: object, cb: (err: Error | null, req: Srf.SrfRequest) => void) => void;
    request.call(app.srf, uri, { method: 'OPTIONS', headers: { 'X-Test': 'opt' } }, (err, req) => {
      if (err) response.reject(err);
      else req.on('response', (res) => response.resolve({ status: res!.status, header: res!.get('X-Sipp-Options') }));
    });
    expect(await within(response.promise, 3000 + 2 * harness.timers.inviteRetransmitMs, 'the OPTIONS response')).toEqual({ status: 200, header: 'ok' });
    const result = await sipp.done;
    expectSippOk(result);
    const options = findMessages(result.messages, { direction: 'received', method: 'OPTIONS' })[0]!;
    expect(headerOf(options.text, 'X-Test')).toBe('opt');
    expect(headerOf(options.text, 'CSeq')).toMatch(/^\d+ OPTIONS$/);
  });

  it('D16 non-2xx final: createUAC rejects with the 486 and the engine ACKs the 486 itself', async () => {
    const { sipp, uri } = await sippUas('uas-reject-486');
    const err = await within(
      createUac(uri, { localSdp: testSdp(40104) }).then(
        () => undefined,
        (e: { status?: number }) => e,
      ),
      5000,
      'createUAC to fail',
    );
    expect(err?.status).toBe(486);
    const result = await sipp.done;
    expectSippOk(result);
    const ack = findMessages(result.messages, { direction: 'received', method: 'ACK' })[0]!;
    const invite = findMessages(result.messages, { direction: 'received', method: 'INVITE' })[0]!;
    // RFC 3261 17.1.1.3: the ACK for a non-2xx has the INVITE's branch and CSeq number.
    const branch = (text: string): string | undefined => /branch=([^;\s]+)/.exec(headerOf(text, 'Via', 'v') ?? '')?.[1];
    expect(branch(ack.text)).toBe(branch(invite.text));
    expect(headerOf(ack.text, 'CSeq')?.split(' ')[0]).toBe(headerOf(invite.text, 'CSeq')?.split(' ')[0]);
  });

  it('D18 CANCEL from the app: req.cancel() after 180 -> SIPp answers 200/487, createUAC rejects with 487, the 487 is ACKed', async () => {
    const { sipp, uri } = await sippUas('uas-ring-wait-cancel');
    let inviteReq: Srf.SrfRequest | undefined;
    const outcome = createUac(
      uri,
      { localSdp: testSdp(40106) },
      {
        cbRequest: (_err, req) => (inviteReq = req),
        cbProvisional: (res) => {
          if (res.status === 180) inviteReq?.cancel(() => undefined);
        },
      },
    ).then(
      () => undefined,
      (e: { status?: number }) => e,
    );
    expect((await within(outcome, 5000, 'createUAC to fail'))?.status).toBe(487);
    const result = await sipp.done;
    expectSippOk(result);
    const cancel = findMessages(result.messages, { direction: 'received', method: 'CANCEL' })[0]!;
    const invite = findMessages(result.messages, { direction: 'received', method: 'INVITE' })[0]!;
    const branch = (text: string): string | undefined => /branch=([^;\s]+)/.exec(headerOf(text, 'Via', 'v') ?? '')?.[1];
    expect(branch(cancel.text), 'CANCEL reuses the INVITE branch (RFC 3261 9.1)').toBe(branch(invite.text));
    expect(headerOf(cancel.text, 'CSeq')).toBe(`${headerOf(invite.text, 'CSeq')?.split(' ')[0]} CANCEL`);
  });

  it('F29 100rel UAC: a reliable 183 from SIPp is PRACKed with a matching RAck and the call completes', async () => {
    const { sipp, uri } = await sippUas('uas-prack');
    const provisional = deferred<number>();
    const dialog = await within(
      createUac(uri, { localSdp: testSdp(40108), headers: { Supported: '100rel' } }, { cbProvisional: (res) => provisional.resolve(res.status) }),
      5000,
      'createUAC',
    );
    expect(await provisional.promise).toBe(183);
    dialog.destroy();
    const result = await sipp.done;
    expectSippOk(result);
    const prack = findMessages(result.messages, { direction: 'received', method: 'PRACK' })[0]!;
    expect(headerOf(prack.text, 'RAck')).toMatch(/^1 \d+ INVITE$/);
  });

  it('D16 Timer A: while SIPp withholds its answer (first INVITE as good as lost) the engine retransmits the INVITE', async () => {
    // divergence: invite-retransmit-interval (SIPp withholds its answer past the server's first retransmission)
    const pauseMs = Math.round(harness.timers.inviteRetransmitMs * 1.5 + 300);
    const { sipp, uri } = await sippUas('uas-slow-answer', { pauseMs });
    const dialog = await within(createUac(uri, { localSdp: testSdp(40110) }), pauseMs + 5000, 'createUAC');
    dialog.destroy();
    const result = await sipp.done;
    expectSippOk(result);
    expect(findMessages(result.messages, { direction: 'received', method: 'INVITE' }).length, result.describe()).toBeGreaterThanOrEqual(2);
  });

  it('D16 Timer A under loss: SIPp drops 30 % of the INVITEs (lost attribute) and every call still completes', async () => {
    const calls = 6;
    const { sipp, uri } = await sippUas('uas-lost-invite', { calls });
    for (let i = 0; i < calls; i++) {
      const dialog = await within(createUac(uri, { localSdp: testSdp(40112) }), 8000, `createUAC #${i + 1}`);
      dialog.destroy();
    }
    const result = await sipp.done;
    expectSippOk(result, calls);
  });
});
