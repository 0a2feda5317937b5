/**
 * Types shared by the public media API (MediaPlane/MediaSession, main thread) and the media engine
 * (worker thread). Everything here is plain data: it crosses threads by structured clone.
 */
import type { ToneSpec } from './audio/tones.js';
import type { LatchHow, LatchMode, SourceLatchOptions } from './processors/source-latch.js';

/** Leg A is the call's first leg (the caller side), leg B the second (the callee side). */
export type LegId = 'a' | 'b';
/** Where a prompt or tone goes. */
export type InjectTarget = LegId | 'both';

/** A local RTP address to write into SDP (`c=` address, `m=` port); RTCP is rtpPort + 1. */
export interface LocalRtpAddress {
  address: string;
  rtpPort: number;
  rtcpPort: number;
}

/** One negotiated payload type (from `a=rtpmap`, or static per RFC 3551 when absent). */
export interface PayloadTypeInfo {
  /** 0..127 */
  pt: number;
  /** Encoding name as in a=rtpmap, case-insensitive: 'PCMU', 'PCMA', 'telephone-event', others. */
  name: string;
  /** Default 8000. */
  clockRate?: number;
}

/** What a leg's SDP says about where its media goes and what it carries. */
export interface RemoteMedia {
  address: string;
  port: number;
  /** Default port + 1; ignored with rtcpMux. */
  rtcpPort?: number;
  /** RFC 5761: RTCP on the RTP port. Default false. */
  rtcpMux?: boolean;
  /**
   * The payload types of the leg's SDP, in preference order; only these are accepted from the leg.
   * The first entry of a codec (name + clock rate) is the number the leg receives with: packets the
   * other leg sends are renumbered to it (RFC 3264 section 6.1: the legs may number a codec
   * differently, e.g. telephone-event 101 and 96), and a codec the leg has no entry for is not
   * relayed to it (LegStats.relayCodecDropped). Further entries of the same codec are numbers the
   * leg may send with (those of our SDP to it, RFC 3264 section 5.1). The first PCMU/PCMA entry is
   * the codec prompts and tones are encoded in for this leg; when there is none, nothing can be
   * injected (media is still relayed). Default: [PCMU/0, PCMA/8, telephone-event/101].
   */
  payloadTypes?: PayloadTypeInfo[];
}

/** Options of one media session. */
export interface MediaSessionOptions {
  /** A label for logs and stats (e.g. the SIP Call-ID). Default: the session id. */
  label?: string;
  /** Latching mode per leg (processors/source-latch.ts: 'sdp' | 'auto' | 'first-source'). Default 'auto' for both. */
  latching?: { a?: LatchMode; b?: LatchMode };
  /** Learning window and NAT-rebinding silence of the latch (processors/source-latch.ts). Defaults 3000 / 1000 ms. */
  latchOptions?: SourceLatchOptions;
  /** Relay RFC 4733 telephone-events to the other leg. Default true. */
  relayTelephoneEvents?: boolean;
  /** RTCP report interval (RFC 3550 6.2), ms; 0 disables RTCP generation. Default 5000. */
  rtcpIntervalMs?: number;
  /** CNAME in our SDES packets. Default 'recording-b2bua'. */
  cname?: string;
  /**
   * SSRC lock of both legs (processors/ssrc-lock.ts): a new SSRC from a leg replaces the current one
   * only after the current one has been silent `switchAfterSilenceMs` (default 300) and the new one
   * sent `probation` sequential packets (RFC 3550 A.1 MIN_SEQUENTIAL, default 2).
   */
  ssrcLock?: { switchAfterSilenceMs?: number; probation?: number };
  /**
   * How much of each party's audio a fork keeps from prepareFork until startFork (the audio between
   * the call's answer and the recording server's answer), ms; 0 keeps none. Config
   * media.forkBufferMs. Default 3000 (DEFAULT_FORK_BUFFER_MS).
   */
  forkBufferMs?: number;
}

/** MediaSessionOptions.forkBufferMs default: 3 s, 150 packets of 20 ms per stream. */
export const DEFAULT_FORK_BUFFER_MS = 3000;
/** The largest forkBufferMs accepted (60 s: 3000 packets of 20 ms per stream). */
export const MAX_FORK_BUFFER_MS = 60_000;

/** SRTP keying for one forked stream, RFC 4568 / RFC 3711; only the sending side is used. */
export interface ForkSrtpOptions {
  /** Default 'AES_CM_128_HMAC_SHA1_80'. */
  profile?: 'AES_CM_128_HMAC_SHA1_80' | 'AEAD_AES_128_GCM';
  /** 16 bytes. */
  masterKey: Uint8Array;
  /** 14 bytes (AES_CM) or 12 bytes (GCM). */
  masterSalt: Uint8Array;
}

/** One of the two recording streams. */
export interface ForkTarget {
  address: string;
  port: number;
  /** Default port + 1. */
  rtcpPort?: number;
  /** Our SSRC on this stream. Default: random. */
  ssrc?: number;
  /** The recording server's payload types (its SDP answer). Default: PCMU/0, PCMA/8, telephone-event/101. */
  payloadTypes?: PayloadTypeInfo[];
  srtp?: ForkSrtpOptions;
}

/** The fork of commands that name none: every caller with one recording per call uses it. */
export const DEFAULT_FORK_ID = 'main';

export interface ForkOptions {
  /**
   * Which fork (one per recording, e.g. one per recorded user of the call): each has its own ports,
   * targets, SSRCs, payload types, SRTP, pause state and counters. Up to 64 characters of letters,
   * digits and `_ . : @ -`. Default DEFAULT_FORK_ID ('main').
   */
  forkId?: string;
  /** targets[0] receives what leg A sends, targets[1] what leg B sends. */
  targets: [ForkTarget, ForkTarget];
  /** Forward telephone-events to the recording server too. Default false (only what was said). */
  forkTelephoneEvents?: boolean;
  /** While paused, send 20 ms silence frames instead of nothing (a recording server profile option). Default false. */
  silenceWhilePaused?: boolean;
  /**
   * On a fork's first start, send what each party said since prepareFork (up to
   * MediaSessionOptions.forkBufferMs), so the recording begins at the answer, not at the recording
   * server's 200 OK. false drops it instead (counted in bufferDiscarded), e.g. for a fork prepared
   * before the call was answered, whose early media is not to be recorded. Default true.
   */
  sendBuffered?: boolean;
}

export type PromptEndReason = 'completed' | 'stopped' | 'replaced' | 'closed';

/** Events a media session reports (wall-clock ms since the epoch in `at`). */
export interface MediaSessionEvents extends Record<string, unknown[]> {
  /** A leg's RTP source was latched (from its SDP address, learnt from another source, or moved after NAT rebinding). */
  latched: [event: LatchNotice];
  /** After watchSilence: a leg delivered no accepted RTP for the watch period while the other leg did (once per leg). */
  silent: [event: SilentLegNotice];
  /** RFC 4733 DTMF from a leg: once at the start (end=false), once at the end (end=true). */
  dtmf: [event: DtmfNotice];
  /** The first frame of a prompt went to `leg`. */
  promptStarted: [event: PromptNotice];
  /** The prompt finished playing out to `leg` (its last frame's 20 ms are over) or was stopped. */
  promptEnded: [event: PromptNotice & { reason: PromptEndReason; framesSent: number }];
  /**
   * A fork's start buffer ended (once per fork that kept one): its audio was sent at startFork, or
   * discarded. Overflowed packets are audio lost from the start of the recording.
   */
  forkBuffer: [event: ForkBufferNotice];
  /** A tone (reminder or beep) began to be mixed into the legs named. */
  toneStarted: [event: { kind: ToneKind; legs: LegId[]; at: number; durationMs: number }];
  /** The session closed (after close() or a worker failure). */
  closed: [reason: string];
}

export type ToneKind = 'reminder' | 'beep';

/** How one fork's start buffer (MediaSessionOptions.forkBufferMs) ended; packet counts of both streams. */
export interface ForkBufferNotice {
  forkId: string;
  /** 'sent' by the fork's first startFork; 'discarded' when it stopped (or the session closed) before, or started with sendBuffered: false. */
  outcome: 'sent' | 'discarded';
  /** From prepareFork to that moment, ms (how long the recording server took to answer). */
  waitedMs: number;
  /** The buffer's bound, ms. */
  bufferMs: number;
  sent: number;
  /** Lost: evicted because the wait was longer than the buffer holds (the recording misses its first waitedMs - bufferMs). */
  overflowed: number;
  discarded: number;
}

export interface LatchNotice {
  leg: LegId;
  /** The source latched. */
  address: string;
  port: number;
  how: LatchHow;
  /** What the leg's SDP named (undefined before its SDP, first-source mode). */
  sdpAddress: string | undefined;
  sdpPort: number;
}

/**
 * Why a leg is silent, from the drops counted while it was: `hijack` (RTP came from a source other than
 * the latched one), `payload-type` (not a negotiated payload type), `foreign-ssrc` (another stream than
 * the locked one), `malformed`, `unlatched` (before the leg's SDP), `none-received` (nothing arrived).
 */
export type SilenceReason = 'hijack' | 'payload-type' | 'foreign-ssrc' | 'malformed' | 'unlatched' | 'none-received';

export interface SilentLegNotice {
  leg: LegId;
  reason: SilenceReason;
  /** How long the leg has delivered nothing accepted, ms. */
  silentForMs: number;
  /** Packets dropped from the leg while it was silent, by reason. */
  dropped: { hijack: number; payloadType: number; foreignSsrc: number; malformed: number; unlatched: number };
  /** Where media to the leg goes and what its SDP named. */
  remote: { address: string; port: number } | undefined;
  sdp: { address: string; port: number } | undefined;
  /** With reason hijack: the source the refused packets came from (the last one seen). */
  refused: { address: string; port: number } | undefined;
  at: number;
}

export interface DtmfNotice {
  leg: LegId;
  digit: string;
  end: boolean;
  /** Duration so far (start) or total (end), ms. */
  durationMs: number;
  /** RTP timestamp of the event start (RFC 4733 2.3). */
  rtpTimestamp: number;
  at: number;
}

export interface PromptNotice {
  playbackId: number;
  leg: LegId;
  /** The prompt's name (library name, or the caller's label for raw PCM). */
  name: string;
  language: string | undefined;
  at: number;
}

export interface PromptResult {
  playbackId: number;
  /** Per leg that played it. */
  legs: Array<{ leg: LegId; startedAt: number; endedAt: number; reason: PromptEndReason; framesSent: number }>;
}

/** A tone to mix: a spec from audio/tones.ts. */
export type ToneInput = ToneSpec;

/** Counters of one leg. */
export interface LegStats {
  /** Where media to this leg goes (latched source or SDP), if known. */
  remote: { address: string; port: number } | undefined;
  latched: boolean;
  /** Packets received from the leg and accepted. */
  received: number;
  receivedBytes: number;
  /** Dropped: not an RTP/RTCP packet (bad version, short, bad lengths). */
  malformed: number;
  /** Dropped: from a source other than the latched one (hijack attempt). */
  hijackDropped: number;
  /** Dropped: arrived before the leg's address was known (sdp latching). */
  unlatchedDropped: number;
  /**
   * Dropped: from the latched source but not the SSRC the leg is locked to (another stream, or a new
   * SSRC still in RFC 3550 A.1 probation or waiting for the current one to fall silent).
   */
  foreignSsrcDropped: number;
  /** Dropped: a payload type the leg did not negotiate (not in setRemote payloadTypes). */
  unknownPayloadTypeDropped: number;
  /**
   * Relayed packets towards the leg dropped because the leg did not negotiate their codec (the
   * other leg sent a codec this one never agreed to; processors/payload-type-map.ts).
   */
  relayCodecDropped: number;
  /** The SSRC the leg's stream is locked to, once one passed probation. */
  ssrc: number | undefined;
  /** Times the lock moved to a new SSRC (re-INVITE, transfer, PBX restart). */
  ssrcSwitches: number;
  /** Receiver statistics of the stream from the leg (RFC 3550 A.3/A.8). */
  lost: number;
  jitter: number;
  /** Packets sent to the leg (relayed + generated). */
  sent: number;
  /** Relayed packets towards the leg replaced by a prompt. */
  replacedByPrompt: number;
  /** Relayed packets towards the leg dropped as duplicates/too late by the rewriter. */
  rewriteDropped: number;
  /** Prompt/tone frames generated towards the leg. */
  generated: number;
  dtmfEvents: number;
  rtcpReceived: number;
  rtcpSent: number;
  sendErrors: number;
  /** Codec prompts are injected in, or undefined (cannot inject). */
  injectCodec: 'PCMU' | 'PCMA' | undefined;
}

export interface ForkStreamStats {
  ssrc: number;
  sent: number;
  sentBytes: number;
  silenceFrames: number;
  /** Packets not forked because the fork was paused. */
  pausedDropped: number;
  /** Packets not forked because the recording server did not accept their codec. */
  codecDropped: number;
  /** Packets held now, between prepareFork and startFork (media.forkBufferMs). */
  buffered: number;
  /** Packets held before startFork and sent by it (the audio between the answer and the recording server's answer). */
  bufferSent: number;
  /** Packets lost because the recording server answered later than the buffer holds (evicted oldest first). */
  bufferOverflowed: number;
  /** Packets held when the fork stopped before it ever started (or was started with sendBuffered: false). */
  bufferDiscarded: number;
  sendErrors: number;
  lastSeq: number;
  lastTimestamp: number;
}

/** A fork's state: `idle` only in MediaSessionStats.fork when no fork was ever prepared. */
export type ForkState = 'idle' | 'prepared' | 'active' | 'paused' | 'stopped';

export interface ForkStats {
  id: string;
  state: ForkState;
  /** Stream 1 (what A says) and stream 2 (what B says); empty once stopped. */
  streams: ForkStreamStats[];
}

export interface MediaSessionStats {
  id: string;
  label: string;
  a: LegStats;
  b: LegStats;
  /** The 'main' fork, else the first one prepared; state 'idle' when none was. */
  fork: ForkStats;
  /** Every fork of the session, in the order they were prepared (stopped ones included). */
  forks: ForkStats[];
}

/** Why a received or relayed RTP/RTCP packet was dropped (a fault, counted per packet). */
export type MediaDropReason = 'malformed' | 'hijack' | 'unlatched' | 'foreignSsrc' | 'unknownPayloadType' | 'relayCodec' | 'rewrite' | 'forkCodec';

/**
 * Aggregate counters of one media engine, or of the whole plane (MediaPlane.stats()). Counters are
 * totals since the engine started, closed sessions included; `sessions`, `forksActive` and
 * `forksPaused` are current values.
 */
export interface MediaTotals {
  /** Sessions open now. */
  sessions: number;
  /** Sessions opened since start. */
  sessionsOpened: number;
  /** Forks active / paused now (a session with two recordings counts two). */
  forksActive: number;
  forksPaused: number;
  /** RTP packets accepted from the legs (LegStats.received summed). */
  rtpIn: number;
  rtpInBytes: number;
  /** RTP packets sent to the legs: relayed plus generated prompt/tone frames. */
  rtpOut: number;
  /** Of rtpOut: prompt/tone frames generated. */
  rtpGenerated: number;
  /** RTP packets sent to recording servers, silence frames while paused included. */
  rtpForked: number;
  rtpForkedBytes: number;
  /** Packets dropped as faults, by reason (LegStats malformed/hijackDropped/unlatchedDropped/foreignSsrcDropped/unknownPayloadTypeDropped/relayCodecDropped/rewriteDropped, ForkStreamStats codecDropped). */
  dropped: Record<MediaDropReason, number>;
  /** Packets deliberately not passed on: relay replaced by a prompt; fork paused. */
  withheld: { prompt: number; forkPaused: number };
  /**
   * Packets of the forks' start buffers (MediaSessionOptions.forkBufferMs): sent at startFork,
   * overflowed (lost: the recording server answered later than the buffer holds), discarded (the
   * fork stopped before it started, or started with sendBuffered: false).
   */
  forkBuffer: { sent: number; overflowed: number; discarded: number };
  rtcpIn: number;
  rtcpOut: number;
  /** Sends the OS refused (legs and forks). */
  sendErrors: number;
  /** Sources latched, by how (processors/source-latch.ts LatchHow). */
  latches: Record<LatchHow, number>;
  /** Legs reported silent (watchSilence), by reason. */
  silentLegs: Record<SilenceReason, number>;
}

/** MediaPlane.stats(): the totals of every worker plus the plane's own figures. */
export interface MediaPlaneStats extends MediaTotals {
  /** Media workers (engines) started, and how many of them failed. */
  workers: number;
  workersFailed: number;
  /** The workers' socket I/O (media.socketIo resolved at start: 'native' or 'dgram'). */
  socketIo: 'native' | 'dgram';
  /** RTP/RTCP port pairs in use and the range's capacity. */
  portsInUse: number;
  portCapacity: number;
  /**
   * The V8 heaps of the media worker threads (total: live and headroom), summed over the running
   * workers, as of their last answer; undefined without workers (the engine then runs on the
   * caller's thread, whose heap Node reports itself).
   */
  workerHeapBytes: number | undefined;
}
