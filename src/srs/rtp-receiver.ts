import type { Clock } from '../common/clock.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { decodeTable, type G711Codec } from '../media/audio/g711.js';
import { looksLikeRtcp, rtpPayloadEnd, rtpPayloadOffset, rtpPayloadType, rtpSsrc, rtpTimestamp } from '../media/rtp/rtp-header.js';
import { endpointFactoryFor, resolveSocketIo } from '../media/transport/socket-io.js';
import type { RtpEndpoint, RtpEndpointFactory } from '../media/transport/udp-endpoint.js';
import type { RtpDecryptor } from './srtp-receive.js';
import { StartAligner, StreamTimeline } from './stream-timeline.js';

/**
 * The RTP side of one recording at the reference SRS: one RTP endpoint per recorded stream (label),
 * RTCP accepted and counted on port + 1 (or muxed on the RTP port), G.711 decoded by payload type
 * to 8 kHz linear and placed on the recording timeline (StreamTimeline) into a sink (the stereo
 * WAV writer) by the kernel's receive time where known; a stream's first packets are held briefly
 * so that a start buffer sent in a burst lands where it was said (StartAligner). The packet path
 * never throws: bad packets are counted and dropped. The endpoints are the media plane's
 * (src/media/transport); a received datagram is only read during its handler (decoded into a
 * scratch the sink copies from), nothing keeps it but the start window's copies.
 *
 * RTP/SAVP streams carry a decryptor (SDES-SRTP, R-42); packets failing authentication are
 * counted and dropped.
 *
 * Pause (`setActive(label, false)`, SDP a=inactive): packets are dropped and counted, so nothing
 * of a paused conversation reaches the file; the gap becomes silence.
 */
export interface SampleSink {
  put(channel: 0 | 1, position: number, pcm: Int16Array): void;
}

export interface ReceiverStreamConfig {
  label: string;
  /** WAV channel (0 = left = label 1). */
  channel: 0 | 1;
  /** RTP port to bind (even); RTCP binds port + 1. */
  port: number;
  /** Payload type -> codec from the negotiated SDP; PT 0 and 8 are always known. */
  payloadTypes?: ReadonlyMap<number, G711Codec>;
  telephoneEventPayloadType?: number;
  /** SRTP decryption for RTP/SAVP streams; absent = plain RTP. */
  decryptor?: RtpDecryptor;
}

export interface StreamStats {
  label: string;
  port: number;
  packets: number;
  bytes: number;
  samples: number;
  rtcpPackets: number;
  dtmfPackets: number;
  dropped: { malformed: number; unknownPayloadType: number; inactive: number; srtpAuth: number };
  reanchors: number;
  ssrc: number | undefined;
  codec: G711Codec | undefined;
  remote: { address: string; port: number } | undefined;
  /** The stream is RTP/SAVP, decrypted with SDES-SRTP keys. */
  srtp?: boolean;
}

export type RtpReceiverEvents = {
  /** First decodable packet of a stream. */
  media: [label: string];
};

interface StreamState {
  config: ReceiverStreamConfig;
  endpoint: RtpEndpoint;
  timeline: StreamTimeline;
  /** The stream's first packets (and the first after a resume), held to find where it starts. */
  start: StartAligner<Int16Array>;
  active: boolean;
  pts: Map<number, G711Codec>;
  stats: StreamStats;
}

const STATIC_PTS: ReadonlyArray<[number, G711Codec]> = [
  [0, 'PCMU'],
  [8, 'PCMA'],
];

/**
 * The receivers' socket I/O: the native batched endpoints when the addon is built (about a third
 * less CPU than node:dgram, and the kernel's receive time of every packet), else node:dgram.
 */
const defaultEndpoints: RtpEndpointFactory = endpointFactoryFor(resolveSocketIo('auto').path);

/** Decoded samples of one packet, by payload length: the sink copies them at once, so one per length serves every stream. */
const scratchByLength = new Map<number, Int16Array>();

function decodeInto(codec: G711Codec, packet: Uint8Array, start: number, end: number): Int16Array {
  const n = end - start;
  let out = scratchByLength.get(n);
  if (out === undefined) scratchByLength.set(n, (out = new Int16Array(n)));
  const table = decodeTable(codec);
  for (let i = 0; i < n; i++) out[i] = table[packet[start + i]!]!;
  return out;
}

export class RecordingRtpReceiver extends TypedEmitter<RtpReceiverEvents> {
  readonly #streams = new Map<string, StreamState>();
  readonly #clock: Clock;
  readonly #startMono: number;
  readonly #sink: SampleSink;
  /** How far the WAV starts before the recording's start (audio the SRC kept from before it). */
  #originShiftMs = 0;
  /** Something was placed: the WAV's start is fixed. */
  #placed = false;
  #closed = false;

  private constructor(clock: Clock, sink: SampleSink, startMonotonic: number | undefined) {
    super();
    this.#clock = clock;
    this.#startMono = startMonotonic ?? clock.monotonic();
    this.#sink = sink;
  }

  /**
   * Binds every stream's RTP and RTCP sockets on `address`. Rejects (after closing what was
   * bound) when a port is taken, so the caller can retry with other ports. The recording timeline
   * starts at `startMonotonic` on `clock` (default: now).
   */
  static async open(options: {
    address: string;
    streams: readonly ReceiverStreamConfig[];
    sink: SampleSink;
    clock: Clock;
    reanchorMs?: number;
    startMonotonic?: number;
  }): Promise<RecordingRtpReceiver> {
    const r = new RecordingRtpReceiver(options.clock, options.sink, options.startMonotonic);
    try {
      for (const cfg of options.streams) {
        // RTP on the port, RTCP on port + 1; a port taken by another process rejects with its code (EADDRINUSE)
        const endpoint = await defaultEndpoints.open(options.address, cfg.port, { receiveTimes: true });
        const state: StreamState = {
          config: cfg,
          endpoint,
          timeline: new StreamTimeline(options.reanchorMs === undefined ? {} : { reanchorMs: options.reanchorMs }),
          start: new StartAligner(),
          active: true,
          pts: new Map([...STATIC_PTS, ...(cfg.payloadTypes ?? [])]),
          stats: {
            label: cfg.label,
            port: cfg.port,
            packets: 0,
            bytes: 0,
            samples: 0,
            rtcpPackets: 0,
            dtmfPackets: 0,
            dropped: { malformed: 0, unknownPayloadType: 0, inactive: 0, srtpAuth: 0 },
            reanchors: 0,
            ssrc: undefined,
            codec: undefined,
            remote: undefined,
            srtp: cfg.decryptor !== undefined,
          },
        };
        r.#streams.set(cfg.label, state);
        endpoint.onRtp = (msg, address, port) => r.#onRtp(state, msg, address, port);
        endpoint.onRtcp = () => {
          state.stats.rtcpPackets++;
        };
      }
    } catch (err) {
      r.close();
      throw err;
    }
    return r;
  }

  /** Monotonic ms at which the recording timeline starts. */
  get startMonotonic(): number {
    return this.#startMono;
  }

  /** Recording timeline position now, in ms since the start. */
  elapsedMs(): number {
    return this.#clock.monotonic() - this.#startMono;
  }

  /**
   * How far the WAV starts before the recording's start: a stream's first packets carried audio
   * from before it (an SRC's start buffer, sent in a burst), placed by their RTP timestamps. Fixed
   * once anything was placed; its sample 0 is at the recording's start minus this.
   */
  get originShiftMs(): number {
    return this.#originShiftMs;
  }

  /** Pause (false) or resume (true) a stream; on resume its start is aligned again (StartAligner). */
  setActive(label: string, active: boolean): void {
    const s = this.#streams.get(label);
    if (!s) return;
    if (active && !s.active) {
      s.timeline.reset();
      s.start.arm();
    }
    if (!active && s.start.holding) this.#releaseAll();
    s.active = active;
  }

  isActive(label: string): boolean {
    return this.#streams.get(label)?.active ?? false;
  }

  /** Updates the payload-type map after a re-negotiation. */
  setPayloadTypes(label: string, pts: ReadonlyMap<number, G711Codec>, telephoneEventPayloadType?: number): void {
    const s = this.#streams.get(label);
    if (!s) return;
    s.pts = new Map([...STATIC_PTS, ...pts]);
    s.config = { ...s.config, telephoneEventPayloadType };
  }

  stats(): StreamStats[] {
    return [...this.#streams.values()].map((s) => ({ ...s.stats, reanchors: s.timeline.reanchors, dropped: { ...s.stats.dropped } }));
  }

  #onRtp(s: StreamState, raw: Buffer, address: string, port: number): void {
    if (this.#closed) return;
    if (looksLikeRtcp(raw)) {
      s.stats.rtcpPackets++;
      return;
    }
    let msg = raw;
    if (s.config.decryptor) {
      if (rtpPayloadOffset(raw) < 0) {
        s.stats.dropped.malformed++;
        return;
      }
      const plain = s.config.decryptor.decrypt(raw);
      if (!plain) {
        s.stats.dropped.srtpAuth++;
        return;
      }
      msg = plain;
    }
    const payloadOffset = rtpPayloadOffset(msg);
    if (payloadOffset < 0) {
      s.stats.dropped.malformed++;
      return;
    }
    if (!s.active) {
      s.stats.dropped.inactive++;
      return;
    }
    const payloadType = rtpPayloadType(msg);
    if (payloadType === s.config.telephoneEventPayloadType) {
      s.stats.dtmfPackets++;
      return;
    }
    const codec = s.pts.get(payloadType);
    if (!codec) {
      s.stats.dropped.unknownPayloadType++;
      return;
    }
    const ssrc = rtpSsrc(msg);
    const pcm = decodeInto(codec, msg, payloadOffset, rtpPayloadEnd(msg));
    // placed by when the kernel received it (a starved thread reads a burst late), where known
    const receivedMs = this.elapsedMs() - s.endpoint.receiveAgeMs;
    // a release may move the WAV's start: arrival on it after that
    if (this.#expired(receivedMs + this.#originShiftMs)) this.#releaseAll();
    const arrivalMs = receivedMs + this.#originShiftMs;
    if (s.start.accepts(ssrc, arrivalMs)) {
      s.start.hold(ssrc, rtpTimestamp(msg), arrivalMs, pcm.slice());
    } else {
      if (s.start.holding) this.#releaseAll();
      this.#placed = true;
      this.#sink.put(s.config.channel, s.timeline.position(ssrc, rtpTimestamp(msg), arrivalMs), pcm);
    }
    const first = s.stats.packets === 0;
    s.stats.packets++;
    s.stats.bytes += msg.length;
    s.stats.samples += pcm.length;
    s.stats.ssrc = ssrc;
    s.stats.codec = codec;
    const remote = s.stats.remote;
    if (remote === undefined || remote.port !== port || remote.address !== address) s.stats.remote = { address, port };
    if (first) this.emit('media', s.config.label);
  }

  /** Some stream's start window is over at `nowMs` (false while nothing is held). */
  #expired(nowMs: number): boolean {
    for (const s of this.#streams.values()) if (s.start.expired(nowMs)) return true;
    return false;
  }

  /**
   * Places every stream's held start packets, merged in timeline order (so that one stream's burst
   * does not push the WAV's flush past the other's). Before anything was placed, audio from before
   * the recording's start moves the WAV's start earlier; after that, what precedes it is dropped
   * (counted as late samples).
   */
  #releaseAll(): void {
    const holding = [...this.#streams.values()].filter((s) => s.start.holding);
    if (holding.length === 0) return;
    if (!this.#placed) {
      const earliest = Math.min(...holding.map((s) => s.start.startMs()));
      if (earliest < 0) {
        this.#originShiftMs -= earliest;
        for (const s of holding) s.start.shift(-earliest);
      }
    }
    const writes: Array<{ channel: 0 | 1; position: number; pcm: Int16Array }> = [];
    for (const s of holding) {
      s.start.release((ssrc, ts, arrivalMs, pcm) => writes.push({ channel: s.config.channel, position: s.timeline.position(ssrc, ts, arrivalMs), pcm }));
    }
    writes.sort((a, b) => a.position - b.position);
    this.#placed = true;
    for (const w of writes) this.#sink.put(w.channel, w.position, w.pcm);
  }

  /** Places what is still held and closes every socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#releaseAll();
    this.#closed = true;
    for (const s of this.#streams.values()) s.endpoint.close();
  }
}
