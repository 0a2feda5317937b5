/**
 * One leg of an engine session (engine-session.ts): its RTP endpoint, where its media comes from and
 * goes (source latch, RTCP source), which stream is accepted (SSRC lock, negotiated payload types),
 * the stream we send to it, its prompt and tone state, and its counters. Plain state the session's
 * packet path reads and writes; no I/O of its own. The modules around the packet path (engine-playback.ts,
 * engine-rtcp.ts, silence-watch.ts) each name the part of a leg they use (a `Pick<Leg, ...>`).
 */
import type { Clock, Timers } from '../../common/clock.js';
import type { G711Codec } from '../audio/g711.js';
import { TelephoneEventDecoder } from '../processors/dtmf.js';
import { PayloadTypeMap } from '../processors/payload-type-map.js';
import type { FramePacer } from '../processors/prompt-pacer.js';
import { StreamRewriter } from '../processors/relay-rewriter.js';
import { SourceLatch, type LatchMode, type SourceLatchOptions } from '../processors/source-latch.js';
import { SsrcLock, type SsrcLockOptions } from '../processors/ssrc-lock.js';
import { ReceiveStats } from '../rtp/receive-stats.js';
import type { ScratchRing } from '../processors/scratch-ring.js';
import type { RtpEndpoint, RtpEndpointFactory } from '../transport/udp-endpoint.js';
import type { LegId, LegStats, MediaTotals, PayloadTypeInfo, SilenceReason } from '../media-session-types.js';

/** Generated frames (prompts, tones, silence for a paused fork): 20 ms of G.711 at 8 kHz. */
export const FRAME_SAMPLES = 160;
export const FRAME_MS = 20;

/** Services of the engine a session and its forks use (engine-session.ts EngineContext extends it). */
export interface EngineServices {
  clock: Clock;
  timers: Timers;
  /** The worker's one shared frame timer (common/coalesced-timers.ts): every 20 ms frame pacer uses it. */
  frameTimers: Timers;
  endpoints: RtpEndpointFactory;
  scratch: ScratchRing;
}

export const KIND_UNKNOWN = 0;
export const KIND_PCMU = 1;
export const KIND_PCMA = 2;
export const KIND_TE = 3;
export const KIND_OTHER = 4;

/** Payload types of a leg before its SDP is known (first-source latching); also the fork default. */
export const DEFAULT_PAYLOAD_TYPES: PayloadTypeInfo[] = [
  { pt: 0, name: 'PCMU' },
  { pt: 8, name: 'PCMA' },
  { pt: 101, name: 'telephone-event' },
];

function kindOf(name: string): number {
  const n = name.toUpperCase();
  if (n === 'PCMU') return KIND_PCMU;
  if (n === 'PCMA') return KIND_PCMA;
  if (n === 'TELEPHONE-EVENT') return KIND_TE;
  return KIND_OTHER;
}

export function randomU32(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}

export interface Playback {
  id: number;
  name: string;
  language: string | undefined;
  frames: readonly Buffer[];
  pacer: FramePacer;
  startedAt: number;
  ended: boolean;
}
export class Leg {
  readonly id: LegId;
  readonly endpoint: RtpEndpoint;
  readonly latch: SourceLatch;
  /** Which SSRC from the latched source is accepted (RFC 3550 A.1 probation, switch after silence). */
  readonly ssrcLock: SsrcLock;
  /** Payload type -> kind (KIND_*); KIND_UNKNOWN = not negotiated, dropped. */
  readonly ptKind = new Uint8Array(128);
  readonly ptClockRate = new Uint32Array(128).fill(8000);
  /** Payload type name by pt (for fork mapping). */
  ptNames: Array<string | undefined> = [];
  /** The list setPayloadTypes got (the relay maps the other leg's packets onto it). */
  payloadTypes: readonly PayloadTypeInfo[] = DEFAULT_PAYLOAD_TYPES;
  /** Packets from this leg renumbered to the other leg's payload types (processors/payload-type-map.ts). */
  readonly relayPt = new PayloadTypeMap();
  injectCodec: G711Codec | undefined = 'PCMU';
  injectPt = 0;
  rtcpPort = 0;
  rtcpMux = false;
  /** RTCP latched on its own (a NAT maps the RTCP port separately): the last accepted RTCP source. */
  rtcpSourceAddress: string | undefined;
  rtcpSourcePort = 0;
  /** The source of the last packet refused as a hijack (what a silent leg really sent from). */
  refusedAddress: string | undefined;
  refusedPort = 0;
  /** Set once the leg was reported silent (silence-watch.ts; at most once per call). */
  silentReason: SilenceReason | undefined;
  readonly recv = new ReceiveStats();
  readonly dtmf = new TelephoneEventDecoder();
  /** The stream we send to this leg. */
  readonly out: StreamRewriter;
  /** Prompt and tone state (written by engine-playback.ts; the packet path reads playback and overlay). */
  playback: Playback | undefined;
  overlay: Int16Array | undefined;
  overlayOffset = 0;
  overlayPacer: FramePacer | undefined;
  /** Monotonic ms of the last tone frame sent on its own (a relayed packet after it moves out.lastSentAtMs past it). */
  toneAloneAtMs = -1;
  stats = {
    received: 0,
    receivedBytes: 0,
    malformed: 0,
    hijackDropped: 0,
    unlatchedDropped: 0,
    foreignSsrcDropped: 0,
    unknownPayloadTypeDropped: 0,
    relayCodecDropped: 0,
    replacedByPrompt: 0,
    rewriteDropped: 0,
    generated: 0,
    dtmfEvents: 0,
    rtcpReceived: 0,
    rtcpSent: 0,
    latchedSdp: 0,
    latchedLearned: 0,
    relatched: 0,
  };

  constructor(id: LegId, endpoint: RtpEndpoint, mode: LatchMode, latchOptions: SourceLatchOptions | undefined, ssrcLock: SsrcLockOptions | undefined) {
    this.id = id;
    this.endpoint = endpoint;
    this.latch = new SourceLatch(mode, latchOptions);
    this.ssrcLock = new SsrcLock(ssrcLock);
    this.out = new StreamRewriter(randomU32(), randomU32() & 0xffff, randomU32());
    this.setPayloadTypes(DEFAULT_PAYLOAD_TYPES);
  }

  /**
   * The payload types the leg negotiated (its SDP): only these are accepted from it, others are
   * counted in unknownPayloadTypeDropped. A static type listed without a name (no rtpmap) is named
   * after RFC 3551 (0 PCMU, 8 PCMA).
   */
  setPayloadTypes(list: readonly PayloadTypeInfo[]): void {
    this.ptKind.fill(KIND_UNKNOWN);
    this.ptNames = [];
    this.payloadTypes = list;
    this.injectCodec = undefined;
    for (const p of list) {
      if (!Number.isInteger(p.pt) || p.pt < 0 || p.pt > 127) continue;
      const name = typeof p.name === 'string' && p.name.length > 0 ? p.name : p.pt === 0 ? 'PCMU' : p.pt === 8 ? 'PCMA' : 'UNKNOWN';
      const kind = kindOf(name);
      this.ptKind[p.pt] = kind;
      this.ptNames[p.pt] = name.toUpperCase();
      this.ptClockRate[p.pt] = p.clockRate ?? 8000;
      if (this.injectCodec === undefined && (kind === KIND_PCMU || kind === KIND_PCMA)) {
        this.injectCodec = kind === KIND_PCMU ? 'PCMU' : 'PCMA';
        this.injectPt = p.pt;
      }
    }
  }
}
/** A packet from a source the leg does not accept: counted, and its source kept for the silent-leg report. */
export function refuseSource(leg: Pick<Leg, 'stats' | 'refusedAddress' | 'refusedPort'>, address: string, port: number): void {
  leg.stats.hijackDropped++;
  leg.refusedAddress = address;
  leg.refusedPort = port;
}

export function legStats(leg: Leg): LegStats {
  return {
    remote: leg.latch.address !== undefined ? { address: leg.latch.address, port: leg.latch.port } : undefined,
    latched: leg.latch.latched,
    ssrc: leg.ssrcLock.locked ? leg.ssrcLock.ssrc : undefined,
    ssrcSwitches: leg.ssrcLock.switches,
    ...leg.stats,
    lost: leg.recv.lost,
    jitter: leg.recv.jitter,
    sent: leg.out.packetsSent,
    sendErrors: leg.endpoint.sendErrors,
    injectCodec: leg.injectCodec,
  };
}

/** Adds the leg's counters to `t` (MediaEngine.totals()); reads counters only. */
export function addLegTotals(t: MediaTotals, leg: Leg): void {
  const s = leg.stats;
  t.rtpIn += s.received;
  t.rtpInBytes += s.receivedBytes;
  t.rtpOut += leg.out.packetsSent;
  t.rtpGenerated += s.generated;
  t.dropped.malformed += s.malformed;
  t.dropped.hijack += s.hijackDropped;
  t.dropped.unlatched += s.unlatchedDropped;
  t.dropped.foreignSsrc += s.foreignSsrcDropped;
  t.dropped.unknownPayloadType += s.unknownPayloadTypeDropped;
  t.dropped.relayCodec += s.relayCodecDropped;
  t.dropped.rewrite += s.rewriteDropped;
  t.withheld.prompt += s.replacedByPrompt;
  t.rtcpIn += s.rtcpReceived;
  t.latches.sdp += s.latchedSdp;
  t.latches.learned += s.latchedLearned;
  t.latches.relatched += s.relatched;
  if (leg.silentReason !== undefined) t.silentLegs[leg.silentReason]++;
  t.rtcpOut += s.rtcpSent;
  t.sendErrors += leg.endpoint.sendErrors;
}
