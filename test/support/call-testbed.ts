/**
 * The shared set-up of the call-flow integration tests: one CallHarness (test/support/call-harness.ts)
 * per test file, the parties' SIP ports, the policy snapshot the harness serves, SIPp parties and
 * RtpPeer endpoints that are stopped / closed after each test (so a failing test frees its ports),
 * and the waits every call test repeats.
 *
 * Ports come from the file's own PortBlock, in this order (fixed when the file loads):
 *
 *   sipPorts (default 10)   the engine's SIP port (the app link uses sipPort + 1)
 *   rtpPorts (default 100)  the media plane's RTP range
 *   trunk                   the carrier: calls in from here, outbound PSTN calls go here
 *   pbx                     users' phones behind the PBX (the user proxy; a trusted source)
 *   ...parties              the file's further parties, one port each, in the order given
 *
 * then, as the tests run: two ports per rtpPeer(), five per SIPp (control port + media port and
 * the three SIPp binds next to it).
 *
 * Call `useCallTestbed` once at the top level of a test file: it registers beforeAll (start the
 * harness), afterEach (close the test's RTP peers, stop its SIPp parties) and afterAll (close the
 * harness).
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { PolicySnapshot } from '../../src/policy/policy-types.js';
import type { FakeRecordingPort } from '../fakes/fake-recording-port.js';
import { startCallHarness, type CallHarness, type CallHarnessOptions, type SessionTrace } from './call-harness.js';
import type { PortBlock } from './ports.js';
import { RtpPeer, type Target } from './rtp-peer.js';
import { scenarioPath, startSipp, type SippOptions, type SippProcess } from './sipp.js';
import { sine } from './tone-source.js';
import { until } from './wait.js';

/** The two parties every call test has. */
export type CorePartyName = 'trunk' | 'pbx';

export interface CallTestbedOptions<P extends string> {
  /** The file's parties beyond trunk and pbx, one port each, taken in this order. Default none. */
  readonly parties?: readonly P[];
  /** Parties admitted as trusted sources (R-10 admission), in this order. Required (e.g. ['pbx']). */
  readonly trusted: readonly NoInfer<CorePartyName | P>[];
  /**
   * The policy at start, or a function of the parties' ports that makes it (e.g. to name a party as
   * the recording server); setSnapshot() replaces it. Both point the first trunk at the trunk port.
   */
  readonly snapshot: PolicySnapshot | ((ports: Readonly<Record<CorePartyName | P, number>>) => PolicySnapshot);
  /** Ports for the engine (SIP port, app link, spare). Default 10. */
  readonly sipPorts?: number;
  /** Size of the media plane's RTP range. Default 100. */
  readonly rtpPorts?: number;
  /** SIPp's -timeout for every party of the file, seconds. Default 20. */
  readonly timeoutSec?: number;
  /** Passed to the harness: the recording port factory (default the fake) and digest authentication (default none). */
  readonly recording?: CallHarnessOptions['recording'];
  readonly digest?: CallHarnessOptions['digest'];
  /** Passed to the harness: the call layer's logger (default silent). */
  readonly logger?: CallHarnessOptions['logger'];
}

/** How a party differs from the defaults: where it sends (UAC), its -d pause, raw extra arguments. */
export interface PartyExtra {
  readonly remote?: string;
  readonly pauseMs?: number;
  readonly extraArgs?: string[];
}

/** The media session of a new call and where each side's RTP goes (the plane's A and B ports). */
export interface CallMedia {
  readonly trace: SessionTrace;
  readonly toA: Target;
  readonly toB: Target;
}

/** The calling number of the carrier's caller in inboundCall(). */
export const CARRIER_NUMBER = '+15559990000';

export interface InboundCallOptions {
  /** The number the carrier calls (the To user). */
  readonly toUser: string;
  /** How long the carrier stays after its ACK (its -d), ms. */
  readonly callMs: number;
  /** The carrier's scenario (default 'caller') and keys beyond from/to/rtp_port. */
  readonly caller?: string;
  readonly callerKeys?: Record<string, string | number>;
  /** The user's phone's scenario (default 'callee'), keys beyond rtp_port, and its -d (default none). */
  readonly callee?: string;
  readonly calleeKeys?: Record<string, string | number>;
  readonly calleePauseMs?: number;
  /** Tones the parties play once the media session exists: the caller's to side A, the user's to side B. Default none. */
  readonly tones?: { readonly callerHz: number; readonly userHz: number; readonly ms: number };
}

/** A started inbound call (see inboundCall()). */
export interface InboundCall extends CallMedia {
  /** The carrier (UAC) and the user's phone (UAS). */
  readonly uac: SippProcess;
  readonly uas: SippProcess;
  /** Their audio endpoints. */
  readonly callerRtp: RtpPeer;
  readonly userRtp: RtpPeer;
  /** How many recording ports existed before the call. */
  readonly recordingsBefore: number;
}

/** The fake recording server's side of a call: its recording port and the two RtpPeers its fork goes to. */
export interface RecordingFork {
  readonly port: FakeRecordingPort;
  /** The caller's stream (index 0) and the user's (index 1). */
  readonly srs: readonly [RtpPeer, RtpPeer];
}

export interface CallTestbed<P extends string> {
  /** The harness; available from beforeAll on (throws before). */
  readonly h: CallHarness;
  /** The engine's SIP port. */
  readonly sipPort: number;
  /** Each party's SIP port. */
  readonly ports: Readonly<Record<CorePartyName | P, number>>;
  /** Serves `s` from now on, its first trunk's sourceAddresses set to the trunk port. */
  setSnapshot(s: PolicySnapshot): void;
  /** SIPp with control and media ports from the block and the file's timeout; stopped after the test. */
  sipp(options: Omit<SippOptions, 'controlPort' | 'mediaPort'>): SippProcess;
  /** A party running sipp-scenarios/calls/<scenario>.xml on `port` with `keys` (supported defaults to 'timer'). */
  party(scenario: string, port: number, keys: Record<string, string | number>, extra?: PartyExtra): SippProcess;
  /** An RTP endpoint on two fresh ports of the block; closed after the test (what it received stays readable). */
  rtpPeer(): Promise<RtpPeer>;
  /** Closes the RTP peers opened so far in this test now (e.g. to stop their tones before the next call). */
  closeRtpPeers(): void;
  /** Waits for the next media session (the call just placed) and returns it with its A/B RTP targets. */
  nextCall(timeoutMs?: number): Promise<CallMedia>;
  /** Waits until a recording port beyond the first `before` exists and returns it (the fake recording server's side). */
  nextRecording(before: number, timeoutMs?: number): Promise<FakeRecordingPort>;
  /** Waits until no call and no media session is left. */
  idle(): Promise<void>;
  /**
   * An inbound PSTN call: RtpPeers for the carrier and the user; the user's phone answers on the pbx
   * port (waited until bound), then the carrier calls `toUser` from the trunk port (From
   * CARRIER_NUMBER). Resolves once the call's media session exists (and its tones have started).
   */
  inboundCall(o: InboundCallOptions): Promise<InboundCall>;
  /**
   * Opens two RtpPeers (the recording server's streams), waits for the recording port beyond the
   * first `before` and points its fork at them.
   */
  recordingFork(before: number, timeoutMs?: number): Promise<RecordingFork>;
}

export function useCallTestbed<const P extends string = never>(block: PortBlock, o: CallTestbedOptions<P>): CallTestbed<P> {
  const [sipPort] = block.take(o.sipPorts ?? 10) as [number];
  const rtpPorts = o.rtpPorts ?? 100;
  const [rtpMin] = block.take(rtpPorts) as [number];
  const ports = { trunk: block.next(), pbx: block.next() } as Record<CorePartyName | P, number>;
  for (const name of o.parties ?? []) ports[name] = block.next();
  const timeoutSec = o.timeoutSec ?? 20;

  let snapshot: PolicySnapshot;
  const setSnapshot = (s: PolicySnapshot): void => {
    snapshot = { ...s, trunks: [{ ...s.trunks[0]!, sourceAddresses: [`127.0.0.1:${ports.trunk}`] }] };
  };
  setSnapshot(typeof o.snapshot === 'function' ? o.snapshot(ports) : o.snapshot);

  let harness: CallHarness | undefined;
  const h = (): CallHarness => {
    if (!harness) throw new Error('the call harness is not started (use the testbed inside tests and hooks)');
    return harness;
  };
  const running: SippProcess[] = [];
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    harness = await startCallHarness({
      sipPort,
      rtpPortMin: rtpMin,
      rtpPortMax: rtpMin + rtpPorts - 1,
      snapshots: () => [snapshot],
      options: {
        admission: { trustedSources: o.trusted.map((name) => `127.0.0.1:${ports[name]}`) },
        routing: { userProxy: `sip:127.0.0.1:${ports.pbx}` },
      },
      ...(o.recording ? { recording: o.recording } : {}),
      ...(o.digest ? { digest: o.digest } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
  });

  const closeRtpPeers = (): void => {
    for (const p of peers.splice(0)) p.close();
  };

  afterEach(async () => {
    closeRtpPeers();
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  afterAll(async () => {
    await harness?.close();
  });

  const sipp = (options: Omit<SippOptions, 'controlPort' | 'mediaPort'>): SippProcess => {
    const controlPort = block.next();
    const [mediaPort] = block.take(4) as [number];
    const p = startSipp({ controlPort, mediaPort, timeoutSec, ...options });
    running.push(p);
    return p;
  };

  const rtpPeer = async (): Promise<RtpPeer> => {
    const p = await RtpPeer.open(block.take(2)[0]!);
    peers.push(p);
    return p;
  };
  const party = (scenario: string, port: number, keys: Record<string, string | number>, extra: PartyExtra = {}): SippProcess =>
    sipp({ scenario: scenarioPath(scenario, 'calls'), port, keys: { supported: 'timer', ...keys }, ...extra });
  const nextCall = async (timeoutMs?: number): Promise<CallMedia> => {
    const trace = await h().nextSession(h().sessions.length, timeoutMs);
    const local = trace.session.local;
    return { trace, toA: { address: '127.0.0.1', port: local.a.rtpPort }, toB: { address: '127.0.0.1', port: local.b.rtpPort } };
  };
  const nextRecording = async (before: number, timeoutMs = 5000): Promise<FakeRecordingPort> => {
    await until(() => h().recordings.length > before, 'the recording to start', timeoutMs);
    return h().recordings[before]!;
  };

  return {
    get h() {
      return h();
    },
    sipPort,
    ports,
    setSnapshot,
    sipp,
    party,
    rtpPeer,
    closeRtpPeers,
    nextCall,
    nextRecording,
    async idle() {
      await until(() => h().manager.size === 0 && h().plane.sessionCount === 0, 'no call and no media session left');
    },
    async inboundCall(c) {
      const callerRtp = await rtpPeer();
      const userRtp = await rtpPeer();
      const recordingsBefore = h().recordings.length;
      const uas = party(c.callee ?? 'callee', ports.pbx, { rtp_port: userRtp.port, ...c.calleeKeys }, c.calleePauseMs === undefined ? {} : { pauseMs: c.calleePauseMs });
      await uas.ready();
      const callerKeys = { from_user: CARRIER_NUMBER, from_host: '127.0.0.1', to_user: c.toUser, rtp_port: callerRtp.port, ...c.callerKeys };
      const uac = party(c.caller ?? 'caller', ports.trunk, callerKeys, { remote: h().target, pauseMs: c.callMs });
      const media = await nextCall();
      if (c.tones) {
        void callerRtp.play(sine(c.tones.callerHz, c.tones.ms), media.toA);
        void userRtp.play(sine(c.tones.userHz, c.tones.ms), media.toB);
      }
      return { ...media, uac, uas, callerRtp, userRtp, recordingsBefore };
    },
    async recordingFork(before, timeoutMs) {
      const srs = [await rtpPeer(), await rtpPeer()] as const;
      const port = await nextRecording(before, timeoutMs);
      port.establish('127.0.0.1', [srs[0].port, srs[1].port]);
      return { port, srs };
    },
  };
}
