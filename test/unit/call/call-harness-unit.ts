/** Shared set-up of the call-layer unit tests: CallManager over fake signalling, media and recording. */
import { CallManager } from '../../../src/call/call-manager.js';
import type { CallLayerOptions } from '../../../src/call/call-options.js';
import type { PromptSource } from '../../../src/call/call-ports.js';
import type { Prompt, PromptName } from '../../../src/media/audio/prompt-library.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { AccessControl } from '../../../src/sip/access-control.js';
import type { DigestAuthenticator } from '../../../src/sip/digest-auth.js';
import { noopCallMetrics } from '../../../src/observability/metrics-types.js';
import type { PolicySnapshot } from '../../../src/policy/policy-types.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { fakeMediaFactory } from '../../fakes/fake-call-media.js';
import { FakeInvite, FakeSignaling } from '../../fakes/fake-legs.js';
import { fakeRecordingFactory } from '../../fakes/fake-recording-port.js';

export const prompts: PromptSource = {
  get: (name: PromptName, language: string): Prompt => ({
    name,
    language,
    pcm: new Int16Array(800),
    durationMs: 100,
    frames: () => [],
  }),
};

export async function flush(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export function setup(
  snapshot: PolicySnapshot,
  options: CallLayerOptions = {},
  access?: (clock: FakeClock) => AccessControl,
  digest?: (clock: FakeClock) => DigestAuthenticator,
) {
  const clock = new FakeClock();
  const rejected: string[] = [];
  const signaling = new FakeSignaling();
  const media = fakeMediaFactory(() => clock.now());
  const recording = fakeRecordingFactory();
  const manager = new CallManager({
    signaling,
    policy: { snapshots: async () => [snapshot] },
    media,
    prompts,
    recording: recording.factory,
    options: { routing: { userProxy: 'sip:10.0.0.5:5060' }, admission: { trustedSources: ['10.0.0.5'] }, ...options },
    clock,
    timers: clock,
    logger: silentLogger,
    ...(access ? { access: access(clock) } : {}),
    ...(digest ? { digest: digest(clock) } : {}),
    metrics: { ...noopCallMetrics, callRejected: (reason: string) => rejected.push(reason) },
  }).attach();
  return {
    clock,
    /** Reasons of the INVITEs the call layer refused (CallMetrics.callRejected), in order. */
    rejected,
    signaling,
    media,
    recording,
    manager,
    /** A call from the carrier trunk (192.0.2.10) to a number. */
    inbound(to: string, extra: Partial<ConstructorParameters<typeof FakeInvite>[0]> = {}): FakeInvite {
      const invite = new FakeInvite({ from: '<sip:+15559990000@192.0.2.10>;tag=x', to: `<sip:${to}@b2bua.example>`, ...extra });
      signaling.deliver(invite);
      return invite;
    },
    /** A call from a user behind the PBX (10.0.0.5). */
    fromUser(from: string, to: string, extra: Partial<ConstructorParameters<typeof FakeInvite>[0]> = {}): FakeInvite {
      const invite = new FakeInvite({ from: `<sip:${from}>;tag=y`, to: `<sip:${to}@b2bua.example>`, source: '10.0.0.5', ...extra });
      signaling.deliver(invite);
      return invite;
    },
  };
}

/** The harness `setup` returns. */
export type CallHarness = ReturnType<typeof setup>;

export interface ConnectedInboundOptions {
  /** More fields of the carrier's INVITE (e.g. recordAware, callId). Default none. */
  invite?: Partial<ConstructorParameters<typeof FakeInvite>[0]>;
  /** How the callee answers (FakeSignaling.answer: port, recordAware, sdp). Default FakeSignaling's defaults. */
  answer?: Parameters<FakeSignaling['answer']>[0];
}

/**
 * The "connected call" preamble: a carrier call to `to` (t.inbound), answered by the callee, then
 * the recording server accepts the first recording (port.establish()), with a flush after each
 * step. Returns the INVITE, leg B, the call's media session and that recording port.
 */
export async function connectedInbound(t: CallHarness, to: string, o: ConnectedInboundOptions = {}) {
  const invite = t.inbound(to, o.invite);
  await flush();
  const legB = t.signaling.answer(o.answer);
  await flush();
  const port = t.recording.ports[0]!;
  port.establish();
  await flush();
  return { invite, legB, media: t.media.sessions[0]!, port };
}
