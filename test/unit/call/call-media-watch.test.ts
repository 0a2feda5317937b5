import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/common/errors.js';
import { callLatching, latchingOf } from '../../../src/call/leg-latching.js';
import type { Admission } from '../../../src/sip/admission.js';
import { fakeRequest, sdpOffer } from '../../fakes/fake-legs.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { connectedInbound, flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };

describe('latching mode per leg (docs/nat.md)', () => {
  const policy = { default: 'auto' as const, trunk: 'sdp' as const, userAgent: 'first-source' as const, byTrunk: { t2: 'auto' as const } };

  it('MUST take a class mode, a trunk mode above it, and the default for a class without one', () => {
    expect(latchingOf(policy, 'trunk', 't1')).toBe('sdp');
    expect(latchingOf(policy, 'trunk', 't2')).toBe('auto');
    expect(latchingOf(policy, 'trusted')).toBe('auto');
    expect(latchingOf(policy, 'user-agent')).toBe('first-source');
    expect(latchingOf({ default: 'sdp' }, 'user-agent')).toBe('sdp');
  });

  it('MUST give leg A the caller class and leg B the trunk (outbound), the PBX (user proxy) or the phone', () => {
    const admitted = (source: 'trunk' | 'trusted' | 'authenticated' | 'open') => ({ admitted: true, source, trunk: { id: 't1' } }) as unknown as Extract<Admission, { admitted: true }>;
    expect(callLatching(policy, admitted('trunk'), { direction: 'inbound-pstn' }, false)).toEqual({ a: 'sdp', b: 'first-source' });
    expect(callLatching(policy, admitted('trunk'), { direction: 'inbound-pstn' }, true)).toEqual({ a: 'sdp', b: 'auto' });
    expect(callLatching(policy, admitted('authenticated'), { direction: 'outbound-pstn' }, false)).toEqual({ a: 'first-source', b: 'sdp' });
    expect(callLatching(policy, admitted('trusted'), { direction: 'internal' }, false)).toEqual({ a: 'auto', b: 'first-source' });
  });

  it('MUST create the call media with the modes of its legs', async () => {
    const t = setup(makeSnapshot({ alice: always }), { latching: { default: 'auto', trunk: 'sdp' } });
    await connectedInbound(t, ALICE);
    // the carrier (trunk) on leg A, alice reached through the PBX (user proxy: trusted) on leg B
    expect(t.media.sessions[0]!.options.latching).toEqual({ a: 'sdp', b: 'auto' });
  });
});

describe('silent-leg alarm (a lost channel is never silent)', () => {
  it('MUST watch for silence from answer, stop during hold and watch again after unhold', async () => {
    const t = setup(makeSnapshot({ alice: always }), { silenceAlarmMs: 4000 });
    const { invite, media } = await connectedInbound(t, ALICE);
    expect(media.silenceWatchMs).toBe(4000);
    invite.legA!.emit('reoffer', fakeRequest('INVITE', sdpOffer(30000, { direction: 'sendonly' })));
    await flush();
    expect(media.silenceWatchMs).toBe(0);
    invite.legA!.emit('reoffer', fakeRequest('INVITE', sdpOffer(30000)));
    await flush();
    expect(media.silenceWatchMs).toBe(4000);
  });

  it('MUST NOT watch when the alarm is off (0)', async () => {
    const t = setup(makeSnapshot({ alice: always }), { silenceAlarmMs: 0 });
    const { media } = await connectedInbound(t, ALICE);
    expect(media.log.some((l) => l.startsWith('watchSilence'))).toBe(false);
  });

  it('MUST mark a silent leg in the recording metadata (stream label of that party) and in the call summary', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const { media, port } = await connectedInbound(t, ALICE);
    const at = t.clock.now();
    // leg B is alice (the user: stream 2); its RTP all came from another source than the latched one
    media.emit('silent', {
      leg: 'b',
      reason: 'hijack',
      silentForMs: 5000,
      dropped: { hijack: 250, payloadType: 0, foreignSsrc: 0, malformed: 0, unlatched: 0 },
      remote: { address: '10.0.0.9', port: 4000 },
      sdp: { address: '10.0.0.9', port: 4000 },
      refused: { address: '203.0.113.7', port: 61000 },
      at,
    });
    expect(port.problems).toEqual([{ kind: 'silent-stream', label: '2', reason: 'hijack', since: at - 5000, detected: at, dropped: 250, sdp: '10.0.0.9:4000', source: '203.0.113.7:61000' }]);
    expect(t.manager.list()[0]!.mediaProblems).toEqual([{ kind: 'silent-stream', leg: 'b', reason: 'hijack' }]);
  });
});

describe('audio lost before the recording server answered is marked (a lost start is never silent)', () => {
  it('MUST mark both streams with the missing span when the recording server answered later than the fork buffer holds', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const { media, port } = await connectedInbound(t, ALICE);
    const forkId = media.forkCalls.find((c) => c.op === 'startFork')!.forkId;
    const now = t.clock.now();
    // the server answered 4.5 s after the fork was prepared; the fork keeps 3 s: the first 1.5 s are gone
    media.emit('forkBuffer', { forkId, outcome: 'sent', waitedMs: 4500, bufferMs: 3000, sent: 300, overflowed: 150, discarded: 0 });
    const span = { since: now - 4500, detected: now - 3000 };
    expect(port.problems).toEqual([
      { kind: 'lost-start', label: '1', reason: 'recording-server-late', ...span },
      { kind: 'lost-start', label: '2', reason: 'recording-server-late', ...span },
    ]);
  });

  it('MUST mark the whole wait when the fork keeps nothing (media.forkBufferMs 0), and nothing when all was kept or the fork never started', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const { media, port } = await connectedInbound(t, ALICE);
    const forkId = media.forkCalls.find((c) => c.op === 'startFork')!.forkId;
    media.emit('forkBuffer', { forkId, outcome: 'sent', waitedMs: 800, bufferMs: 3000, sent: 80, overflowed: 0, discarded: 0 });
    media.emit('forkBuffer', { forkId, outcome: 'discarded', waitedMs: 5000, bufferMs: 3000, sent: 0, overflowed: 100, discarded: 300 });
    expect(port.problems).toEqual([]);
    const now = t.clock.now();
    media.emit('forkBuffer', { forkId, outcome: 'sent', waitedMs: 700, bufferMs: 0, sent: 0, overflowed: 0, discarded: 0 });
    expect(port.problems.map((p) => [p.kind, p.label, p.reason, p.since, p.detected])).toEqual([
      ['lost-start', '1', 'no-fork-buffer', now - 700, now],
      ['lost-start', '2', 'no-fork-buffer', now - 700, now],
    ]);
  });
});

describe('no media resources (RTP ports or sockets) is a clean 503', () => {
  it('MUST refuse the call with 503 and Retry-After, not 500, when the media plane cannot bind', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    t.media.createSession = async () => {
      throw new AppError('MEDIA_BIND_FAILED', 'ports 40000, 40002: EMFILE');
    };
    const invite = t.inbound(ALICE);
    await flush();
    expect(invite.rejected).toBe(503);
    expect(invite.rejectHeaders).toEqual({ 'Retry-After': '5' });
    expect(t.signaling.dials).toHaveLength(0);
    expect(t.manager.size).toBe(0);
  });
});
