import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Receives one datagram. `buf` is valid only during the call: the native batched endpoints
 * (batch-udp-endpoint.ts) hand a view of their receive arena, overwritten by the next batch. The
 * callee may rewrite it in place and send it; whatever keeps it beyond the call copies it.
 */
export type DatagramHandler = (buf: Buffer, address: string, port: number) => void;

/**
 * An RTP endpoint: a bound RTP socket and its RTCP socket (port + 1). The narrow interface the
 * media engine uses for all I/O, so that tests can inject fakes.
 */
export interface RtpEndpoint {
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  onRtp: DatagramHandler;
  onRtcp: DatagramHandler;
  /**
   * Whether a send copies the datagram before it returns, so the caller may change or reuse the
   * buffer at once (the native endpoints copy into their send arena). node:dgram may queue the
   * caller's buffer instead: false.
   */
  readonly copiesOnSend: boolean;
  /**
   * During onRtp/onRtcp: how long, in ms, the datagram being delivered waited between the kernel
   * receiving it and this call (a starved thread reads a burst late; its packets keep their true
   * arrival). Known only on endpoints opened with `receiveTimes` on the native I/O; else 0.
   */
  readonly receiveAgeMs: number;
  sendRtp(buf: Uint8Array, length: number, port: number, address: string): void;
  sendRtcp(buf: Uint8Array, length: number, port: number, address: string): void;
  /** Datagrams queued in the kernel-facing send queue (0 when every send left synchronously). */
  rtpSendQueueCount(): number;
  sendErrors: number;
  close(): void;
}

/** Opens endpoints: node:dgram here (the fallback), or the native batched I/O (batch-udp-endpoint.ts). */
export interface RtpEndpointFactory {
  open(address: string, rtpPort: number, options?: RtpEndpointOptions): Promise<RtpEndpoint>;
}

export interface RtpEndpointOptions {
  /** Ask the kernel for each datagram's receive time (receiveAgeMs); the native I/O only. */
  readonly receiveTimes?: boolean;
}

const noop: DatagramHandler = () => {};

/**
 * dgram resolves the destination of every send through `lookup`; the default (dns.lookup) answers
 * an IP literal on a later tick, one allocation and one tick per packet. Media destinations are
 * IP literals from SDP: answer them synchronously, and resolve anything else normally.
 */
function literalLookup(
  address: string,
  options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(address);
  if (family !== 0) {
    callback(null, address, family);
    return;
  }
  dnsLookup(address, options as object, callback as (err: NodeJS.ErrnoException | null, address: string, family: number) => void);
}

function bindSocket(address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const type = address.includes(':') ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type, reuseAddr: false, lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
    const onError = (err: Error): void => {
      sock.close();
      reject(err);
    };
    sock.once('error', onError);
    sock.bind(port, address, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

class UdpRtpEndpoint implements RtpEndpoint {
  onRtp: DatagramHandler = noop;
  onRtcp: DatagramHandler = noop;
  readonly copiesOnSend = false;
  /** node:dgram gives no receive time. */
  readonly receiveAgeMs = 0;
  sendErrors = 0;
  #closed = false;

  constructor(
    readonly address: string,
    readonly rtpPort: number,
    readonly rtcpPort: number,
    private readonly rtp: dgram.Socket,
    private readonly rtcp: dgram.Socket,
  ) {
    rtp.on('message', (buf, rinfo) => this.onRtp(buf, rinfo.address, rinfo.port));
    rtcp.on('message', (buf, rinfo) => this.onRtcp(buf, rinfo.address, rinfo.port));
    // No send callback (it would cost a nextTick per packet): a failed send, e.g. to an
    // unreachable port (ICMP), surfaces as an asynchronous socket error (ICMP): count, keep going.
    rtp.on('error', () => this.sendErrors++);
    rtcp.on('error', () => this.sendErrors++);
  }

  sendRtp(buf: Uint8Array, length: number, port: number, address: string): void {
    if (this.#closed) return;
    try {
      if (length === buf.length) this.rtp.send(buf, port, address);
      else this.rtp.send(buf, 0, length, port, address);
    } catch {
      this.sendErrors++;
    }
  }

  sendRtcp(buf: Uint8Array, length: number, port: number, address: string): void {
    if (this.#closed) return;
    try {
      this.rtcp.send(buf, 0, length, port, address);
    } catch {
      this.sendErrors++;
    }
  }

  rtpSendQueueCount(): number {
    return this.rtp.getSendQueueCount();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onRtp = noop;
    this.onRtcp = noop;
    this.rtp.close();
    this.rtcp.close();
  }
}

/** The real factory: binds RTP on `rtpPort` and RTCP on `rtpPort + 1` of `address`. */
export const udpEndpointFactory: RtpEndpointFactory = {
  async open(address: string, rtpPort: number): Promise<RtpEndpoint> {
    const rtp = await bindSocket(address, rtpPort);
    let rtcp: dgram.Socket;
    try {
      rtcp = await bindSocket(address, rtpPort + 1);
    } catch (err) {
      rtp.close();
      throw err;
    }
    for (const s of [rtp, rtcp]) {
      try {
        s.setRecvBufferSize(1 << 18);
        s.setSendBufferSize(1 << 18);
      } catch {
        // keep the system default
      }
    }
    return new UdpRtpEndpoint(address, rtpPort, rtpPort + 1, rtp, rtcp);
  },
};
