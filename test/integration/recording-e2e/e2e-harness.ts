/**
 * End-to-end recording harness: the real call layer (CallManager, media plane, prompts) with the
 * real SIPREC client (SiprecRecordingPort -> RecordingSession -> DrachtioSrsConnector) talking to
 * reference recording servers (SrsApp, each behind its own embedded engine, as the application's
 * in-process SRS runs), SIPp for the parties' signalling and RtpPeer endpoints for their audio.
 * What the recording server wrote (2-channel WAV, metadata history, JSON summary) is what the tests
 * assert on.
 *
 * Ports: this folder owns 36000-38999; each test file takes its own block (see `e2eBlock`).
 * A test file of the call-harness product sets itself up with `useRecordingE2e` (servers, product,
 * clean-up); the application's own file drives startApplication through `applicationDriver`.
 */
import { heard, toneShare } from '../../support/audio-checks.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Application } from '../../../src/app/application.js';
import { siprecRecordingFactory, type SiprecRecordingPortOptions } from '../../../src/call/siprec-recording-port.js';
import { systemClock, systemTimers } from '../../../src/common/clock.js';
import { startEngine, type Engine } from '../../../src/engine/index.js';
import { decodeWav } from '../../../src/media/audio/wav.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { PolicyRepository } from '../../../src/policy/policy-repository.js';
import type { FailurePolicy, PolicySnapshot, Provider, RecordingSettings } from '../../../src/policy/policy-types.js';
import { DrachtioSrsConnector } from '../../../src/sip/srs-connector.js';
import { SignalingConnection } from '../../../src/sip/signaling-connection.js';
import { parseMetadata } from '../../../src/siprec/metadata-parser.js';
import type { RecordingMetadataModel } from '../../../src/siprec/metadata-types.js';
import { SrsApp } from '../../../src/srs/srs-app.js';
import type { SrsFaultOptions } from '../../../src/srs/srs-fault-options.js';
import { resolveSrsOptions } from '../../../src/srs/srs-options.js';
import type { RecordingSummary } from '../../../src/srs/recording-summary.js';
import { startCallHarness, tracingMediaFactory, type CallHarness, type SessionTrace } from '../../support/call-harness.js';
import { goertzelPower, meanSquare } from '../../support/goertzel.js';
import { portBlock, type PortBlock } from '../../support/ports.js';
import { RtpPeer, type Target } from '../../support/rtp-peer.js';
import { scenarioPath, startSipp, type SippResult } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { makeSnapshot, type SnapshotOptions } from '../../unit/policy/snapshot-builder.js';
import { until } from '../../support/wait.js';

/** The PSTN / other party's test tone (label 1, WAV channel 1). */
export const OTHER_HZ = 1000;
/** The recorded user's test tone (label 2, WAV channel 2). */
export const USER_HZ = 1500;
export const CALLER_NUMBER = '+15559990000';
/** alice's number in the snapshot builder's organisation. */
export const ALICE_NUMBER = '+15550002001';

/** Block `index` (0..5) of 500 ports of this folder's range 36000-38999. */
export function e2eBlock(index: number): PortBlock {
  return portBlock({ from: 36000, to: 38999 }, index, 500);
}

/** Wall-clock time (Date.now() scale) of a performance.now() instant. */
export function wallOf(perf: number): number {
  return performance.timeOrigin + perf;
}

// ---------------------------------------------------------------- reference recording servers

export interface SrsInstance {
  readonly uri: string;
  readonly app: SrsApp;
  readonly engine: Engine;
  readonly dir: string;
  readonly summaries: RecordingSummary[];
  readonly rejected: Array<{ status: number; reason: string }>;
  /** Recordings started (INVITE answered 200). */
  started: number;
  /** Our SDP answer of every recording started. */
  readonly answers: string[];
  close(): Promise<void>;
}

/** `jitterWindowMs`: the server's late-packet window and re-anchoring bound (SrsOptions, default 500). */
export async function startSrs(o: { sipPort: number; rtpFrom: number; rtpTo: number; dir: string; faults?: SrsFaultOptions; jitterWindowMs?: number }): Promise<SrsInstance> {
  const secret = 'e2e-srs';
  const engine = await startEngine({
    sipContacts: [`sip:127.0.0.1:${o.sipPort};transport=udp`],
    adminHost: '127.0.0.1',
    adminPort: 0,
    secret,
    t1: 100,
    t2: 800,
    t4: 1000,
  });
  const signaling = await SignalingConnection.connect({ ...engine.adminAddress, secret, logger: silentLogger });
  const app = new SrsApp(
    signaling.srf,
    resolveSrsOptions({
      drachtio: { ...engine.adminAddress, secret },
      rtpAddress: '127.0.0.1',
      rtpPorts: { from: o.rtpFrom, to: o.rtpTo },
      recordingsDir: o.dir,
      faults: o.faults ?? { mode: 'none' },
      ...(o.jitterWindowMs !== undefined ? { jitterWindowMs: o.jitterWindowMs } : {}),
    }),
    { logger: silentLogger },
  ).attach();
  const instance: SrsInstance = {
    uri: `sip:srs@127.0.0.1:${o.sipPort}`,
    app,
    engine,
    dir: o.dir,
    summaries: [],
    rejected: [],
    started: 0,
    answers: [],
    async close() {
      await app.close();
      signaling.close();
      await engine.close();
    },
  };
  app.on('recording-started', (r) => {
    instance.started++;
    instance.answers.push(r.answerSdp);
  });
  app.on('recording-ended', (s) => instance.summaries.push(s));
  app.on('rejected', (status, reason) => instance.rejected.push({ status, reason }));
  return instance;
}

// ---------------------------------------------------------------- the product side

/** The snapshot builder's organisation with provider 'srs' replaced (trunk source = the SIPp caller). */
export function e2eSnapshot(o: {
  trunkPort: number;
  provider: Partial<Provider> & { recordingServers: Provider['recordingServers'] };
  policy?: SnapshotOptions;
}): PolicySnapshot {
  const s = makeSnapshot(o.policy ?? {});
  return {
    ...s,
    org: { ...s.org },
    providers: s.providers.map((p) => (p.id === 'srs' ? { ...p, ...o.provider } : p)),
    trunks: [{ ...s.trunks[0]!, sourceAddresses: [`127.0.0.1:${o.trunkPort}`] }],
  };
}

export async function startProduct(o: {
  block: PortBlock;
  pbxPort: number;
  snapshot: () => PolicySnapshot;
  session?: SiprecRecordingPortOptions['session'];
  /** The routing's trunk targets (name -> host:port); default none. */
  trunkTargets?: Record<string, string>;
}): Promise<CallHarness> {
  const [sipPort] = o.block.take(2);
  const range = o.block.take(101);
  const rtpMin = range[0]! % 2 === 0 ? range[0] : range[1]; // RTP on even ports
  return startCallHarness({
    sipPort: sipPort!,
    rtpPortMin: rtpMin!,
    rtpPortMax: rtpMin! + 99,
    snapshots: () => [o.snapshot()],
    options: {
      admission: { trustedSources: [`127.0.0.1:${o.pbxPort}`] },
      routing: { userProxy: `sip:127.0.0.1:${o.pbxPort}`, ...(o.trunkTargets ? { trunkTargets: o.trunkTargets } : {}) },
    },
    recording: (srf) =>
      siprecRecordingFactory({
        connector: new DrachtioSrsConnector(srf),
        clock: systemClock,
        timers: systemTimers,
        session: { attemptTimeoutMs: 1500, startDeadlineMs: 5000, ...o.session },
      }),
  });
}

// ---------------------------------------------------------------- one test file's set-up

/** One reference recording server of a test file. */
export interface RecordingServerSpec {
  /** Its RTP range's size. */
  readonly rtpPorts: number;
  /** Sub-folder of the file's temporary folder for its recordings; default the folder itself. */
  readonly folder?: string;
  /** Fault mode; default none. */
  readonly faults?: SrsFaultOptions;
}

/** e2eSnapshot's options but the trunk port (the testbed's). */
export type E2ePolicy = Omit<Parameters<typeof e2eSnapshot>[0], 'trunkPort'>;

/**
 * Alice's calls recorded on `servers` (tried in this order, over UDP), with `failurePolicy`
 * when none of them takes the call. `policy` is the snapshot builder's; default alice records always.
 */
export function recordingOn(servers: readonly SrsInstance[], failurePolicy: FailurePolicy, policy: SnapshotOptions = { alice: { enabled: true, mode: 'always' } }): E2ePolicy {
  return { provider: { recordingServers: servers.map((s) => ({ uri: s.uri, transport: 'udp' as const })), failurePolicy }, policy };
}

/**
 * Alice records every call with pause/resume by feature code, told to both parties by
 * `notification`, and the start/stop announcement to PSTN parties only; the organisation's
 * compliance announcement plays on `direction` PSTN calls. `alice` adds to her settings.
 */
export function pauseResumePolicy(
  direction: 'inbound' | 'outbound',
  notification: RecordingSettings['pauseResumeNotification'],
  alice: Partial<RecordingSettings> = {},
): SnapshotOptions {
  return {
    orgCompliance: direction === 'inbound' ? { inboundPstn: true } : { outboundPstn: true },
    alice: {
      enabled: true,
      mode: 'alwaysWithPauseResume',
      pauseResumeNotification: notification,
      startStopAnnouncement: { pstn: true, internal: false },
      ...alice,
    },
  };
}

export interface RecordingE2eOptions<S extends string = 'srs'> {
  /** The file's port block: e2eBlock(block). */
  readonly block: number;
  /** Prefix of the file's temporary folder (under the OS temp folder), removed after the file. */
  readonly tmpPrefix: string;
  /** The reference recording servers by name, started in this order. Default one, `srs`, with 40 RTP ports, writing to the file's folder. */
  readonly servers?: Readonly<Record<S, RecordingServerSpec>>;
  /**
   * Order of the servers' ports: 'per-server' takes each server's RTP range then its SIP port,
   * 'ranges-first' every server's RTP range, then every server's SIP port. Default 'per-server'.
   */
  readonly portOrder?: 'per-server' | 'ranges-first';
  /** The policy at start, given the started servers; configure() replaces it. */
  readonly policy: (servers: Readonly<Record<S, SrsInstance>>) => E2ePolicy;
  /** Recording session timers (startProduct); default its own. */
  readonly session?: SiprecRecordingPortOptions['session'];
  /** Trunk targets of the call layer's routing that point at the trunk port (outbound PSTN calls); default none. */
  readonly trunkTargets?: readonly string[];
}

export interface RecordingE2e<S extends string> {
  readonly block: PortBlock;
  /** The carrier's SIP port: calls come in from here, outbound PSTN calls go here. */
  readonly trunkPort: number;
  /** The PBX's SIP port: users' phones (a trusted source, the user proxy). */
  readonly pbxPort: number;
  /** The file's temporary folder. */
  readonly dir: string;
  /** The started recording servers (from beforeAll on). */
  readonly servers: Readonly<Record<S, SrsInstance>>;
  /** The product (from beforeAll on). */
  readonly harness: CallHarness;
  /** Replaces the policy the product serves (for the next call). */
  configure(policy: E2ePolicy): void;
  /** placeCall between the file's trunk and PBX parties. */
  placeCall(o: Omit<PlaceCallOptions, 'trunkPort' | 'pbxPort'>): Promise<CallRun>;
}

/**
 * The set-up every end-to-end recording file shares: its port block (trunk port, PBX port, then
 * the recording servers' ports, then the product's), a temporary folder for the recordings, the
 * reference recording servers and the product started in beforeAll, all closed and removed in
 * afterAll. Call once at the top level of a test file.
 */
export function useRecordingE2e<S extends string = 'srs'>(o: RecordingE2eOptions<S>): RecordingE2e<S> {
  const block = e2eBlock(o.block);
  const trunkPort = block.next();
  const pbxPort = block.next();
  const dir = mkdtempSync(join(tmpdir(), o.tmpPrefix));
  const specs = o.servers ?? ({ srs: { rtpPorts: 40 } } as Record<S, RecordingServerSpec>);
  const names = Object.keys(specs) as S[];
  const ports = new Map<S, { sipPort: number; rtpFrom: number }>();
  const take = (name: S): number => block.take(specs[name].rtpPorts)[0]!;
  if (o.portOrder === 'ranges-first') {
    const ranges = names.map(take);
    names.forEach((name, i) => ports.set(name, { rtpFrom: ranges[i]!, sipPort: block.next() }));
  } else {
    for (const name of names) ports.set(name, { rtpFrom: take(name), sipPort: block.next() });
  }
  const servers = {} as Record<S, SrsInstance>;
  let harness: CallHarness | undefined;
  let snapshot: PolicySnapshot | undefined;
  const started = (): CallHarness => {
    if (!harness) throw new Error('the product is not started (beforeAll)');
    return harness;
  };
  const configure = (policy: E2ePolicy): void => {
    snapshot = e2eSnapshot({ trunkPort, ...policy });
  };

  beforeAll(async () => {
    for (const name of names) {
      const spec = specs[name];
      const { sipPort, rtpFrom } = ports.get(name)!;
      const folder = spec.folder === undefined ? dir : join(dir, spec.folder);
      servers[name] = await startSrs({ sipPort, rtpFrom, rtpTo: rtpFrom + spec.rtpPorts - 1, dir: folder, ...(spec.faults ? { faults: spec.faults } : {}) });
    }
    configure(o.policy(servers));
    harness = await startProduct({
      block,
      pbxPort,
      snapshot: () => snapshot!,
      ...(o.session ? { session: o.session } : {}),
      ...(o.trunkTargets ? { trunkTargets: Object.fromEntries(o.trunkTargets.map((t) => [t, `127.0.0.1:${trunkPort}`])) } : {}),
    });
  });

  afterAll(async () => {
    await harness?.close();
    for (const name of names) await servers[name]?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    block,
    trunkPort,
    pbxPort,
    dir,
    servers,
    get harness(): CallHarness {
      return started();
    },
    configure,
    placeCall: (call) => placeCall(started(), block, { trunkPort, pbxPort, ...call }),
  };
}

// ---------------------------------------------------------------- what the recording server wrote

export interface StereoWav {
  readonly ch1: Int16Array;
  readonly ch2: Int16Array;
  readonly sampleRate: number;
  readonly durationMs: number;
}

/** Parses the SRS's WAV (16-bit PCM, 2 channels interleaved) into its two channels. */
export function readStereoWav(file: string): StereoWav {
  const info = decodeWav(readFileSync(file), file);
  if (info.format !== 'pcm16' || info.channels !== 2) throw new Error(`${file}: expected 2-channel pcm16, got ${info.format}/${info.channels}`);
  const frames = info.data.length / 4;
  const ch1 = new Int16Array(frames);
  const ch2 = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    ch1[i] = info.data.readInt16LE(i * 4);
    ch2[i] = info.data.readInt16LE(i * 4 + 2);
  }
  return { ch1, ch2, sampleRate: info.sampleRate, durationMs: (frames * 1000) / info.sampleRate };
}

/** Samples [fromMs, toMs) of a channel (clamped). */
export function slice(pcm: Int16Array, fromMs: number, toMs: number, rate = 8000): Int16Array {
  const a = Math.max(0, Math.round((fromMs * rate) / 1000));
  const b = Math.min(pcm.length, Math.round((toMs * rate) / 1000));
  return b > a ? pcm.subarray(a, b) : new Int16Array(0);
}

export { heard, toneShare };

/** The folder (`<recordingsDir>/<date>/`) holding one recording's files. */
export function recordingFolder(recordingsDir: string, recordingId: string): string {
  for (const day of readdirSync(recordingsDir)) {
    const folder = join(recordingsDir, day);
    if (readdirSync(folder).includes(`${recordingId}.wav`)) return folder;
  }
  throw new Error(`no files of recording ${recordingId} under ${recordingsDir}`);
}

/** The recording's WAV file. */
export function wavFile(srs: { readonly dir: string }, summary: RecordingSummary): string {
  return join(recordingFolder(srs.dir, summary.recordingId), `${summary.recordingId}.wav`);
}

/** Every metadata document the SRS received for one recording, in order (`<id>.metadata.<n>.xml`). */
export function metadataHistory(srs: { readonly dir: string }, summary: RecordingSummary): Array<{ xml: string; model: RecordingMetadataModel }> {
  const dir = recordingFolder(srs.dir, summary.recordingId);
  const prefix = `${summary.recordingId}.metadata.`;
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && /\.\d+\.xml$/.test(f))
    .sort((a, b) => Number(/\.(\d+)\.xml$/.exec(a)![1]) - Number(/\.(\d+)\.xml$/.exec(b)![1]));
  return files.map((f) => {
    const xml = readFileSync(join(dir, f), 'utf8');
    return { xml, model: parseMetadata(xml) };
  });
}

// ---------------------------------------------------------------- one call through the product

export interface CallRun {
  /** The PSTN party's audio endpoint (sends OTHER_HZ). */
  readonly pstn: RtpPeer;
  /** The recorded user's phone audio endpoint (sends USER_HZ). */
  readonly user: RtpPeer;
  readonly trace: SessionTrace;
  /** Where the user's phone sends RTP (for DTMF feature codes). */
  readonly toUser: Target;
  /** Both SIPp parties' results: [caller, callee]. */
  readonly done: Promise<[SippResult, SippResult]>;
  /** performance.now() when the call reached `connected`. */
  connected(): Promise<number>;
  /** Waits for both SIPp parties and expects each to have passed its scenario (exit code 0). */
  partiesOk(): Promise<void>;
  /** partiesOk(), then close() whether or not the check passed. */
  finish(): Promise<void>;
  close(): void;
}

export interface PlaceCallOptions {
  readonly direction: 'inbound' | 'outbound';
  readonly trunkPort: number;
  readonly pbxPort: number;
  readonly talkMs: number;
  readonly callerExpectsBye?: boolean;
  readonly callerExpectsRefusal?: boolean;
  readonly timeoutSec?: number;
}

/**
 * Places one call: inbound = the PSTN party calls alice through the trunk; outbound = alice's
 * phone (from the PBX, a trusted source) calls the PSTN number through the trunk. The caller talks
 * `talkMs` after the answer, then hangs up (or, with `callerExpectsBye`, waits for our BYE; with
 * `callerExpectsRefusal`, expects 183 then 480 and is never answered: R-40 recording required).
 */
export async function placeCall(
  h: CallDriver,
  block: PortBlock,
  o: PlaceCallOptions,
): Promise<CallRun> {
  const pstn = await RtpPeer.open(block.take(2)[0]!);
  const user = await RtpPeer.open(block.take(2)[0]!);
  const index = h.sessions.length;
  const timeoutSec = o.timeoutSec ?? 30;
  const inbound = o.direction === 'inbound';
  const callee = startSipp({
    scenario: scenarioPath('callee', 'calls'),
    port: inbound ? o.pbxPort : o.trunkPort,
    controlPort: block.next(),
    mediaPort: block.take(4)[0]!,
    keys: { rtp_port: inbound ? user.port : pstn.port, supported: 'timer' },
    timeoutSec,
    // -aa: answer in-dialog OPTIONS/INFO/NOTIFY/UPDATE with 200, as a phone does (the B2BUA checks its dialogs after a link outage)
    extraArgs: ['-aa'],
  });
  await callee.ready();
  const caller = startSipp({
    scenario: o.callerExpectsRefusal
      ? scenarioPath('caller-expect-refusal', 'recording')
      : o.callerExpectsBye
        ? scenarioPath('caller-expect-bye', 'recording')
        : scenarioPath('caller', 'calls'),
    remote: h.target,
    port: inbound ? o.trunkPort : o.pbxPort,
    controlPort: block.next(),
    mediaPort: block.take(4)[0]!,
    keys: inbound
      ? { from_user: CALLER_NUMBER, from_host: '127.0.0.1', to_user: ALICE_NUMBER, rtp_port: pstn.port, supported: 'timer' }
      : { from_user: ALICE_NUMBER, from_host: 'acme.example', to_user: CALLER_NUMBER, rtp_port: user.port, supported: 'timer' },
    pauseMs: o.talkMs,
    timeoutSec,
    extraArgs: ['-aa'],
  });
  const trace = await h.nextSession(index, 10_000);
  const toA = { address: '127.0.0.1', port: trace.session.local.a.rtpPort };
  const toB = { address: '127.0.0.1', port: trace.session.local.b.rtpPort };
  const toneMs = (timeoutSec - 2) * 1000;
  const toPstn = inbound ? toA : toB;
  const toUser = inbound ? toB : toA;
  void pstn.play(sine(OTHER_HZ, toneMs), toPstn);
  void user.play(sine(USER_HZ, toneMs), toUser);
  const done = Promise.all([caller.done, callee.done]);
  const run: CallRun = {
    pstn,
    user,
    trace,
    toUser,
    done,
    async connected() {
      await until(() => h.manager.list().some((c) => c.state === 'connected'), 'the call to connect', 10_000);
      return performance.now();
    },
    async partiesOk() {
      const [caller, callee] = await done;
      expect(caller.exitCode, caller.describe()).toBe(0);
      expect(callee.exitCode, callee.describe()).toBe(0);
    },
    close() {
      pstn.close();
      user.close();
    },
    async finish() {
      try {
        await run.partiesOk();
      } finally {
        run.close();
      }
    },
  };
  return run;
}

/** What placeCall needs of the product: the call-harness, or an instrumented application. */
export type CallDriver = Pick<CallHarness, 'target' | 'manager' | 'sessions' | 'nextSession'>;

/** A CallDriver of a call layer listening on `sipPort` whose media sessions are traced into `sessions`. */
export function traceDriver(sipPort: number, manager: CallDriver['manager'], sessions: SessionTrace[]): CallDriver {
  return {
    target: `127.0.0.1:${sipPort}`,
    manager,
    sessions,
    async nextSession(index, timeoutMs = 5000) {
      await until(() => sessions.length > index, `media session #${index}`, timeoutMs);
      return sessions[index]!;
    },
  };
}

/**
 * Instruments a started application (src/app/application.ts) as a CallDriver: every media session
 * the call layer creates is traced (prompts started/ended) like the call-harness does.
 */
export function applicationDriver(app: Application, sipPort: number): CallDriver {
  const sessions: SessionTrace[] = [];
  const media = app.media;
  media.createSession = tracingMediaFactory({ createSession: media.createSession.bind(media) }, sessions).createSession;
  return traceDriver(sipPort, app.calls, sessions);
}

/** Writes a whole policy snapshot into the application's settings repository. */
export async function storeSnapshot(repository: PolicyRepository, s: PolicySnapshot): Promise<void> {
  await repository.createOrganisation(s.org);
  for (const p of s.providers) await repository.providers.create(p);
  for (const t of s.termsAcceptances) await repository.putTermsAcceptance(t);
  for (const l of s.locations) await repository.locations.create(l);
  for (const u of s.users) await repository.users.create(u);
  for (const v of s.virtualLines) await repository.virtualLines.create(v);
  for (const f of s.features) await repository.features.create(f);
  for (const t of s.trunks) await repository.trunks.create(t);
}

/** Presses a feature code on the user's phone (RFC 4733). */
export async function pressCode(run: CallRun, code: string): Promise<void> {
  for (const d of code) await run.user.sendDtmf(d, 100, run.toUser);
}

/** The tones and beeps the product plays: none of them may appear in a recording. */
export const PRODUCT_TONES_HZ = [1400, 530, 1850] as const;

export interface WindowReport {
  readonly startMs: number;
  /** Mean power (a full-scale sinusoid reads 0.5). */
  readonly level: number;
  /** Share of the energy at the party's tone. */
  readonly share: number;
  /** Strongest power at a product tone frequency. */
  readonly productTone: number;
}

/** Cuts a channel into `windowMs` windows and measures each. */
export function windows(pcm: Int16Array, partyHz: number, windowMs = 200): WindowReport[] {
  const out: WindowReport[] = [];
  const n = (windowMs * 8000) / 1000;
  for (let i = 0; i + n <= pcm.length; i += n) {
    const w = pcm.subarray(i, i + n);
    out.push({
      startMs: (i * 1000) / 8000,
      level: meanSquare(w),
      share: toneShare(w, partyHz),
      productTone: Math.max(...PRODUCT_TONES_HZ.map((hz) => goertzelPower(w, hz))),
    });
  }
  return out;
}

/** Level of a full window of the test tone as the parties send it (-6 dBFS peak, G.711). */
export const TONE_LEVEL = 0.5 * 10 ** (-6 / 10);

/** Windows fully inside the party's speech (no start/stop edge in them). */
export function fullWindows(report: WindowReport[]): WindowReport[] {
  return report.filter((w) => w.level > 0.8 * TONE_LEVEL);
}

/** Milliseconds into the WAV of a performance.now() instant. */
export function wavMsOf(summary: RecordingSummary, perf: number): number {
  return wallOf(perf) - Date.parse(summary.wav?.startedAt ?? summary.startedAt);
}
