/**
 * Engine conformance, app as B2BUA: SIPp UAC -> engine -> srf.createB2BUA -> engine -> SIPp UAS.
 * Asserts both SIPp ends (exit codes, statistics, traces) and the app's view of the two legs.
 * Ports: block 2 of the conformance range (15300-15449).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deferred, startHarness, within, type EngineHarness, type SrfDialog, type TestApp } from '../../support/engine-harness.js';
import { ENGINE_CONFORMANCE_PORTS, portBlock, sippPorts } from '../../support/ports.js';
import { findMessages, headerOf, runSipp, scenarioPath, startSipp, type SippResult } from '../../support/sipp.js';

const ports = portBlock(ENGINE_CONFORMANCE_PORTS, 2, 150);
let harness: EngineHarness;
let app: TestApp;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  app = await harness.connectApp({ routes: ['invite'] });
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(() => app.handle('invite', undefined));

function expectSippOk(result: SippResult, calls = 1): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(calls);
  expect(result.stats.failed, result.describe()).toBe(0);
}

interface B2buaOutcome {
  legs?: { uas: SrfDialog; uac: SrfDialog };
  error?: { status?: number };
}

/** Runs one A-side scenario against one B-side scenario with the app bridging them. */
async function bridge(aScenario: string, bScenario: string): Promise<{ a: SippResult; b: SippResult; outcome: Promise<B2buaOutcome> }> {
  const bPorts = sippPorts(ports);
  const b = startSipp({ scenario: scenarioPath(bScenario), ...bPorts, timeoutSec: 15 });
  await b.ready();
  const outcome = deferred<B2buaOutcome>();
  app.handle('invite', (req, res) => {
    app.srf
      .createB2BUA(req, res, `sip:callee@127.0.0.1:${bPorts.port}`, { localSdpB: req.body })
      .then((legs) => {
        // srf leaves BYE propagation to the app (its documented pattern).
        legs.uas.on('destroy', () => legs.uac.destroy());
        legs.uac.on('destroy', () => legs.uas.destroy());
        outcome.resolve({ legs });
      })
      .catch((error: { status?: number }) => outcome.resolve({ error }));
  });
  const a = await runSipp({ scenario: scenarioPath(aScenario), remote: harness.target, ...sippPorts(ports), service: 'b2bua', timeoutSec: 15 });
  return { a, b: await b.done, outcome: outcome.promise };
}

describe('engine conformance: app bridges as B2BUA (SIPp UAC -> app -> SIPp UAS)', () => {
  it("F28 createB2BUA: the A leg gets B's answer, A's BYE is passed to B, both legs end", async () => {
    const { a, b, outcome } = await bridge('uac-call-bye', 'uas-answer');
    expectSippOk(a);
    expectSippOk(b);
    const { legs } = await within(outcome, 2000, 'createB2BUA');
    expect(legs?.uas.type).toBe('uas');
    expect(legs?.uac.type).toBe('uac');
    // B's SDP reaches A in the 200 (createB2BUA passes it through when localSdpA is not given).
    const okA = findMessages(a.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0]!;
    expect(okA.text).toContain('a=rtpmap:0 PCMU/8000');
    expect(findMessages(b.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
    // The two legs are distinct dialogs: different Call-IDs on the two sides.
    const inviteB = findMessages(b.messages, { direction: 'received', method: 'INVITE' })[0]!;
    const inviteA = findMessages(a.messages, { direction: 'sent', method: 'INVITE' })[0]!;
    expect(inviteB.callId).toBeDefined();
    expect(inviteB.callId).not.toBe(inviteA.callId);
  });

  it('D18/D19 CANCEL propagation: A cancels while B rings -> A gets 200/487, B gets a CANCEL and its 487 is ACKed', async () => {
    const { a, b, outcome } = await bridge('uac-call-cancel', 'uas-ring-wait-cancel');
    expectSippOk(a);
    expectSippOk(b);
    expect(findMessages(a.messages, { direction: 'received', status: 180 }).length, 'B ringing reached A').toBeGreaterThanOrEqual(1);
    expect(findMessages(b.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
    expect(findMessages(a.messages, { direction: 'received', status: 487 }).length).toBeGreaterThanOrEqual(1);
    const { error } = await within(outcome, 2000, 'createB2BUA to settle');
    expect(error?.status).toBe(487);
  });

  it("F28 failure passed back: B answers 486 -> A gets 486 (createB2BUA's passFailure), both 486s are ACKed", async () => {
    const { a, b, outcome } = await bridge('uac-call-expect-486', 'uas-reject-486');
    expectSippOk(a);
    expectSippOk(b);
    const rejected = findMessages(a.messages, { direction: 'received', status: 486 })[0]!;
    expect(headerOf(rejected.text, 'To', 't')).toMatch(/;tag=/);
    const { error } = await within(outcome, 2000, 'createB2BUA to settle');
    expect(error?.status).toBe(486);
  });
});
