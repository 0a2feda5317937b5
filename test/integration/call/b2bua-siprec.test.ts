/**
 * The call layer with the real SIPREC client (SiprecRecordingPort -> RecordingSession ->
 * DrachtioSrsConnector) against a SIPp recording server that validates every request it gets
 * (sipp-scenarios/srs/srs-answer.xml): R-11 + R-14 + R-17/R-18 + R-31/R-32 in one recorded call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siprecRecordingFactory } from '../../../src/call/siprec-recording-port.js';
import { systemClock, systemTimers } from '../../../src/common/clock.js';
import type { PolicySnapshot } from '../../../src/policy/policy-types.js';
import { DrachtioSrsConnector } from '../../../src/sip/srs-connector.js';
import { startCallHarness, type CallHarness } from '../../support/call-harness.js';
import { portBlock } from '../../support/ports.js';
import { RtpPeer } from '../../support/rtp-peer.js';
import { findMessages, scenarioPath, startSipp } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';

const block = portBlock({ from: 25000, to: 29999 }, 2, 1000);
const [sipPort] = block.take(10);
const [rtpMin] = block.take(100);
const trunkPort = block.next();
const pbxPort = block.next();
const srsPort = block.next();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let h: CallHarness;

beforeAll(async () => {
  const s = makeSnapshot({
    orgCompliance: { inboundPstn: true },
    alice: { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'beep' },
  });
  const snapshot: PolicySnapshot = {
    ...s,
    providers: s.providers.map((p) => (p.id === 'srs' ? { ...p, recordingServers: [{ uri: `sip:srs@127.0.0.1:${srsPort}` }] } : p)),
    trunks: [{ ...s.trunks[0]!, sourceAddresses: [`127.0.0.1:${trunkPort}`] }],
  };
  h = await startCallHarness({
    sipPort: sipPort!,
    rtpPortMin: rtpMin!,
    rtpPortMax: rtpMin! + 99,
    snapshots: () => [snapshot],
    options: { admission: { trustedSources: [`127.0.0.1:${pbxPort}`] }, routing: { userProxy: `sip:127.0.0.1:${pbxPort}` } },
    recording: (srf) => siprecRecordingFactory({ connector: new DrachtioSrsConnector(srf), clock: systemClock, timers: systemTimers }),
  });
});

afterAll(async () => {
  await h?.close();
});

describe('recorded call with the SIPREC client', () => {
  it('R-14/R-31/R-32: the recording server gets both participants, the compliance announcement, pause/resume and a clean stop', async () => {
    const caller = await RtpPeer.open(block.take(2)[0]!);
    const user = await RtpPeer.open(block.take(2)[0]!);
    try {
      const srs = startSipp({ scenario: scenarioPath('srs-answer', 'srs'), port: srsPort, controlPort: block.next(), mediaPort: block.take(4)[0]!, timeoutSec: 25 });
      const uas = startSipp({ scenario: scenarioPath('callee', 'calls'), port: pbxPort, controlPort: block.next(), mediaPort: block.take(4)[0]!, keys: { rtp_port: user.port, supported: 'timer' }, timeoutSec: 25 });
      await Promise.all([srs.ready(), uas.ready()]);
      const uac = startSipp({
        scenario: scenarioPath('caller', 'calls'),
        remote: `127.0.0.1:${sipPort}`,
        port: trunkPort,
        controlPort: block.next(),
        mediaPort: block.take(4)[0]!,
        keys: { from_user: '+15559990000', from_host: '127.0.0.1', to_user: '+15550002001', rtp_port: caller.port, supported: 'timer' },
        pauseMs: 4000,
        timeoutSec: 25,
      });
      const trace = await h.nextSession(0);
      const toB = { address: '127.0.0.1', port: trace.session.local.b.rtpPort };
      void caller.play(sine(1000, 9000), { address: '127.0.0.1', port: trace.session.local.a.rtpPort });
      void user.play(sine(1500, 9000), toB);
      // wait for the answer (the compliance prompt plays first), then pause and resume by DTMF
      const until = performance.now() + 8000;
      while (h.manager.list()[0]?.state !== 'connected' && performance.now() < until) await sleep(20);
      await sleep(800);
      await user.sendDtmf('*', 100, toB);
      await user.sendDtmf('3', 100, toB);
      await sleep(800);
      await user.sendDtmf('*', 100, toB);
      await user.sendDtmf('4', 100, toB);
      const [rc, ru, rs] = await Promise.all([uac.done, uas.done, srs.done]);
      expect(rc.exitCode, rc.describe()).toBe(0);
      expect(ru.exitCode, ru.describe()).toBe(0);
      expect(rs.exitCode, rs.describe()).toBe(0);

      const invites = findMessages(rs.messages, { direction: 'received', method: 'INVITE' });
      const first = invites[0]!.text;
      expect(first).toContain('tel:+15559990000');
      expect(first).toContain('sip:alice@acme.example');
      expect(first).toContain('ext-alice'); // R-33 platform information
      expect(first).toMatch(/compliance/); // the pre-answer announcement was played
      // a pause (inactive), a resume (sendonly), then the final snapshot and BYE
      const bodies = invites.slice(1).map((m) => m.text);
      const pauseIdx = bodies.findIndex((b) => /a=inactive/.test(b));
      expect(pauseIdx).toBeGreaterThanOrEqual(0);
      expect(bodies.slice(pauseIdx + 1).some((b) => /a=sendonly/.test(b))).toBe(true);
      expect(findMessages(rs.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
      expect(bodies.at(-1)).toMatch(/stop-time|stoptime|disassociate-time/i);
    } finally {
      caller.close();
      user.close();
    }
  }, 40_000);
});
