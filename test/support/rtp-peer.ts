/**
 * A fake RTP endpoint for integration tests: a bound 127.0.0.1 socket that sends PCMU/PCMA frames
 * of a PCM signal every 20 ms (drift-free against the real clock) and records everything it
 * receives, so a test can decode what a party heard and check seq/timestamp continuity.
 */
import dgram from 'node:dgram';
import { decodeG711, encodeG711, type G711Codec } from '../../src/media/audio/g711.js';
import { telephoneEventSequence } from '../../src/media/processors/dtmf.js';
import { rtpMarker, rtpPayloadEnd, rtpPayloadOffset, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from '../../src/media/rtp/rtp-header.js';
import { seqDelta } from '../../src/media/rtp/wrap-math.js';

export interface ReceivedPacket {
  seq: number;
  ts: number;
  ssrc: number;
  pt: number;
  marker: boolean;
  payload: Buffer;
  /** performance.now() at arrival. */
  at: number;
  from: { address: string; port: number };
  raw: Buffer;
}

export interface Target {
  address: string;
  port: number;
}

const PT_OF: Record<G711Codec, number> = { PCMU: 0, PCMA: 8 };

export class RtpPeer {
  readonly received: ReceivedPacket[] = [];
  readonly rtcpReceived: Buffer[] = [];
  readonly ssrc: number;
  #seq: number;
  #ts: number;
  #timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly port: number,
    private readonly sock: dgram.Socket,
    private readonly rtcp: dgram.Socket | undefined,
    readonly codec: G711Codec,
  ) {
    this.ssrc = (Math.random() * 0xffffffff) >>> 0;
    this.#seq = (Math.random() * 0xffff) & 0xffff;
    this.#ts = (Math.random() * 0xffffffff) >>> 0;
    sock.on('message', (buf, rinfo) => {
      const off = rtpPayloadOffset(buf);
      if (off < 0) return;
      this.received.push({
        seq: rtpSeq(buf),
        ts: rtpTimestamp(buf),
        ssrc: rtpSsrc(buf),
        pt: rtpPayloadType(buf),
        marker: rtpMarker(buf),
        payload: buf.subarray(off, rtpPayloadEnd(buf)),
        at: performance.now(),
        from: { address: rinfo.address, port: rinfo.port },
        raw: buf,
      });
    });
    rtcp?.on('message', (buf) => this.rtcpReceived.push(buf));
  }

  /** Bind 127.0.0.1:port (and port+1 for RTCP unless `rtcp: false`). */
  static async open(port: number, options: { codec?: G711Codec; rtcp?: boolean } = {}): Promise<RtpPeer> {
    const bind = (p: number): Promise<dgram.Socket> =>
      new Promise((resolve, reject) => {
        const s = dgram.createSocket('udp4');
        s.once('error', reject);
        s.bind(p, '127.0.0.1', () => resolve(s));
      });
    const sock = await bind(port);
    const rtcp = options.rtcp === false ? undefined : await bind(port + 1);
    return new RtpPeer(port, sock, rtcp, options.codec ?? 'PCMU');
  }

  /** Send one raw datagram. */
  sendRaw(buf: Uint8Array, to: Target): void {
    this.sock.send(buf, to.port, to.address);
  }

  /** One RTP packet with this peer's SSRC and the next seq; `tsStep` advances the timestamp after it. */
  sendPacket(payload: Uint8Array, to: Target, opts: { pt?: number; marker?: boolean; tsStep?: number; timestamp?: number } = {}): void {
    const buf = Buffer.alloc(12 + payload.length);
    writeRtpHeader(buf, {
      payloadType: opts.pt ?? PT_OF[this.codec],
      seq: this.#seq,
      timestamp: opts.timestamp ?? this.#ts,
      ssrc: this.ssrc,
      marker: opts.marker ?? false,
    });
    buf.set(payload, 12);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#ts = (this.#ts + (opts.tsStep ?? payload.length)) >>> 0;
    this.sock.send(buf, to.port, to.address);
  }

  /** Stream `pcm` as 20 ms frames at real-time pace; resolves after the last frame. */
  play(pcm: Int16Array, to: Target): Promise<void> {
    const frames = Math.floor(pcm.length / 160);
    const encoded = encodeG711(this.codec, pcm);
    return this.#paced(frames, (i) => this.sendPacket(encoded.subarray(i * 160, (i + 1) * 160), to));
  }

  /** Send one DTMF digit as RFC 4733 packets (pt default 101) at 20 ms pace. */
  sendDtmf(digit: string, durationMs: number, to: Target, pt = 101): Promise<void> {
    const start = this.#ts;
    const packets = telephoneEventSequence(digit, start, durationMs);
    return this.#paced(packets.length, (i) => {
      const p = packets[i]!;
      this.sendPacket(p.payload, to, { pt, marker: p.marker, timestamp: p.timestamp, tsStep: 0 });
    }).then(() => {
      this.#ts = (start + Math.round(durationMs * 8)) >>> 0;
    });
  }

  #paced(count: number, send: (i: number) => void): Promise<void> {
    return new Promise((resolve) => {
      const t0 = performance.now();
      let i = 0;
      const tick = (): void => {
        while (i < count && t0 + i * 20 <= performance.now()) send(i++);
        if (i >= count) {
          resolve();
          return;
        }
        const t = setTimeout(() => {
          this.#timers.delete(t);
          tick();
        }, Math.max(0, t0 + i * 20 - performance.now()));
        this.#timers.add(t);
      };
      tick();
    });
  }

  /** Packets received with the given payload type (default: any G.711). */
  packets(filter: (p: ReceivedPacket) => boolean = (p) => p.pt === 0 || p.pt === 8): ReceivedPacket[] {
    return this.received.filter(filter);
  }

  /** Decode G.711 packets (in arrival order) to PCM; the codec follows each packet's PT (0 = PCMU, 8 = PCMA). */
  static decode(packets: ReceivedPacket[]): Int16Array {
    const out = new Int16Array(packets.reduce((n, p) => n + p.payload.length, 0));
    let off = 0;
    for (const p of packets) {
      out.set(decodeG711(p.pt === 8 ? 'PCMA' : 'PCMU', p.payload), off);
      off += p.payload.length;
    }
    return out;
  }

  /**
   * Problems in a received stream's numbering: seq steps other than +1, repeated seqs, timestamps
   * going back (or standing still, unless allowed: RFC 4733 events keep one timestamp), SSRC changes.
   */
  static continuityProblems(packets: ReceivedPacket[], opts: { allowEqualTimestamps?: boolean } = {}): string[] {
    const problems: string[] = [];
    for (let i = 1; i < packets.length; i++) {
      const a = packets[i - 1]!;
      const b = packets[i]!;
      if (b.ssrc !== a.ssrc) problems.push(`ssrc change at ${i}`);
      const d = seqDelta(b.seq, a.seq);
      if (d !== 1) problems.push(`seq step ${d} at ${i} (${a.seq} -> ${b.seq})`);
      const dt = (b.ts - a.ts) | 0;
      if (dt < 0 || (dt === 0 && !opts.allowEqualTimestamps)) problems.push(`timestamp step ${dt} at ${i}`);
    }
    return problems;
  }

  clear(): void {
    this.received.length = 0;
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.sock.close();
    this.rtcp?.close();
  }
}
