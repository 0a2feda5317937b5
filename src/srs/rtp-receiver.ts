import type { Clock } from '../common/clock.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { decodeTable, type G711Codec } from '../media/audio/g711.js';
import { looksLikeRtcp, rtpPayloadEnd, rtpPayloadOffset, rtpPayloadType, rtpSsrc, rtpTimestamp } from '../media/rtp/rtp-header.js';
import { endpointFactoryFor, resolveSocketIo } from '../media/transport/socket-io.js';
import type { RtpEndpoint, RtpEndpointFactory } from '../media/transport/udp-endpoint.js';
import type { RtpDecryptor } from './srtp-receive.js';
import { StreamTimeline } from './stream-timeline.js';

/**
 * The RTP side of one recording at the reference SRS: one RTP endpoint per recorded stream (label),
 * RTCP accepted and counted on port + 1 (or muxed on the RTP port), G.711 decoded by payload type
 * to 8 kHz linear and placed on the recording timeline (StreamTimeline) into a sink (the stereo
 * WAV writer). The packet path never throws: bad packets are counted and dropped. The endpoints
 * are the media plane's (src/media/transport), node:dgram for now; a received datagram is only
 * read during its handler (decoded into a scratch the sink copies from), nothing keeps it.
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
  active: boolean;
  pts: Map<number, G711Codec>;
  stats: StreamStats;
}

const STATIC_PTS: ReadonlyArray<[number, G711Codec]> = [
  [0, 'PCMU'],
  [8, 'PCMA'],
];

/**
 * The receivers' socket I/O: node:dgram. The native batched endpoints cost about a third less CPU
 * here, but together with the recording server's media worker a call recorded under CPU
 * starvation had party audio inside its pause (docs/siprec.md "Where the media runs"): until that is
 * understood, the receivers stay on dgram (one line to change here).
 */
const defaultEndpoints: RtpEndpointFactory = endpointFactoryFor(resolveSocketIo('dgram').path);

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
        const endpoint = await defaultEndpoints.open(options.address, cfg.port);
        const state: StreamState = {
          config: cfg,
          endpoint,
          timeline: new StreamTimeline(options.reanchorMs === undefined ? {} : { reanchorMs: options.reanchorMs }),
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

  /** Pause (false) or resume (true) a stream; on resume the timeline re-anchors on arrival. */
  setActive(label: string, active: boolean): void {
    const s = this.#streams.get(label);
    if (!s) return;
    if (active && !s.active) s.timeline.reset();
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
    const pos = s.timeline.position(ssrc, rtpTimestamp(msg), this.elapsedMs());
    this.#sink.put(s.config.channel, pos, pcm);
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

  /** Closes every socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams.values()) s.endpoint.close();
  }
}
