/**
 * SIP transports (RFC 3261 section 18): UDP sockets and TCP listeners on the configured contacts,
 * with outbound TCP connections reused per remote address (an inbound connection from a peer is
 * reused to reach that peer too). The transport knows nothing about SIP semantics: it hands
 * whole messages (datagrams, or stream-framed messages) to `onMessage` and sends text.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { AppError } from '../common/errors.js';
import type { Logger } from '../observability/logger.js';
import { SipStreamFramer } from './sip-stream-framer.js';

export type SipProtocol = 'udp' | 'tcp';

/** Requested UDP socket buffer size (4 MiB; the kernel caps it at net.core.rmem_max/wmem_max). */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

export interface ListenPoint {
  protocol: SipProtocol;
  host: string;
  port: number;
}

/** Where a message came from and which local listen point received it. */
export interface MessageSource {
  protocol: SipProtocol;
  remoteHost: string;
  remotePort: number;
  local: ListenPoint;
}

export interface SipTransportOptions {
  /** Contacts like 'sip:127.0.0.1:5060;transport=udp,tcp' (default transport udp, port 5060). */
  contacts: string[];
  maxMessageBytes: number;
  logger: Logger;
  onMessage: (data: Buffer, source: MessageSource) => void;
  /**
   * A message that cannot be taken: over the size limit (UDP: dropped; TCP: head given so a 513 can
   * be tried), or a TCP stream that lost its framing (bad Content-Length: 400; garbage). A TCP
   * connection is closed afterwards since the stream position is lost.
   */
  onTooLarge: (source: MessageSource, head: Buffer | undefined, reason: 'too-large' | 'bad-content-length' | 'garbage') => void;
}

interface ContactSpec {
  host: string;
  port: number;
  protocols: SipProtocol[];
}

/** Parse a drachtio-style contact. Throws on a malformed one (configuration error). */
export function parseContact(contact: string): ContactSpec {
  const m = /^sips?:(?:[^@]*@)?(\[[0-9a-fA-F:.]+\]|[^;:]+)(?::(\d+))?(.*)$/i.exec(contact.trim());
  if (!m) throw new AppError('ENGINE_CONTACT_INVALID', contact);
  const port = m[2] === undefined ? 5060 : Number(m[2]);
  const tm = /;transport=([a-z,]+)/i.exec(m[3] ?? '');
  const protocols = (tm ? (tm[1] as string).toLowerCase().split(',') : ['udp']).filter((p) => p.length > 0);
  for (const p of protocols) if (p !== 'udp' && p !== 'tcp') throw new AppError('ENGINE_CONTACT_INVALID', `unsupported transport ${p} in ${contact}`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port, protocols: protocols as SipProtocol[] };
}

interface TcpConn {
  socket: net.Socket;
  framer: SipStreamFramer;
  local: ListenPoint;
  key: string;
}

export class SipTransport {
  readonly #opts: SipTransportOptions;
  readonly #udp: Array<{ socket: dgram.Socket; point: ListenPoint }> = [];
  readonly #tcpServers: Array<{ server: net.Server; point: ListenPoint }> = [];
  readonly #conns = new Map<string, TcpConn>();
  readonly points: ListenPoint[] = [];
  #closed = false;

  constructor(opts: SipTransportOptions) {
    this.#opts = opts;
  }

  async start(): Promise<void> {
    for (const c of this.#opts.contacts.map(parseContact)) {
      let port = c.port;
      if (c.protocols.includes('tcp')) {
        port = await this.#listenTcp(c.host, port);
      }
      if (c.protocols.includes('udp')) {
        port = await this.#bindUdp(c.host, port);
      }
    }
  }

  #bindUdp(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        const bound = socket.address().port;
        // Bursts of datagrams arrive while the event loop is busy: a larger kernel receive buffer
        // (best effort, capped by net.core.rmem_max) avoids drops and the retransmissions they cause.
        try {
          socket.setRecvBufferSize(UDP_BUFFER_BYTES);
          socket.setSendBufferSize(UDP_BUFFER_BYTES);
        } catch (err) {
          this.#opts.logger.debug({ err }, 'engine: could not enlarge udp buffers');
        }
        const point: ListenPoint = { protocol: 'udp', host, port: bound };
        socket.on('error', (err) => this.#opts.logger.warn({ err }, 'udp socket error'));
        socket.on('message', (data, rinfo) => {
          if (data.length > this.#opts.maxMessageBytes) {
            this.#opts.onTooLarge({ protocol: 'udp', remoteHost: rinfo.address, remotePort: rinfo.port, local: point }, undefined, 'too-large');
            return;
          }
          this.#opts.onMessage(data, { protocol: 'udp', remoteHost: rinfo.address, remotePort: rinfo.port, local: point });
        });
        this.#udp.push({ socket, point });
        this.points.push(point);
        resolve(bound);
      });
    });
  }

  #listenTcp(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        const point = this.#tcpServers.find((s) => s.server === server)?.point;
        if (point) this.#adopt(socket, point, `${normalizeHost(socket.remoteAddress ?? '')}:${socket.remotePort ?? 0}`);
        else socket.destroy();
      });
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address() as net.AddressInfo;
        const point: ListenPoint = { protocol: 'tcp', host, port: addr.port };
        server.on('error', (err) => this.#opts.logger.warn({ err }, 'tcp server error'));
        this.#tcpServers.push({ server, point });
        this.points.push(point);
        resolve(addr.port);
      });
    });
  }

  #adopt(socket: net.Socket, local: ListenPoint, key: string): TcpConn {
    const conn: TcpConn = { socket, framer: new SipStreamFramer(this.#opts.maxMessageBytes), local, key };
    this.#conns.set(key, conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const r = conn.framer.push(chunk);
      const source: MessageSource = {
        protocol: 'tcp',
        remoteHost: normalizeHost(socket.remoteAddress ?? ''),
        remotePort: socket.remotePort ?? 0,
        local,
      };
      for (let i = 0; i < r.pings; i++) socket.write('\r\n');
      for (const m of r.messages) this.#opts.onMessage(m, source);
      if (r.error) {
        this.#opts.onTooLarge(source, r.error.head, r.error.reason);
        socket.end();
      }
    });
    socket.on('error', (err) => this.#opts.logger.debug({ err, key }, 'tcp connection error'));
    socket.on('close', () => {
      if (this.#conns.get(key) === conn) this.#conns.delete(key);
    });
    return conn;
  }

  /** The listen point used to send with a protocol (the first configured one). */
  pointFor(protocol: SipProtocol): ListenPoint | undefined {
    return this.points.find((p) => p.protocol === protocol);
  }

  hasProtocol(protocol: string): boolean {
    return this.points.some((p) => p.protocol === protocol);
  }

  /**
   * Send a message. For TCP an existing connection to host:port is reused, else one is opened.
   * `onError` is called (at most once) if the message cannot be delivered.
   */
  send(protocol: SipProtocol, host: string, port: number, data: string, onError?: (err: Error) => void): void {
    if (this.#closed) return;
    if (protocol === 'udp') {
      const u = this.#udp[0];
      if (!u) {
        onError?.(new Error('no udp transport'));
        return;
      }
      if (onError) {
        u.socket.send(data, port, host, (err) => {
          if (err) onError(err);
        });
      } else u.socket.send(data, port, host);
      return;
    }
    const key = `${host}:${port}`;
    let conn = this.#conns.get(key);
    if (!conn || conn.socket.destroyed) {
      const local = this.pointFor('tcp');
      if (!local) {
        onError?.(new Error('no tcp transport'));
        return;
      }
      const socket = net.connect({ host, port });
      conn = this.#adopt(socket, local, key);
    }
    const socket = conn.socket;
    let reported = false;
    const fail = (err: Error): void => {
      if (reported) return;
      reported = true;
      onError?.(err);
    };
    if (socket.connecting) socket.once('error', fail);
    socket.write(data, (err) => {
      if (err) fail(err);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#conns.values()) c.socket.destroy();
    this.#conns.clear();
    await Promise.all([
      ...this.#udp.map((u) => new Promise<void>((r) => u.socket.close(() => r()))),
      ...this.#tcpServers.map((s) => new Promise<void>((r) => s.server.close(() => r()))),
    ]);
  }
}

function normalizeHost(h: string): string {
  return h.startsWith('::ffff:') ? h.slice(7) : h;
}
