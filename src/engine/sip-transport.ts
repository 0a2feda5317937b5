/**
 * SIP transports (RFC 3261 section 18): UDP sockets, TCP and TLS listeners on the configured
 * contacts, with outbound TCP/TLS connections reused per remote address (an inbound connection from
 * a peer is reused to reach that peer too). TLS (RFC 3261 sections 18 and 26.2, RFC 5630) uses the
 * same Content-Length stream framing as TCP; outbound TLS verifies the peer's certificate (SNI = the
 * host name when the request named one), a handshake that fails or exceeds its timeout is counted
 * and logged and the connection dropped. The transport knows nothing about SIP semantics: it hands
 * whole messages (datagrams, or stream-framed messages) to `onMessage` and sends text.
 *
 * Stream connections are bounded (docs/hardening.md "Connections"): an inbound connection over the
 * per-source or global cap is closed at accept (connection-limits.ts); a connection that carries no
 * dialog or transaction is closed after `idleConnectionMs` without a complete message (CRLF
 * keep-alives do not count); a message not complete `messageDeadlineMs` after its first byte closes
 * its connection (slowloris). Each is counted.
 *
 * Size: ~530 lines, one file because UDP, TCP and TLS share the listen points, the connection table
 * (reuse in both directions) and the bounds above; only the stream framing and the limits are
 * their own files.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { AppError } from '../common/errors.js';
import type { Logger } from '../observability/logger.js';
import type { ConnectionLimits } from './connection-limits.js';
import { SipStreamFramer } from './sip-stream-framer.js';

export type SipProtocol = 'udp' | 'tcp' | 'tls';

/** TLS material and policy (drachtio-server's --tls-key-file / --tls-cert-file / --tls-chain-file). */
export interface TlsSettings {
  /** PEM private key. */
  key: string | Buffer;
  /** PEM certificate (chain may follow it). */
  cert: string | Buffer;
  /** PEM CA certificates that verify peers (default: Node's bundled roots). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Reject peers whose certificate does not verify, for outbound connections (default true). */
  rejectUnauthorized?: boolean;
  /** Longest a TLS handshake may take before the connection is dropped, ms (default 5000). */
  handshakeTimeoutMs?: number;
}

/** Default TLS handshake timeout, ms. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 5000;

/** Default idle time after which a connection without dialog or transaction is closed, ms (Kamailio and drachtio close idle ones too). */
export const IDLE_CONNECTION_MS = 32_000;
/** Default time a stream message may take from its first byte to its last, ms. */
export const MESSAGE_DEADLINE_MS = 10_000;

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
  /** Contacts like 'sip:127.0.0.1:5060;transport=udp,tcp' (default transport udp, port 5060) or
   *  'sips:127.0.0.1:5061;transport=tls' (a sips: contact defaults to tls on port 5061). */
  contacts: string[];
  /** Required when a contact has transport tls. */
  tls?: TlsSettings;
  maxMessageBytes: number;
  logger: Logger;
  onMessage: (data: Buffer, source: MessageSource) => void;
  /**
   * A message that cannot be taken: over the size limit (UDP: dropped; TCP: head given so a 513 can
   * be tried), or a TCP stream that lost its framing (bad Content-Length: 400; garbage). A TCP
   * connection is closed afterwards since the stream position is lost.
   */
  onTooLarge: (source: MessageSource, head: Buffer | undefined, reason: 'too-large' | 'bad-content-length' | 'garbage') => void;
  /** Per-source and global connection caps (default: none). */
  limits?: ConnectionLimits;
  /** A connection that carries no dialog or transaction is closed after this long without a complete message, ms (default 32000; 0 = never). */
  idleConnectionMs?: number;
  /** A stream message must be complete this long after its first byte, else its connection is closed, ms (default 10000; 0 = no deadline). */
  messageDeadlineMs?: number;
  /** The `connectionKey`s of connections that carry a dialog or transaction now; asked only when some connection is idle. */
  connectionsInUse?: () => ReadonlySet<string>;
}

/** What the transport counts of its stream connections. */
export interface ConnectionStats {
  connectionsOpen: number;
  /** The global cap in force. */
  maxConnections: number;
  connectionsRefusedPerSource: number;
  connectionsRefusedGlobal: number;
  connectionsClosedIdle: number;
  connectionsClosedSlow: number;
}

/** The key of a TCP/TLS connection to or from host:port, as `connectionsInUse` returns it. */
export function connectionKey(protocol: 'tcp' | 'tls', host: string, port: number): string {
  return protocol === 'tls' ? tlsKey(host, port) : `${host}:${port}`;
}

interface ContactSpec {
  host: string;
  port: number;
  protocols: SipProtocol[];
}

/** Parse a drachtio-style contact. Throws on a malformed one (configuration error). */
export function parseContact(contact: string): ContactSpec {
  const m = /^(sips?):(?:[^@]*@)?(\[[0-9a-fA-F:.]+\]|[^;:]+)(?::(\d+))?(.*)$/i.exec(contact.trim());
  if (!m) throw new AppError('ENGINE_CONTACT_INVALID', contact);
  const secure = (m[1] as string).toLowerCase() === 'sips';
  const port = m[3] === undefined ? (secure ? 5061 : 5060) : Number(m[3]);
  const tm = /;transport=([a-z,]+)/i.exec(m[4] ?? '');
  const protocols = (tm ? (tm[1] as string).toLowerCase().split(',') : [secure ? 'tls' : 'udp']).filter((p) => p.length > 0);
  for (const p of protocols) if (p !== 'udp' && p !== 'tcp' && p !== 'tls') throw new AppError('ENGINE_CONTACT_INVALID', `unsupported transport ${p} in ${contact}`);
  if (secure && protocols.some((p) => p !== 'tls')) throw new AppError('ENGINE_CONTACT_INVALID', `a sips: contact carries tls only: ${contact}`);
  return { host: (m[2] as string).replace(/^\[|\]$/g, ''), port, protocols: protocols as SipProtocol[] };
}

interface TcpConn {
  protocol: 'tcp' | 'tls';
  socket: net.Socket;
  /** False while an outbound TLS handshake is pending (its failure fails the queued sends); true otherwise. */
  secured: boolean;
  /**
   * Failure callbacks of messages written while the connection was still being set up, called on its
   * first error (one 'error' listener for all of them, not one per message: a burst towards a slow
   * peer adds no listeners).
   */
  pendingFails: Set<(err: Error) => void>;
  framer: SipStreamFramer;
  local: ListenPoint;
  key: string;
  /** performance.now() of the last complete message received or sent. */
  lastActivity: number;
}

export class SipTransport {
  readonly #opts: SipTransportOptions;
  readonly #udp: Array<{ socket: dgram.Socket; point: ListenPoint }> = [];
  readonly #tcpServers: Array<{ server: net.Server; point: ListenPoint }> = [];
  readonly #tlsServers: Array<{ server: tls.Server; point: ListenPoint }> = [];
  readonly #conns = new Map<string, TcpConn>();
  readonly points: ListenPoint[] = [];
  #closed = false;
  /** TLS handshakes that failed or timed out (inbound and outbound), and plain connections dropped on a TLS port. */
  tlsHandshakeFailures = 0;
  #closedIdle = 0;
  #closedSlow = 0;
  #sweeper: NodeJS.Timeout | undefined;
  /** performance.now() of the last warning per kind (refusal reason, slow close): one a minute at most. */
  readonly #warnedAt = new Map<string, number>();

  constructor(opts: SipTransportOptions) {
    this.#opts = opts;
  }

  connectionStats(): ConnectionStats {
    const l = this.#opts.limits;
    return {
      connectionsOpen: l ? l.open : this.#conns.size,
      maxConnections: l ? l.maxConnections : 0,
      connectionsRefusedPerSource: l ? l.refused['per-source'] : 0,
      connectionsRefusedGlobal: l ? l.refused.global : 0,
      connectionsClosedIdle: this.#closedIdle,
      connectionsClosedSlow: this.#closedSlow,
    };
  }

  async start(): Promise<void> {
    const specs = this.#opts.contacts.map(parseContact);
    const tlsOpts = this.#opts.tls;
    if (specs.some((c) => c.protocols.includes('tls')) && !tlsOpts) {
      throw new AppError('ENGINE_CONTACT_INVALID', 'a tls contact needs a TLS key and certificate');
    }
    for (const c of specs) {
      let port = c.port;
      if (c.protocols.includes('tls') && tlsOpts) {
        // a contact listing tls with other transports puts TLS on the next port (5060 -> 5061)
        const only = c.protocols.length === 1;
        const tlsPort = await this.#listenTls(c.host, only || port === 0 ? port : port + 1, tlsOpts);
        if (only) port = tlsPort;
      }
      if (c.protocols.includes('tcp')) {
        port = await this.#listenTcp(c.host, port);
      }
      if (c.protocols.includes('udp')) {
        port = await this.#bindUdp(c.host, port);
      }
    }
    this.#startSweeper();
  }

  #startSweeper(): void {
    const idle = this.#opts.idleConnectionMs ?? IDLE_CONNECTION_MS;
    const deadline = this.#opts.messageDeadlineMs ?? MESSAGE_DEADLINE_MS;
    const shortest = Math.min(idle > 0 ? idle : Infinity, deadline > 0 ? deadline : Infinity);
    if (shortest === Infinity || this.#tcpServers.length + this.#tlsServers.length === 0) return;
    this.#sweeper = setInterval(() => this.#sweep(idle, deadline), Math.max(50, Math.min(1000, shortest / 4)));
    this.#sweeper.unref();
  }

  /** Close connections past the message deadline, and idle ones that carry no dialog or transaction. */
  #sweep(idleMs: number, deadlineMs: number): void {
    const now = performance.now();
    let inUse: ReadonlySet<string> | undefined;
    for (const conn of [...this.#conns.values()]) {
      if (conn.socket.destroyed) continue;
      const started = conn.framer.messageStartedAt;
      if (deadlineMs > 0 && started !== undefined && now - started >= deadlineMs) {
        this.#closedSlow++;
        this.#warnEveryMinute('slow', { remote: conn.key, deadlineMs, closedSlow: this.#closedSlow }, 'engine: closed a connection whose message was not complete by the deadline (slowloris)');
        conn.socket.destroy();
        continue;
      }
      if (idleMs > 0 && started === undefined && now - conn.lastActivity >= idleMs) {
        inUse ??= this.#opts.connectionsInUse?.() ?? new Set();
        if (inUse.has(conn.key)) continue;
        this.#closedIdle++;
        this.#opts.logger.debug({ remote: conn.key, idleMs }, 'engine: closed an idle connection that carries no dialog');
        conn.socket.destroy();
      }
    }
  }

  #warnEveryMinute(kind: string, fields: Record<string, unknown>, msg: string): void {
    const now = performance.now();
    const last = this.#warnedAt.get(kind);
    if (last !== undefined && now - last < 60_000) return;
    this.#warnedAt.set(kind, now);
    this.#opts.logger.warn(fields, msg);
  }

  /** An accepted socket (TCP, or TLS before its handshake): kept if the caps allow, else closed at once. */
  #admit(socket: net.Socket): boolean {
    const limits = this.#opts.limits;
    if (!limits) return true;
    const host = normalizeHost(socket.remoteAddress ?? '');
    const refused = limits.admitInbound(host);
    if (refused !== undefined) {
      this.#warnEveryMinute(`refused-${refused}`, {
        remote: host, reason: refused, open: limits.open, maxConnections: limits.maxConnections, maxPerSource: limits.maxPerSource,
        refused: limits.refused[refused],
      }, 'engine: connection refused at accept: connection limit reached');
      socket.resetAndDestroy();
      return false;
    }
    socket.once('close', () => limits.release(host));
    return true;
  }

  /** An outbound connection counts toward the global cap (never refused: calls in progress need it). */
  #countOutbound(socket: net.Socket, host: string): void {
    const limits = this.#opts.limits;
    if (!limits) return;
    limits.addOutbound(host);
    socket.once('close', () => limits.release(host));
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
        if (!this.#admit(socket)) return;
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

  #listenTls(host: string, port: number, settings: TlsSettings): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = tls.createServer({
        key: settings.key,
        cert: settings.cert,
        ca: settings.ca,
        handshakeTimeout: settings.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS,
      });
      // the caps apply before the handshake: a refused peer costs no TLS work
      server.on('connection', (socket: net.Socket) => this.#admit(socket));
      server.on('secureConnection', (socket) => {
        const point = this.#tlsServers.find((s) => s.server === server)?.point;
        if (point) this.#adopt(socket, point, tlsKey(normalizeHost(socket.remoteAddress ?? ''), socket.remotePort ?? 0), 'tls');
        else socket.destroy();
      });
      // a failed or timed-out handshake (including a plain TCP peer): count, log, drop; never throw
      server.on('tlsClientError', (err, socket) => {
        this.tlsHandshakeFailures++;
        this.#opts.logger.warn({ err: err.message, remote: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}` }, 'engine: inbound tls handshake failed');
        socket.destroy();
      });
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address() as net.AddressInfo;
        const point: ListenPoint = { protocol: 'tls', host, port: addr.port };
        server.on('error', (err) => this.#opts.logger.warn({ err }, 'tls server error'));
        this.#tlsServers.push({ server, point });
        this.points.push(point);
        resolve(addr.port);
      });
    });
  }

  /** Outbound TLS (RFC 3261 section 26.2.1): verify the peer, SNI = host name, bounded handshake. */
  #connectTls(host: string, port: number, serverName: string | undefined, settings: TlsSettings): tls.TLSSocket {
    const sni = serverName !== undefined && net.isIP(serverName) === 0 ? serverName : undefined;
    const socket = tls.connect({
      host,
      port,
      servername: sni,
      key: settings.key,
      cert: settings.cert,
      ca: settings.ca,
      rejectUnauthorized: settings.rejectUnauthorized ?? true,
    });
    const timeoutMs = settings.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(() => socket.destroy(new Error(`tls handshake timeout after ${timeoutMs} ms`)), timeoutMs);
    const onFail = (err: Error): void => {
      clearTimeout(timer);
      this.tlsHandshakeFailures++;
      this.#opts.logger.warn({ err: err.message, remote: `${host}:${port}`, servername: sni }, 'engine: outbound tls handshake failed');
    };
    socket.once('error', onFail);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onFail);
    });
    socket.once('close', () => clearTimeout(timer));
    return socket;
  }

  #adopt(socket: net.Socket, local: ListenPoint, key: string, protocol: 'tcp' | 'tls' = 'tcp'): TcpConn {
    const conn: TcpConn = {
      protocol, socket, secured: true, framer: new SipStreamFramer(this.#opts.maxMessageBytes), local, key, pendingFails: new Set(),
      lastActivity: performance.now(),
    };
    // the first error (a refused connection, a failed handshake, a reset after the first write) fails them all
    socket.on('error', (err) => {
      const fails = [...conn.pendingFails];
      conn.pendingFails.clear();
      for (const f of fails) f(err);
    });
    socket.once('close', () => conn.pendingFails.clear());
    this.#conns.set(key, conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const r = conn.framer.push(chunk);
      const source: MessageSource = {
        protocol,
        remoteHost: normalizeHost(socket.remoteAddress ?? ''),
        remotePort: socket.remotePort ?? 0,
        local,
      };
      for (let i = 0; i < r.pings; i++) socket.write('\r\n');
      if (r.messages.length > 0) conn.lastActivity = performance.now();
      for (const m of r.messages) this.#opts.onMessage(m, source);
      if (r.error) {
        this.#opts.onTooLarge(source, r.error.head, r.error.reason);
        socket.end();
      }
    });
    socket.on('error', (err) => this.#opts.logger.debug({ err, key }, `${protocol} connection error`));
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
   * Send a message. For TCP/TLS an existing connection to host:port is reused, else one is opened
   * (TLS: `serverName` is the SNI and the name checked against the certificate, when it is a host
   * name). With `reconnect`, host:port is used only while a connection to it is open (a flow the
   * peer opened); otherwise the message goes to `reconnect`. `onError` is called (at most once) if
   * the message cannot be delivered.
   */
  send(
    protocol: SipProtocol,
    host: string,
    port: number,
    data: string,
    onError?: (err: Error) => void,
    serverName?: string,
    reconnect?: { host: string; port: number },
  ): void {
    if (this.#closed) return;
    if (reconnect !== undefined && protocol !== 'udp' && !this.isConnected(protocol, host, port)) {
      host = reconnect.host;
      port = reconnect.port;
    }
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
    const key = protocol === 'tls' ? tlsKey(host, port) : `${host}:${port}`;
    let conn = this.#conns.get(key);
    if (!conn || conn.socket.destroyed) {
      const local = this.pointFor(protocol);
      if (!local) {
        onError?.(new Error(`no ${protocol} transport`));
        return;
      }
      if (protocol === 'tls') {
        const settings = this.#opts.tls;
        if (!settings) {
          onError?.(new Error('no tls settings'));
          return;
        }
        const socket = this.#connectTls(host, port, serverName, settings);
        this.#countOutbound(socket, host);
        const c = this.#adopt(socket, local, key, 'tls');
        c.secured = false;
        socket.once('secureConnect', () => (c.secured = true));
        conn = c;
      } else {
        const socket = net.connect({ host, port });
        this.#countOutbound(socket, host);
        conn = this.#adopt(socket, local, key);
      }
    }
    const socket = conn.socket;
    conn.lastActivity = performance.now();
    let reported = false;
    const fail = (err: Error): void => {
      if (reported) return;
      reported = true;
      onError?.(err);
    };
    if (socket.connecting || !conn.secured) conn.pendingFails.add(fail);
    socket.write(data, (err) => {
      if (err) fail(err);
    });
  }

  /** Is a TCP/TLS connection to host:port open (inbound or outbound)? */
  isConnected(protocol: 'tcp' | 'tls', host: string, port: number): boolean {
    const conn = this.#conns.get(protocol === 'tls' ? tlsKey(host, port) : `${host}:${port}`);
    return conn !== undefined && !conn.socket.destroyed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const c of this.#conns.values()) c.socket.destroy();
    this.#conns.clear();
    await Promise.all([
      ...this.#udp.map((u) => new Promise<void>((r) => u.socket.close(() => r()))),
      ...this.#tcpServers.map((s) => new Promise<void>((r) => s.server.close(() => r()))),
      ...this.#tlsServers.map((s) => new Promise<void>((r) => s.server.close(() => r()))),
    ]);
  }
}

/** TLS connections live in the same map as TCP ones under a distinct key. */
function tlsKey(host: string, port: number): string {
  return `tls|${host}:${port}`;
}

function normalizeHost(h: string): string {
  return h.startsWith('::ffff:') ? h.slice(7) : h;
}
