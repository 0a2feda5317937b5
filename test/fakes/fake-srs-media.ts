/**
 * The media side of a fake recording server: two RTP receivers, one per recorded stream,
 * keeping every packet for spectral and numbering checks.
 */
import { RtpPeer, type ReceivedPacket } from '../support/rtp-peer.js';
import type { ForkTarget } from '../../src/media/media-session-types.js';

export class FakeSrsMedia {
  private constructor(readonly streams: [RtpPeer, RtpPeer]) {}

  /** Bind two receivers on 127.0.0.1 at `ports[0]`, `ports[1]` (each with RTCP at +1). */
  static async open(ports: [number, number]): Promise<FakeSrsMedia> {
    const s0 = await RtpPeer.open(ports[0]);
    const s1 = await RtpPeer.open(ports[1]);
    return new FakeSrsMedia([s0, s1]);
  }

  /** The two fork targets (stream 1 = leg A, stream 2 = leg B). */
  targets(extra: Partial<ForkTarget> = {}): [ForkTarget, ForkTarget] {
    return [
      { address: '127.0.0.1', port: this.streams[0].port, ...extra },
      { address: '127.0.0.1', port: this.streams[1].port, ...extra },
    ];
  }

  packets(stream: 0 | 1): ReceivedPacket[] {
    return this.streams[stream].received;
  }

  /** Decoded audio of one stream. */
  audio(stream: 0 | 1): Int16Array {
    return RtpPeer.decode(this.streams[stream].packets());
  }

  close(): void {
    for (const s of this.streams) s.close();
  }
}
