/**
 * SDP towards the legs end to end over loopback (issue "SDP we send is ours"): real SIPp parties,
 * the embedded engine, drachtio-srf, the media plane and the call layer. An offer we cannot anchor
 * gets 488 with a Warning header (RFC 3261 sections 20.43, 21.4.26), from a trunk or a user agent,
 * in an initial INVITE or a re-INVITE, and never a 500 or an error in the log; a callee answering
 * telephone-event as 96 to our 101 still gets the caller's DTMF, as 96, and the caller gets the
 * callee's as 101.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { readAudio } from '../../../src/sip/sdp-media.js';
import { useCallTestbed } from '../../support/call-testbed.js';
import { portBlock, type PortRange } from '../../support/ports.js';
import type { ReceivedPacket } from '../../support/rtp-peer.js';
import { findMessages, headerOf, type SippResult } from '../../support/sipp.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { sleep } from '../../support/wait.js';

const SDP_PORTS: PortRange = { from: 39000, to: 39499 };
const ALICE = '+15550002001';

/** Every line the call layer logs (pino JSON), to prove a refusal logs no error. */
const logLines: Array<{ level: number; msg: string }> = [];
const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (logLines.push(JSON.parse(String(c)) as { level: number; msg: string }), cb()) }));
const errorsLogged = (): string[] => logLines.filter((l) => l.level >= 50).map((l) => l.msg);

const block = portBlock(SDP_PORTS, 0, 500);
const tb = useCallTestbed(block, { parties: ['phone'], trusted: ['phone', 'pbx'], snapshot: makeSnapshot({ alice: { enabled: true, mode: 'always' } }), logger, timeoutSec: 15 });
const { trunk: trunkPort, pbx: pbxPort, phone: phonePort } = tb.ports;
const { party, rtpPeer } = tb;

/** The 488 the party received and its Warning header. */
function refusalOf(r: SippResult, cseqMethod = 'INVITE'): { statuses: number[]; warning: string | undefined } {
  const finals = r.messages.filter((m) => m.direction === 'received' && m.status !== undefined && m.status >= 300 && m.cseqMethod === cseqMethod);
  const first = finals[0];
  return { statuses: finals.map((m) => m.status!), warning: first ? headerOf(first.text, 'Warning') : undefined };
}

const WARN = (code: number, text: string): RegExp => new RegExp(`^${code} 127\\.0\\.0\\.1:\\d+ "${text}"$`);

const OFFERS = [
  { name: 'm=audio 0', keys: { m_type: 'audio', m_port: '0', m_proto: 'RTP/AVP', m_fmts: '0 101', rtpmap: '0 PCMU/8000' }, warning: WARN(304, 'Media type not available') },
  { name: 'no audio stream (video only)', keys: { m_type: 'video', m_port: '7100', m_proto: 'RTP/AVP', m_fmts: '31', rtpmap: '31 H261/90000' }, warning: WARN(304, 'Media type not available') },
  { name: 'no codec we can relay (telephone-event only)', keys: { m_type: 'audio', m_port: '7100', m_proto: 'RTP/AVP', m_fmts: '101', rtpmap: '101 telephone-event/8000' }, warning: WARN(305, 'Incompatible media format') },
  { name: 'SRTP only (RTP/SAVP)', keys: { m_type: 'audio', m_port: '7100', m_proto: 'RTP/SAVP', m_fmts: '0', rtpmap: '0 PCMU/8000' }, warning: WARN(302, 'Incompatible transport protocol') },
];

describe('recording B2BUA: SDP we cannot anchor gets 488 + Warning, never 500 (SIPp)', () => {
  for (const o of OFFERS) {
    it(`MUST answer a trunk INVITE with ${o.name} 488 with a Warning, dial nobody and log no error`, async () => {
      const errorsBefore = errorsLogged().length;
      const dialsBefore = tb.h.dials.length;
      const uac = party('caller-expect-488', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, ...o.keys }, { remote: tb.h.target });
      const r = await uac.done;
      expect(r.exitCode, r.describe()).toBe(0);
      const got = refusalOf(r);
      expect(got.statuses).toEqual([488]);
      expect(got.warning).toMatch(o.warning);
      expect(tb.h.dials.length).toBe(dialsBefore);
      expect(errorsLogged().slice(errorsBefore)).toEqual([]);
      await tb.idle();
    });
  }

  it('MUST answer a user agent (trusted phone) INVITE with m=audio 0 the same way', async () => {
    const errorsBefore = errorsLogged().length;
    const uac = party('caller-expect-488', phonePort, { from_user: 'alice', from_host: 'acme.example', to_user: '+15557770000', ...OFFERS[0]!.keys }, { remote: tb.h.target });
    const r = await uac.done;
    expect(r.exitCode, r.describe()).toBe(0);
    const got = refusalOf(r);
    expect(got.statuses).toEqual([488]);
    expect(got.warning).toMatch(WARN(304, 'Media type not available'));
    expect(errorsLogged().slice(errorsBefore)).toEqual([]);
    await tb.idle();
  });

  it('MUST answer 488 / 305 when the callee answers with no codec in common with the offer, and BYE the callee', async () => {
    const errorsBefore = errorsLogged().length;
    const userRtp = await rtpPeer();
    const uas = party('callee-answer-codecs', pbxPort, { rtp_port: userRtp.port, m_fmts: '18 101', rtpmap1: '18 G729/8000', rtpmap2: '101 telephone-event/8000' });
    await uas.ready();
    const uac = party('caller-expect-488', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, m_type: 'audio', m_port: String(block.next()), m_proto: 'RTP/AVP', m_fmts: '0', rtpmap: '0 PCMU/8000' }, { remote: tb.h.target });
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    const got = refusalOf(rc);
    expect(got.statuses).toEqual([488]);
    expect(got.warning).toMatch(WARN(305, 'Incompatible media format'));
    expect(findMessages(rs.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
    expect(errorsLogged().slice(errorsBefore)).toEqual([]);
    await tb.idle();
  });

  it('MUST answer a re-INVITE with m=audio 0 488 with a Warning and keep the call up until the BYE', async () => {
    const errorsBefore = errorsLogged().length;
    const call = await tb.inboundCall({ toUser: ALICE, callMs: 800, caller: 'caller-reoffer-expect-488', callerKeys: OFFERS[0]!.keys });
    const [rc, rs] = await Promise.all([call.uac.done, call.uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    const reoffer = rc.messages.filter((m) => m.direction === 'received' && m.status === 488);
    expect(reoffer).toHaveLength(1);
    expect(headerOf(reoffer[0]!.text, 'Warning')).toMatch(WARN(304, 'Media type not available'));
    // the callee never saw the re-offer; the call ended with the caller's BYE
    expect(findMessages(rs.messages, { direction: 'received', method: 'INVITE' })).toHaveLength(1);
    expect(findMessages(rs.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
    expect(errorsLogged().slice(errorsBefore)).toEqual([]);
    await tb.idle();
  });
});

describe('recording B2BUA: payload-type numbers between legs (SIPp + RTP peers)', () => {
  it('MUST deliver DTMF between a caller using telephone-event 101 and a callee that answered it as 96, each with its own number', async () => {
    const call = await tb.inboundCall({
      toUser: ALICE,
      callMs: 2500,
      callee: 'callee-answer-codecs',
      calleeKeys: { m_fmts: '0 96', rtpmap1: '0 PCMU/8000', rtpmap2: '96 telephone-event/8000' },
    });
    const { uac, uas, toA, toB, callerRtp, userRtp } = call;
    const te = (pt: number) => (p: ReceivedPacket): boolean => p.pt === pt;
    await sleep(300);
    await callerRtp.sendDtmf('5', 120, toA, 101);
    await userRtp.sendDtmf('9', 120, toB, 96);
    await sleep(200);
    expect(userRtp.packets(te(96)).length).toBeGreaterThanOrEqual(5);
    expect(userRtp.packets(te(101))).toHaveLength(0);
    expect(callerRtp.packets(te(101)).length).toBeGreaterThanOrEqual(5);
    expect(callerRtp.packets(te(96))).toHaveLength(0);
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    // what the caller was answered: telephone-event as it offered it (101), none of the callee's own lines
    const answer = findMessages(rc.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0]!;
    const audio = readAudio(answer.text.slice(answer.text.search(/\r?\n\r?\nv=0/)).trim() + '\r\n');
    expect(audio?.telephoneEvent?.payloadType).toBe(101);
    expect(answer.text).not.toMatch(/a=ssrc|a=fmtp:96/);
    await tb.idle();
  });
});
