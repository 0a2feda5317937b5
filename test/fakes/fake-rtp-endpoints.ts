/**
 * In-memory RTP endpoints for the in-thread media engine (`MediaPlane.start({ workers: 0, engine:
 * { endpoints } })`): no sockets; a test delivers datagrams to a bound port and reads what was sent.
 */
import type { DatagramHandler, RtpEndpoint, RtpEndpointFactory } from '../../src/media/transport/udp-endpoint.js';

export interface SentDatagram {
  kind: 'rtp' | 'rtcp';
  data: Buffer;
  address: string;
  port: number;
}

export class FakeRtpEndpoint implements RtpEndpoint {
  readonly rtcpPort: number;
  onRtp: DatagramHandler = () => {};
  onRtcp: DatagramHandler = () => {};
  /** sendRtp/sendRtcp keep a copy, as the native endpoints do. */
  readonly copiesOnSend = true;
  /** Set by a test before deliver() to play a datagram read late. */
  receiveAgeMs = 0;
  readonly sent: SentDatagram[] = [];
  sendErrors = 0;
  closed = false;

  constructor(
    readonly address: string,
    readonly rtpPort: number,
  ) {
    this.rtcpPort = rtpPort + 1;
  }

  sendRtp(buf: Uint8Array, length: number, port: number, address: string): void {
    this.sent.push({ kind: 'rtp', data: Buffer.from(buf.subarray(0, length)), address, port });
  }

  sendRtcp(buf: Uint8Array, length: number, port: number, address: string): void {
    this.sent.push({ kind: 'rtcp', data: Buffer.from(buf.subarray(0, length)), address, port });
  }

  rtpSendQueueCount(): number {
    return 0;
  }

  /** A datagram arrives on the RTP port from `address:port`. */
  deliver(buf: Buffer, address: string, port: number): void {
    if (!this.closed) this.onRtp(buf, address, port);
  }

  close(): void {
    this.closed = true;
  }
}

export class FakeRtpEndpointFactory implements RtpEndpointFactory {
  /** Open endpoints by RTP port. */
  readonly byPort = new Map<number, FakeRtpEndpoint>();

  open(address: string, rtpPort: number): Promise<RtpEndpoint> {
    const ep = new FakeRtpEndpoint(address, rtpPort);
    this.byPort.set(rtpPort, ep);
    return Promise.resolve(ep);
  }

  get(port: number): FakeRtpEndpoint {
    const ep = this.byPort.get(port);
    if (ep === undefined) throw new Error(`no fake endpoint on port ${port}`);
    return ep;
  }
}
