import { createSocket, type Socket } from 'node:dgram';
import { encodeG711, type G711Codec } from '../../../src/media/audio/g711.js';

/** Sends a PCM signal as 20 ms G.711 RTP packets from a bound 127.0.0.1 port (test helper). */
export class RtpToneSender {
  readonly #socket: Socket;
  #seq = 1000;
  #ts = 123_456;

  readonly ssrc: number;
  readonly codec: G711Codec;

  private constructor(socket: Socket, ssrc: number, codec: G711Codec) {
    this.#socket = socket;
    this.ssrc = ssrc;
    this.codec = codec;
  }

  static async open(localPort: number, ssrc: number, codec: G711Codec = 'PCMU'): Promise<RtpToneSender> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(localPort, '127.0.0.1', () => resolve());
    });
    return new RtpToneSender(s, ssrc, codec);
  }

  packet(pcm: Int16Array): Buffer {
    const payload = encodeG711(this.codec, pcm);
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = this.codec === 'PCMU' ? 0 : 8;
    h.writeUInt16BE(this.#seq & 0xffff, 2);
    h.writeUInt32BE(this.#ts >>> 0, 4);
    h.writeUInt32BE(this.ssrc, 8);
    this.#seq++;
    this.#ts += pcm.length;
    return Buffer.concat([h, payload]);
  }

  /** Skips `samples` of RTP time without sending (the SRC kept its clock running). */
  skip(samples: number): void {
    this.#ts += samples;
  }

  send(buf: Buffer, port: number): Promise<void> {
    return new Promise((resolve) => this.#socket.send(buf, port, '127.0.0.1', () => resolve()));
  }

  close(): void {
    this.#socket.close();
  }
}
