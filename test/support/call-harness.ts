/**
 * Call-layer integration harness: the embedded SIP engine on 127.0.0.1, drachtio-srf connected to
 * it, the real media plane (in-thread engine) with the real prompt library, and the CallManager with
 * a fake recording port (the SIPREC client has its own integration tests). SIPp does the signalling
 * of the parties; RtpPeer endpoints (test/support/rtp-peer.ts) carry their audio and record what
 * each party heard.
 *
 * Instrumentation for timing assertions: when each media session's prompts started/ended and when
 * each leg B was dialled, on the harness's own monotonic clock (performance.now()).
 */
import { CallManager } from '../../src/call/call-manager.js';
import type { CallLayerOptions } from '../../src/call/call-options.js';
import type { RecordingPortFactory } from '../../src/call/call-ports.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import { PromptLibrary } from '../../src/media/audio/prompt-library.js';
import { MediaPlane } from '../../src/media/media-plane.js';
import type { MediaSession } from '../../src/media/media-session.js';
import type { MediaSessionOptions } from '../../src/media/media-session-types.js';
import { silentLogger, type Logger } from '../../src/observability/logger.js';
import type { PolicySnapshot } from '../../src/policy/policy-types.js';
import type { DialOptions, PendingDial, SignalingPort } from '../../src/sip/b2bua-types.js';
import type { DigestAuthenticator } from '../../src/sip/digest-auth.js';
import { SrfSignalingPort } from '../../src/sip/leg.js';
import { SignalingConnection } from '../../src/sip/signaling-connection.js';
import { fakeRecordingFactory, type FakeRecordingPort } from '../fakes/fake-recording-port.js';
import { until } from './wait.js';

export interface CallHarnessOptions {
  /** SIP port of the engine (UDP); the app link uses sipPort + 1. */
  readonly sipPort: number;
  /** RTP range of the media plane (even start; at least 8 ports per concurrent call). */
  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  readonly snapshots: () => readonly PolicySnapshot[];
  readonly options: CallLayerOptions;
  /** The recording port factory; default a fake (recordings[] lists its ports). */
  readonly recording?: (srf: SignalingConnection['srf']) => RecordingPortFactory;
  /** Digest authentication of untrusted sources (src/sip/digest-auth.ts); default none. */
  readonly digest?: DigestAuthenticator;
  /** The call layer's logger (e.g. one that keeps its lines for a test to read); default silent. */
  readonly logger?: Logger;
}

export interface SessionTrace {
  readonly session: MediaSession;
  readonly createdAt: number;
  readonly prompts: Array<{ name: string; leg: string; startedAt?: number; endedAt?: number; reason?: string }>;
}

export interface CallHarness {
  readonly engine: Engine;
  readonly target: string;
  readonly manager: CallManager;
  readonly plane: MediaPlane;
  readonly sessions: SessionTrace[];
  readonly dials: Array<{ uri: string; at: number }>;
  readonly recordings: FakeRecordingPort[];
  /** Resolves with the next media session created (polls). */
  nextSession(index: number, timeoutMs?: number): Promise<SessionTrace>;
  close(): Promise<void>;
}

const SECRET = 'call-harness';

/** What tracingMediaFactory wraps: the media plane, or anything that creates its sessions. */
export type SessionSource = Pick<MediaPlane, 'createSession'>;

/**
 * A media factory over `plane` that appends a trace of every session it creates to `sessions`:
 * when it was created and when each prompt started and ended (performance.now()).
 */
export function tracingMediaFactory(plane: SessionSource, sessions: SessionTrace[]): SessionSource {
  return {
    createSession: async (opts?: MediaSessionOptions) => {
      const session = await plane.createSession(opts);
      const trace: SessionTrace = { session, createdAt: performance.now(), prompts: [] };
      session.on('promptStarted', (e) => trace.prompts.push({ name: e.name, leg: e.leg, startedAt: performance.now() }));
      session.on('promptEnded', (e) => {
        const p = trace.prompts.find((x) => x.name === e.name && x.leg === e.leg && x.endedAt === undefined);
        if (p) Object.assign(p, { endedAt: performance.now(), reason: e.reason });
      });
      sessions.push(trace);
      return session;
    },
  };
}

export async function startCallHarness(o: CallHarnessOptions): Promise<CallHarness> {
  const engine = await startEngine({
    sipContacts: [`sip:127.0.0.1:${o.sipPort};transport=udp`],
    adminHost: '127.0.0.1',
    adminPort: o.sipPort + 1,
    secret: SECRET,
    t1: 100,
    t2: 800,
    t4: 1000,
  });
  const signaling = await SignalingConnection.connect({ ...engine.adminAddress, secret: SECRET, logger: silentLogger });
  const prompts = PromptLibrary.load('prompts', { languages: ['en', 'es', 'de'] });
  const plane = await MediaPlane.start({ portMin: o.rtpPortMin, portMax: o.rtpPortMax, workers: 0, prompts });
  const sessions: SessionTrace[] = [];
  const dials: Array<{ uri: string; at: number }> = [];
  const media = tracingMediaFactory(plane, sessions);
  const port = new SrfSignalingPort(signaling.srf);
  const instrumented: SignalingPort = {
    onInvite: (h) => port.onInvite(h),
    onReconnect: (h) => port.onReconnect(h),
    dial: (uri: string, options: DialOptions): PendingDial => {
      dials.push({ uri, at: performance.now() });
      return port.dial(uri, options);
    },
  };
  const recording = fakeRecordingFactory();
  const manager = new CallManager({
    signaling: instrumented,
    policy: { snapshots: async () => o.snapshots() },
    media,
    prompts,
    recording: o.recording ? o.recording(signaling.srf) : recording.factory,
    options: o.options,
    ...(o.digest ? { digest: o.digest } : {}),
    logger: o.logger ?? silentLogger,
  }).attach();
  let closed = false;
  return {
    engine,
    target: `127.0.0.1:${o.sipPort}`,
    manager,
    plane,
    sessions,
    dials,
    recordings: recording.ports,
    async nextSession(index, timeoutMs = 5000) {
      await until(() => sessions.length > index, `media session #${index}`, timeoutMs, 10);
      return sessions[index]!;
    },
    async close() {
      if (closed) return;
      closed = true;
      await manager.close();
      await plane.close();
      signaling.close();
      await engine.close();
    },
  };
}
