/**
 * The call layer with the real SIPREC client (SiprecRecordingPort -> RecordingSession ->
 * DrachtioSrsConnector) against a SIPp recording server that validates every request it gets
 * (sipp-scenarios/srs/srs-answer.xml): R-11 + R-14 + R-17/R-18 + R-31/R-32 in one recorded call.
 */
import { describe, expect, it } from 'vitest';
import { siprecRecordingFactory } from '../../../src/call/siprec-recording-port.js';
import { systemClock, systemTimers } from '../../../src/common/clock.js';
import { DrachtioSrsConnector } from '../../../src/sip/srs-connector.js';
import { useCallTestbed } from '../../support/call-testbed.js';
import { portBlock } from '../../support/ports.js';
import { findMessages, scenarioPath } from '../../support/sipp.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { sleep, until } from '../../support/wait.js';

const block = portBlock({ from: 25000, to: 29999 }, 2, 1000);
/** The app's srf, for a look at its dialogs. */
let appSrf: { _dialogs?: Map<string, { id: string; req?: object; res?: { stackDialogId?: unknown } }> } | undefined;
const tb = useCallTestbed(block, {
  parties: ['srs'],
  trusted: ['pbx'],
  snapshot: ({ srs: srsPort }) => {
    const s = makeSnapshot({
      orgCompliance: { inboundPstn: true },
      alice: { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'beep' },
    });
    return { ...s, providers: s.providers.map((p) => (p.id === 'srs' ? { ...p, recordingServers: [{ uri: `sip:srs@127.0.0.1:${srsPort}` }] } : p)) };
  },
  timeoutSec: 25,
  recording: (srf) => {
    appSrf = srf as unknown as typeof appSrf;
    return siprecRecordingFactory({ connector: new DrachtioSrsConnector(srf), clock: systemClock, timers: systemTimers });
  },
});

describe('recorded call with the SIPREC client', () => {
  it('R-14/R-31/R-32: the recording server gets both participants, the compliance announcement, pause/resume and a clean stop', async () => {
    const srs = tb.sipp({ scenario: scenarioPath('srs-answer', 'srs'), port: tb.ports.srs });
    await srs.ready();
    const { uac, uas, toB, userRtp: user } = await tb.inboundCall({ toUser: '+15550002001', callMs: 4000, tones: { callerHz: 1000, userHz: 1500, ms: 9000 } });
    // wait for the answer (the compliance prompt plays first), then pause and resume by DTMF
    await until(() => tb.h.manager.list()[0]?.state === 'connected', 'the call to connect', 8000);
    // the caller's, the callee's and the recording server's dialogs keep of their INVITE and its
    // 2xx only what srf reads later, not the messages with their listeners (settled-invite.ts)
    const dialogs = () => [...(appSrf?._dialogs?.values() ?? [])];
    await until(() => dialogs().length >= 3, 'three dialogs', 5000);
    for (const d of dialogs()) {
      expect(Object.keys(d.req ?? {}).sort()).toEqual(['method', 'socket']);
      expect(Object.keys(d.res ?? {})).toEqual(['stackDialogId']);
      expect(d.id).toBe(d.res?.stackDialogId);
    }
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
  }, 40_000);
});
