/**
 * Component tests (fakes): one recording per recorded user. An internal call between two
 * recorded users carries two independent recordings; each user's controls act on their own; a
 * transfer re-evaluates who records.
 */
import { describe, expect, it } from 'vitest';
import type { RecordingSettings } from '../../../src/policy/policy-types.js';
import { readAudio } from '../../../src/sip/sdp-media.js';
import { fakeRequest, sdpOffer } from '../../fakes/fake-legs.js';
import type { FakeCallMedia } from '../../fakes/fake-call-media.js';
import { makeSnapshot, type SnapshotOptions } from '../policy/snapshot-builder.js';
import { connectedInbound, flush, setup, type CallHarness } from './call-harness-unit.js';

const ALICE = '+15550002001';
const CAROL = '+15550002003';
const pauseResume: Partial<RecordingSettings> = { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'beep' };
/** carol's location records with the other provider ('alt'), alice's with the organisation's ('srs'). */
const branchAlt: SnapshotOptions['branch'] = { provider: { mode: 'provider', providerId: 'alt' } };

/** alice (leg A, caller) calls carol (leg B); both answer; every recording server accepts. */
async function internalCall(o: SnapshotOptions) {
  const t = setup(makeSnapshot({ branch: branchAlt, ...o }));
  const invite = t.fromUser('alice@acme.example', CAROL);
  await flush();
  const legB = t.signaling.answer();
  await flush();
  for (const p of t.recording.ports) p.establish();
  await flush();
  const media = t.media.sessions[0]!;
  const [alice, carol] = t.recording.ports;
  return { t, invite, legB, media, alice: alice!, carol: carol! };
}

function forkOps(media: FakeCallMedia, op: string): string[] {
  return media.forkCalls.filter((c) => c.op === op).map((c) => c.forkId);
}

function dtmf(media: FakeCallMedia, leg: 'a' | 'b', code: string): void {
  for (const digit of code) media.emit('dtmf', { leg, digit, end: true, durationMs: 100, rtpTimestamp: 0, at: 0 });
}

describe('R-10 an internal call between two recorded users: two independent recordings', () => {
  it("MUST start one recording per recorded user, each with its user's provider, mode and own fork, label 2 = that user's leg (R-10, R-14, R-30)", async () => {
    const { media, alice, carol } = await internalCall({ alice: { enabled: true, mode: 'always' }, carol: pauseResume });
    expect(alice.started).toMatchObject({ direction: 'internal', userSide: 'caller', mode: 'always', provider: { id: 'srs' }, user: { aor: 'sip:alice@acme.example' } });
    expect(carol.started).toMatchObject({ direction: 'internal', userSide: 'callee', mode: 'alwaysWithPauseResume', provider: { id: 'alt' }, user: { aor: 'sip:carol@acme.example' } });
    // each names the other as its other party (label 1)
    expect(alice.started!.other.aor).toBe(`sip:${CAROL}@b2bua.example`);
    expect(carol.started!.other.aor).toBe('sip:alice@acme.example');
    // two forks, each with its own ports; fork stream 0 is leg A, so label 2 is stream 0 for alice and stream 1 for carol
    const started = forkOps(media, 'startFork');
    expect(new Set(started).size).toBe(2);
    const [aliceFork, carolFork] = [media.forks.get(started[0]!)!, media.forks.get(started[1]!)!];
    expect(alice.started!.local.label2Port).not.toBe(carol.started!.local.label2Port);
    expect(aliceFork.targets.map((x) => x.port)).toEqual([40002, 40000]); // leg A -> label 2, leg B -> label 1
    expect(carolFork.targets.map((x) => x.port)).toEqual([40000, 40002]); // leg A -> label 1, leg B -> label 2
  });

  it('MUST let *3 from a leg pause the recording of the user on that leg only; the reminder tone runs while either records (R-17, R-18, R-19)', async () => {
    const tone = { repeatTone: { enabled: true, intervalSeconds: 20 } };
    const { t, media, alice, carol } = await internalCall({ alice: { ...pauseResume, ...tone }, carol: { ...pauseResume, ...tone } });
    expect(media.reminderMs).toBe(20_000);
    dtmf(media, 'a', '*3');
    await flush();
    expect(alice.calls).toContain('pause');
    expect(carol.calls).not.toContain('pause');
    expect(forkOps(media, 'pauseFork')).toEqual([forkOps(media, 'startFork')[0]]);
    expect(media.reminderMs).toBe(20_000); // carol still records: one tone for the call keeps going
    expect(t.manager.list()[0]!.recording.state).toBe('paused'); // the call's first recording: alice's
    expect(t.manager.stats()).toMatchObject({ recordingsActive: 1, recordingsPaused: 1 });
    // carol's own *3 pauses hers: nobody records any more, the tone stops
    dtmf(media, 'b', '*3');
    await flush();
    expect(carol.calls).toContain('pause');
    expect(media.reminderMs).toBeUndefined();
    dtmf(media, 'b', '*4');
    await flush();
    expect(carol.calls.at(-1)).toBe('resume');
    expect(alice.calls.at(-1)).toBe('pause');
    expect(media.reminderMs).toBe(20_000);
  });

  it('MUST make the admin API name the recording when the call has two (party: caller, callee or the user id) (R-17)', async () => {
    const { t, alice, carol } = await internalCall({ alice: pauseResume, carol: pauseResume });
    const id = t.manager.list()[0]!.id;
    const unnamed = await t.manager.control(id, 'pause');
    expect(unnamed.ok).toBe(false);
    expect(unnamed.ok ? '' : unnamed.reason).toMatch(/party/);
    expect(alice.calls).not.toContain('pause');
    await expect(t.manager.control(id, 'pause', 'callee')).resolves.toMatchObject({ ok: true, state: 'paused' });
    expect(carol.calls).toContain('pause');
    expect(alice.calls).not.toContain('pause');
    await expect(t.manager.control(id, 'pause', 'alice')).resolves.toMatchObject({ ok: true, state: 'paused' });
    expect(alice.calls).toContain('pause');
    await expect(t.manager.control(id, 'resume', 'nobody')).resolves.toMatchObject({ ok: false });
    expect(t.manager.stats()).toMatchObject({ recordingsPaused: 2, recordingsActive: 0 });
  });

  it("MUST apply each user's own failure policy: one recording failing leaves the other recording (R-40)", async () => {
    const { t, alice, carol } = await internalCall({ alice: { enabled: true, mode: 'always' }, carol: { enabled: true, mode: 'always' } });
    carol.fail({ policy: 'proceedWithoutAnnouncement', phase: 'mid-call', detail: 'carol provider lost' });
    await flush();
    expect(t.manager.stats()).toMatchObject({ recordingsActive: 1, recordingsFailed: 1 });
    expect(alice.calls).not.toContain('stop');
    expect(t.manager.list()[0]!.state).toBe('connected');
  });

  it('MUST play a start announcement both users ask for in the same language once, noted in both recordings, and one per language otherwise (R-16, R-31)', async () => {
    const ann = { startStopAnnouncement: { pstn: false, internal: true } };
    // alice's prompts are in fr-FR, carol's in the organisation's en-US (her location has no language)
    const same = await internalCall({ alice: { enabled: true, mode: 'always', ...ann }, carol: { enabled: true, mode: 'always', ...ann }, aliceLanguage: 'fr-FR' });
    const started = same.media.prompts.filter((p) => p.name === 'recording-started');
    expect(started.map((p) => p.language).sort()).toEqual(['en-US', 'fr-FR']);
    for (const port of [same.alice, same.carol]) expect(port.notes.filter((n) => n.kind === 'start').map((n) => n.result)).toEqual(['played']);

    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'always', ...ann }, bob: { enabled: true, mode: 'always', ...ann }, aliceLanguage: null }));
    t.fromUser('alice@acme.example', '+15550002002');
    await flush();
    t.signaling.answer();
    await flush();
    const media = t.media.sessions[0]!;
    expect(media.prompts.filter((p) => p.name === 'recording-started')).toHaveLength(1); // both in hq's fr-FR: heard once
    expect(t.recording.ports).toHaveLength(2);
    for (const port of t.recording.ports) expect(port.notes.filter((n) => n.kind === 'start').map((n) => n.result)).toEqual(['played']);
  });
});

describe('R-10 a transfer re-evaluates who records (R-13)', () => {
  async function inboundToAlice(o: SnapshotOptions): Promise<ReturnType<typeof connectedInbound> extends Promise<infer R> ? R & { t: CallHarness } : never> {
    const t = setup(makeSnapshot({ orgCompliance: { inboundPstn: true }, branch: branchAlt, ...o }));
    return { t, ...(await connectedInbound(t, ALICE)) };
  }

  it("MUST stop the transferor's recording and start the recorded transfer target's own, without a second compliance announcement (R-13, R-16)", async () => {
    const { t, legB, media, port } = await inboundToAlice({ alice: { enabled: true, mode: 'always' }, carol: { enabled: true, mode: 'always', startStopAnnouncement: { pstn: true, internal: true } } });
    legB.emit('refer', fakeRequest('REFER', '', undefined, { 'Refer-To': `<sip:${CAROL}@10.0.0.5>` }));
    await flush();
    t.signaling.answer({ port: 32000, sdp: sdpOffer(32000, { address: '198.51.100.8', codecs: '0 101' }) });
    await flush();
    expect(port.calls).toEqual(['start', 'stop']);
    expect(t.recording.ports).toHaveLength(2);
    const carol = t.recording.ports[1]!;
    expect(carol.started).toMatchObject({ direction: 'inbound-pstn', userSide: 'callee', provider: { id: 'alt' }, user: { aor: 'sip:carol@acme.example' }, other: { aor: 'tel:+15559990000' } });
    // the compliance announcement played at the start of the call, never again; it keeps carol's PSTN start announcement silent
    expect(media.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    expect(media.prompts.some((p) => p.name === 'recording-started')).toBe(false);
    expect(carol.notes.map((n) => [n.kind, n.result, n.reason])).toEqual([
      ['compliance', 'played', undefined],
      ['start', 'skipped', 'compliancePrecedence'],
    ]);
    carol.establish();
    await flush();
    const forks = forkOps(media, 'startFork');
    expect(forks).toHaveLength(2);
    expect(forks[0]).not.toBe(forks[1]);
    expect(forkOps(media, 'stopFork')).toEqual([forks[0]]);
    expect(t.manager.list()[0]!.recording).toMatchObject({ state: 'stopped', party: { id: 'alice' } });
  });

  it("MUST end a recorded user's recording with their stop announcement when they transfer the call away to a party who does not record (R-16)", async () => {
    const ann = { startStopAnnouncement: { pstn: false, internal: true } };
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'always', ...ann } }));
    const invite = t.fromUser('alice@acme.example', '+15550002002');
    await flush();
    const bobLeg = t.signaling.answer({ recordAware: true });
    await flush();
    const port = t.recording.ports[0]!;
    port.establish();
    await flush();
    const media = t.media.sessions[0]!;
    // alice (leg A) transfers bob to a PSTN number and leaves
    invite.legA!.emit('refer', fakeRequest('REFER', '', undefined, { 'Refer-To': '<sip:+15557770000@10.0.0.5>' }));
    await flush();
    t.signaling.answer({ port: 32000 });
    await flush();
    expect(port.calls).toEqual(['start', 'stop']);
    expect(port.notes.filter((n) => n.kind === 'stop').map((n) => n.result)).toEqual(['played']);
    expect(media.prompts.map((p) => p.name)).toEqual(['recording-started', 'recording-stopped']);
    expect(t.recording.ports).toHaveLength(1);
    expect(media.reminderMs).toBeUndefined();
    // bob's record-aware phone is told the call is no longer recorded
    expect(readAudio(bobLeg.reinvites.at(-1)!)!.recordIndication).toBe('off');
    expect(t.manager.list()[0]!.state).toBe('connected');
  });

  it("MUST keep the remaining user's recording, naming the new party, when the other party transfers to a recorded user (R-13)", async () => {
    const { t, legB, alice, carol, media } = await internalCall({ alice: { enabled: true, mode: 'always' }, carol: { enabled: true, mode: 'always' }, bob: pauseResume });
    // carol (leg B) transfers alice to bob and leaves
    legB.emit('refer', fakeRequest('REFER', '', undefined, { 'Refer-To': '<sip:+15550002002@10.0.0.5>' }));
    await flush();
    t.signaling.answer({ port: 32000 });
    await flush();
    expect(carol.calls).toEqual(['start', 'stop']);
    expect(alice.calls).toEqual(['start']);
    expect(alice.participantChanges).toEqual([{ side: 'other', joining: { aor: 'sip:+15550002002@10.0.0.5' } }]);
    const bob = t.recording.ports[2]!;
    expect(bob.started).toMatchObject({ direction: 'internal', userSide: 'callee', mode: 'alwaysWithPauseResume', user: { aor: 'sip:bob@acme.example' }, other: { aor: 'sip:alice@acme.example' } });
    bob.establish();
    await flush();
    // bob's digits now control bob's recording (leg B), alice's stays as it is
    dtmf(media, 'b', '*3');
    await flush();
    expect(bob.calls).toEqual(['start', 'pause']);
    expect(alice.calls).toEqual(['start']);
    await t.manager.get(t.manager.list()[0]!.id)!.hangup('test');
    expect(bob.calls.at(-1)).toBe('stop');
    expect(alice.calls.at(-1)).toBe('stop');
  });

  it('MUST NOT give a user a second recording when a transfer puts them on the other leg too (their recording there goes on)', async () => {
    const { t, legB, alice, carol } = await internalCall({ alice: { enabled: true, mode: 'always' }, carol: { enabled: true, mode: 'always' } });
    legB.emit('refer', fakeRequest('REFER', '', undefined, { 'Refer-To': `<sip:${ALICE}@10.0.0.5>` }));
    await flush();
    t.signaling.answer({ port: 32000 });
    await flush();
    expect(carol.calls).toEqual(['start', 'stop']);
    expect(alice.calls).toEqual(['start']);
    expect(t.recording.ports).toHaveLength(2);
  });
});
