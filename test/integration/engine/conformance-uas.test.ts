/**
 * Engine conformance, app as UAS: SIPp (UAC) calls the engine, an unmodified drachtio-srf app answers.
 * Each test asserts the SIP outcome (SIPp exit code, statistics, message trace) and what the app saw.
 * Names carry the behaviour item of docs/engine.md ("What the engine does for the app").
 * Ports: block 0 of the conformance range (15000-15149).
 */
import type { EventEmitter } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
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
import { findMessages, headerOf, runSipp, scenarioPath, type SippOptions, type SippResult } from '../../support/sipp.js';
import { until } from '../../support/wait.js';

const ports = portBlock(ENGINE_CONFORMANCE_PORTS, 0, 150);
let harness: EngineHarness;
let app: TestApp;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  app = await harness.connectApp({ routes: ['invite'] });
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(() => {
  app.handle('invite', undefined);
});

function sippUac(scenario: string, extra: Partial<SippOptions> = {}): Promise<SippResult> {
  return runSipp({
    scenario: scenarioPath(scenario),
    remote: harness.target,
    ...sippPorts(ports),
    service: 'conformance',
    timeoutSec: 15,
    ...extra,
  });
}

function expectSippOk(result: SippResult, calls = 1): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(calls);
  expect(result.stats.failed, result.describe()).toBe(0);
}

/** Answers every INVITE with createUAS; hands each dialog to `onDialog`. */
function answerCalls(onDialog: (dialog: SrfDialog) => void = () => undefined): { dialogs: SrfDialog[]; invites: number } {
  const seen = { dialogs: [] as SrfDialog[], invites: 0 };
  app.handle('invite', (req, res) => {
    seen.invites++;
    app.srf
      .createUAS(req, res, { localSdp: testSdp(40000) })
      .then((dialog) => {
        seen.dialogs.push(dialog);
        onDialog(dialog);
      })
      .catch(() => undefined);
  });
  return seen;
}

describe('engine conformance: app answers as UAS (SIPp UAC)', () => {
  it('D13/E20 UAS answer, BYE from SIPp: 100 Trying first, 200 carries a To-tag and Contact, the app dialog gets destroy', async () => {
    const destroyed = deferred<string>();
    let inviteSdp = '';
    app.handle('invite', (req, res) => {
      inviteSdp = req.body;
      app.srf
        .createUAS(req, res, { localSdp: testSdp(40002), headers: { 'X-App': 'uas' } })
        .then((dialog) => dialog.on('destroy', (bye) => destroyed.resolve(bye.method)))
        .catch((err: unknown) => destroyed.reject(err));
    });
    const result = await sippUac('uac-call-bye');
    expectSippOk(result);
    const received = result.messages.filter((m) => m.direction === 'received');
    expect(received[0]?.status, 'first response is 100 Trying').toBe(100);
    const ok = findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0];
    expect(ok, result.describe()).toBeDefined();
    expect(headerOf(ok!.text, 'To', 't')).toMatch(/;tag=\S+/);
    expect(headerOf(ok!.text, 'Contact', 'm')).toContain(`127.0.0.1:${harness.sipPort}`);
    expect(headerOf(ok!.text, 'X-App')).toBe('uas');
    expect(ok!.text).toContain('m=audio 40002 RTP/AVP 0');
    expect(inviteSdp).toContain('m=audio');
    expect(await within(destroyed.promise, 3000, "the dialog's destroy event")).toBe('BYE');
  });

  it('E22 UAS answer, BYE from the app: dialog.destroy() sends BYE into the dialog and SIPp answers 200', async () => {
    const destroyedOk = deferred<void>();
    answerCalls((dialog) => {
      setTimeout(() => {
        dialog.destroy(undefined, (err) => (err ? destroyedOk.reject(err) : destroyedOk.resolve()));
      }, 100);
    });
    const result = await sippUac('uac-call-remote-bye');
    expectSippOk(result);
    const bye = findMessages(result.messages, { direction: 'received', method: 'BYE' })[0];
    expect(bye, result.describe()).toBeDefined();
    const ok = findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0]!;
    // The BYE goes to SIPp's Contact and carries the dialog's tags (RFC 3261 12.2.1.1).
    expect(bye!.startLine).toMatch(/^BYE sip:sipp@127\.0\.0\.1:\d+/);
    const localTag = /tag=([^;>\s]+)/.exec(headerOf(ok.text, 'To', 't') ?? '')?.[1];
    expect(headerOf(bye!.text, 'From', 'f')).toContain(`tag=${localTag}`);
    await within(destroyedOk.promise, 3000, 'dialog.destroy() to complete');
  });

  it("D19 CANCEL before answer: 200 to CANCEL, 487 to INVITE, app gets 'cancel' and a late app answer is refused", async () => {
    const canceled = deferred<void>();
    const lateAnswer = deferred<unknown>();
    app.handle('invite', (req, res) => {
      req.on('cancel', () => {
        canceled.resolve();
        // The engine has already answered 487; a late final response from the app must be refused (NOK).
        setTimeout(() => sendResponse(res, 486, {}, (err: unknown) => lateAnswer.resolve(err)), 50);
      });
      res.send(180);
    });
    const result = await sippUac('uac-call-cancel');
    expectSippOk(result);
    expect(findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'CANCEL' })).toHaveLength(1);
    expect(findMessages(result.messages, { direction: 'received', status: 487, cseqMethod: 'INVITE' }).length).toBeGreaterThanOrEqual(1);
    await within(canceled.promise, 2000, "the app's 'cancel' event");
    expect(await within(lateAnswer.promise, 2000, 'the late answer callback')).toBeTruthy();
    expect(findMessages(result.messages, { direction: 'received', status: 486 })).toHaveLength(0);
  });

  it("F29 100rel UAS: the app's 183 with Require: 100rel goes out reliably (RSeq), SIPp's PRACK gets 200 and reaches the app", async () => {
    const pracked = deferred<string>();
    app.handle('invite', (req, res) => {
      sendResponse(res, 183, { headers: { Require: '100rel' }, body: testSdp(40004) }, undefined, (prack: { method: string }) => {
        pracked.resolve(prack.method);
        app.srf.createUAS(req, res, { localSdp: testSdp(40004) }).catch(() => undefined);
      });
    });
    const result = await sippUac('uac-call-prack');
    expectSippOk(result);
    const rel = findMessages(result.messages, { direction: 'received', status: 183 })[0];
    expect(headerOf(rel!.text, 'RSeq')).toMatch(/^\d+$/);
    expect(headerOf(rel!.text, 'Require')).toContain('100rel');
    expect(findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'PRACK' })).toHaveLength(1);
    expect(await within(pracked.promise, 2000, 'the PRACK callback')).toBe('PRACK');
  });

  it("F30 UPDATE in an early dialog: delivered on the pending INVITE ('update' event), the app's answer reaches SIPp, the call then completes", async () => {
    const updated = deferred<string>();
    app.handle('invite', (req, res) => {
      // srf emits 'update' on the pending INVITE's req; its bundled types do not declare it.
      (req as unknown as EventEmitter).on('update', (update: { body: string }, updateRes: { send: (status: number, opts: { body: string }) => void }) => {
        updated.resolve(update.body);
        updateRes.send(200, { body: testSdp(40010, 'recvonly', 2) });
        setTimeout(() => app.srf.createUAS(req, res, { localSdp: testSdp(40010, 'recvonly', 2) }).catch(() => undefined), 50);
      });
      sendResponse(res, 183, { headers: { Require: '100rel' }, body: testSdp(40010) });
    });
    const result = await sippUac('uac-call-early-update');
    expectSippOk(result);
    expect(await within(updated.promise, 2000, "the INVITE's update event")).toContain('a=sendonly');
    const updateOk = findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'UPDATE' });
    expect(updateOk, result.describe()).toHaveLength(1);
    expect(updateOk[0]!.text).toContain('a=recvonly');
  });

  it("E23 re-INVITE from SIPp: the app gets 'modify' with the new SDP and its 200 answer reaches SIPp", async () => {
    const modified = deferred<string>();
    answerCalls((dialog) => {
      dialog.on('modify', (req, res) => {
        modified.resolve(req.body);
        res.send(200, { body: testSdp(40006, 'recvonly', 2) });
      });
    });
    const result = await sippUac('uac-call-reinvite');
    expectSippOk(result);
    expect(await within(modified.promise, 2000, "the dialog's modify event")).toContain('a=sendonly');
    const reinviteOk = findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' });
    expect(reinviteOk.some((m) => m.text.includes('a=recvonly')), result.describe()).toBe(true);
  });

  it('E22 re-INVITE from the app: dialog.modify() sends a re-INVITE with the new SDP and resolves with the answer', async () => {
    const answered = deferred<string>();
    answerCalls((dialog) => {
      setTimeout(() => {
        dialog.modify(testSdp(40008, 'sendonly', 2)).then(answered.resolve, answered.reject);
      }, 150);
    });
    const result = await sippUac('uac-call-expect-reinvite');
    expectSippOk(result);
    const reinvite = findMessages(result.messages, { direction: 'received', method: 'INVITE' })[0];
    expect(reinvite, result.describe()).toBeDefined();
    expect(reinvite!.text).toContain('a=sendonly');
    expect(headerOf(reinvite!.text, 'CSeq')).toMatch(/^\d+ INVITE$/);
    expect(await within(answered.promise, 3000, 'dialog.modify()')).toContain('a=recvonly');
  });

  it("E22/E23 INFO both ways: SIPp's INFO reaches the app's 'info' handler, the app's dialog.request INFO reaches SIPp", async () => {
    const gotInfo = deferred<string>();
    const sentInfo = deferred<number>();
    answerCalls((dialog) => {
      dialog.on('info', (req, res) => {
        gotInfo.resolve(req.body);
        res.send(200);
        const request = dialog.request as unknown as (opts: object) => Promise<{ status: number }>;
        request
          .call(dialog, { method: 'INFO', headers: { 'Content-Type': 'application/dtmf-relay' }, body: 'Signal=7\r\nDuration=160\r\n' })
          .then((r) => sentInfo.resolve(r.status), sentInfo.reject);
      });
    });
    const result = await sippUac('uac-call-info');
    expectSippOk(result);
    expect(await within(gotInfo.promise, 2000, "the app's info event")).toContain('Signal=5');
    expect(await within(sentInfo.promise, 2000, "the app's INFO response")).toBe(200);
    const info = findMessages(result.messages, { direction: 'received', method: 'INFO' })[0];
    expect(info!.text).toContain('Signal=7');
    expect(headerOf(info!.text, 'Content-Type', 'c')).toBe('application/dtmf-relay');
  });

  it('D14 2xx retransmission: while SIPp withholds its ACK (first 200 as good as lost) the engine retransmits the 200', async () => {
    const calls = answerCalls();
    const result = await sippUac('uac-call-slow-ack');
    expectSippOk(result);
    const oks = findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' });
    expect(oks.length, result.describe()).toBeGreaterThanOrEqual(2);
    expect(calls.invites).toBe(1);
  });

  it('D14 2xx retransmission under loss: SIPp drops 30 % of the 200s (lost attribute) and every call still completes', async () => {
    const calls = answerCalls();
    const result = await sippUac('uac-call-lost-200', { calls: 8, rate: 8, limit: 8 });
    expectSippOk(result, 8);
    expect(calls.invites).toBe(8);
  });

  it("D14 ACK timeout: no ACK within 64*T1 -> the engine sends BYE and the app's dialog gets an unsolicited destroy", async () => {
    const destroyed = deferred<void>();
    answerCalls((dialog) => dialog.on('destroy', () => destroyed.resolve()));
    // divergence: dialog-timers-from-t1 (drachtio-server waits 64 times its built-in 500 ms T1)
    const waitMs = harness.timers.ackWaitMs;
    const result = await sippUac('uac-call-no-ack', { timeoutSec: Math.ceil(waitMs / 1000) + 10 });
    expectSippOk(result);
    const oks = findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' });
    expect(oks.length, 'the 200 was retransmitted while no ACK came').toBeGreaterThanOrEqual(3);
    const bye = findMessages(result.messages, { direction: 'received', method: 'BYE' })[0];
    expect(bye, result.describe()).toBeDefined();
    expect(headerOf(bye!.text, 'Reason') ?? '', 'BYE says why').toMatch(/ACK/i);
    await within(destroyed.promise, 3000, "the dialog's destroy event");
    const stats = harness.stats();
    if (stats) await until(() => harness.stats()!.activeDialogs === 0, 'the engine to drop the dialog', 3000);
  }, 64 * 500 + 20_000);

  it('E23 481 for unknown dialogs: BYE, INFO and re-INVITE with an unknown To-tag get 481', async () => {
    const calls = answerCalls();
    const peer = await RawSipPeer.udp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
    try {
      const statuses: number[] = [];
      for (const [i, method] of ['BYE', 'INFO', 'INVITE'].entries()) {
        const branch = `z9hG4bK-unknown-${i}-${randomUUID()}`;
        const from = peer.received.length;
        const body = method === 'INVITE' ? testSdp(40010) : undefined;
        await peer.send(rawRequest({ method, uri: `sip:raw@${harness.target}`, callId: `unknown-${randomUUID()}`, branch, fromTag: 'caller', toTag: 'no-such-dialog', cseq: 1, local: { port: peer.localPort, transport: 'UDP' }, ...(body ? { body } : {}) }));
        const final = await peer.waitFor((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m) && m.includes(branch), 3000, `the final response to the ${method}`, from);
        statuses.push(Number(final.split(' ')[1]));
      }
      // drachtio-server hands an INFO outside any dialog to the apps as a new request (none routes INFO here: 503)
      expect(statuses).toEqual(expectedOn(harness, 'unknown-dialog', { engine: [481, 481, 481], drachtio: [481, 503, 481] }));
      expect(calls.invites, 'no request reached the app').toBe(0);
    } finally {
      await peer.close();
    }
  });

  it('F26 503 for unrouted methods: an out-of-dialog MESSAGE that no app routed gets 503', async () => {
    const result = await sippUac('uac-message-expect-503');
    expectSippOk(result);
    const r = findMessages(result.messages, { direction: 'received', status: 503 })[0];
    expect(headerOf(r!.text, 'CSeq')).toBe('1 MESSAGE');
  });
});
