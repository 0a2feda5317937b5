/**
 * Digest authentication of user agents (RFC 3261 section 22.3) over real loopback sockets with real
 * SIPp: the embedded engine, drachtio-srf, the media plane and the CallManager with a
 * DigestAuthenticator (test/support/call-harness.ts). A user agent that is neither a trunk nor a
 * trusted source gets 407 until it proves credentials; then its call is an ordinary recorded call.
 * Ports 30100-30599.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { DigestAuthenticator } from '../../../src/sip/digest-auth.js';
import { heard, toneShare } from '../../support/audio-checks.js';
import { useCallTestbed } from '../../support/call-testbed.js';
import { portBlock } from '../../support/ports.js';
import { findMessages, headerOf, type SippProcess, type SippResult } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';

const REALM = 'acme.example';
const ALICE_NUMBER = '+15550002001';

// trunk: the carrier (a trunk source); pbx: users' phones behind the PBX answer here (trusted);
// phone: a trusted user agent; user: a user agent on no list, which must authenticate
const block = portBlock({ from: 30100, to: 30599 }, 0, 500);
const tb = useCallTestbed(block, {
  sipPorts: 2, // the engine's SIP port and app-link port
  rtpPorts: 60,
  parties: ['phone', 'user'],
  trusted: ['phone', 'pbx'],
  snapshot: makeSnapshot({ alice: { enabled: true, mode: 'always' } }),
  timeoutSec: 10,
  digest: new DigestAuthenticator({ realm: REALM, users: [{ username: 'alice', password: 'wonderland' }] }, systemClock),
});
const { trunk: trunkPort, pbx: pbxPort, phone: phonePort, user: userPort } = tb.ports;
const { party } = tb;

function userAgent(o: { user?: string; password?: string; fromUser?: string; toUser?: string; rtpPort?: number }): SippProcess {
  return party(
    'uac-digest',
    userPort,
    { from_user: o.fromUser ?? 'alice', from_host: REALM, to_user: o.toUser ?? '2002', rtp_port: o.rtpPort ?? block.next() },
    { remote: tb.h.target, pauseMs: 600, extraArgs: ['-au', o.user ?? 'alice', '-ap', o.password ?? 'wonderland'] },
  );
}

/** Final responses to INVITE the SIPp caller received, in order. */
function inviteFinals(r: SippResult): number[] {
  return findMessages(r.messages, { direction: 'received', cseqMethod: 'INVITE' })
    .map((m) => m.status ?? 0)
    .filter((s) => s >= 200);
}

describe('digest authentication of user agents (SIPp)', () => {
  it('MUST answer an INVITE without credentials from an untrusted source with 407 and an MD5 Proxy-Authenticate challenge', async () => {
    const dials = tb.h.dials.length;
    const r = await party('caller', userPort, { from_user: 'alice', from_host: REALM, to_user: '2002', rtp_port: block.next() }, { remote: tb.h.target }).done;
    expect(r.exitCode, r.describe()).toBe(1); // the plain caller scenario does not expect 407
    const challenge = findMessages(r.messages, { direction: 'received', status: 407 })[0];
    expect(challenge, r.describe()).toBeDefined();
    const value = headerOf(challenge!.text, 'Proxy-Authenticate');
    expect(value).toMatch(/^Digest realm="acme\.example", nonce="[A-Za-z0-9_-]{43}", algorithm=MD5, qop="auth"$/);
    expect(tb.h.dials.length).toBe(dials);
    await tb.idle();
  }, 20_000);

  it('MUST challenge again (407, not 200) when the password is wrong; the callee is never dialled', async () => {
    const dials = tb.h.dials.length;
    const r = await userAgent({ password: 'guess' }).done;
    expect(r.exitCode, r.describe()).toBe(1);
    expect(inviteFinals(r), r.describe()).toEqual([407, 407]);
    const retry = findMessages(r.messages, { direction: 'sent', method: 'INVITE' })[1];
    expect(headerOf(retry!.text, 'Proxy-Authorization')).toMatch(/^Digest username="alice"/);
    expect(tb.h.dials.length).toBe(dials);
    await tb.idle();
  }, 20_000);

  it('MUST connect an authenticated user like any call: leg B dialled, audio both ways, recording started', async () => {
    const aRtp = await tb.rtpPeer();
    const bRtp = await tb.rtpPeer();
    const uas = party('callee', pbxPort, { rtp_port: bRtp.port });
    await uas.ready();
    const recordings = tb.h.recordings.length;
    const uac = userAgent({ rtpPort: aRtp.port });
    const { toA, toB } = await tb.nextCall();
    void aRtp.play(sine(1000, 2500), toA);
    void bRtp.play(sine(1500, 2500), toB);
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    expect(inviteFinals(rc)).toEqual([407, 200]);
    expect(tb.h.dials.at(-1)!.uri).toBe(`sip:2002@127.0.0.1:${pbxPort}`);
    expect(tb.h.recordings.length).toBe(recordings + 1);
    expect(tb.h.recordings.at(-1)!.started).toMatchObject({ direction: 'internal' });
    expect(toneShare(heard(aRtp), 1500)).toBeGreaterThan(0.8);
    expect(toneShare(heard(bRtp), 1000)).toBeGreaterThan(0.8);
    await tb.idle();
  }, 25_000);

  it('MUST refuse with 403 an authenticated user calling with a From that is not one of its identities', async () => {
    const dials = tb.h.dials.length;
    const r = await userAgent({ fromUser: 'bob' }).done;
    expect(r.exitCode, r.describe()).toBe(1);
    expect(inviteFinals(r), r.describe()).toEqual([407, 403]);
    expect(tb.h.dials.length).toBe(dials);
    await tb.idle();
  }, 20_000);

  it('MUST NOT challenge a trusted source or a trunk', async () => {
    for (const [port, keys] of [
      [phonePort, { from_user: 'alice', from_host: REALM, to_user: '2002' }],
      [trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE_NUMBER }],
    ] as const) {
      const uas = party('callee', pbxPort, { rtp_port: block.next() });
      await uas.ready();
      const uac = party('caller', port, { ...keys, rtp_port: block.next() }, { remote: tb.h.target, pauseMs: 300 });
      const [rc, rs] = await Promise.all([uac.done, uas.done]);
      expect(rc.exitCode, rc.describe()).toBe(0);
      expect(rs.exitCode, rs.describe()).toBe(0);
      expect(inviteFinals(rc)).toEqual([200]);
      await tb.idle();
    }
  }, 30_000);
});
