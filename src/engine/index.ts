/**
 * The embedded SIP engine: speaks drachtio-server's app protocol to drachtio-srf apps and SIP
 * (UDP/TCP/TLS) to the network. An unmodified srf app connects with
 * `srf.connect({ host, port, secret })` exactly as to drachtio-server.
 */
import { systemClock, systemTimers, type Clock, type Timers } from '../common/clock.js';
import { AppError, isAppError } from '../common/errors.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { AppServer } from './app-server.js';
import { EngineCore } from './engine-core.js';
import type { EngineCounters } from './engine-context.js';
import type { NatFlowPolicy } from './nat-flow.js';
import type { RequestGate } from './request-gate.js';
import { readFileSync } from 'node:fs';
import { ConnectionLimits, DEFAULT_MAX_CONNECTIONS_PER_SOURCE, connectionBudget, parseFdLimit } from './connection-limits.js';
import { SipTransport, type ConnectionStats, type SipProtocol, type TlsSettings } from './sip-transport.js';

export type { TlsSettings } from './sip-transport.js';
export type { Flow, NatFlowMode, NatFlowPolicy } from './nat-flow.js';
export type { GatedRequest, RequestGate, RequestGateDecision } from './request-gate.js';

export interface EngineOptions {
  /** SIP listen points, like drachtio-server's <contact>/--contact: e.g. 'sip:127.0.0.1:5060;transport=udp,tcp'.
   *  Port 0 is allowed: TCP binds first and UDP then shares the chosen port.
   *  TLS (RFC 3261 section 26.2): 'sips:127.0.0.1:5061' or 'sip:127.0.0.1:5061;transport=tls' (needs `tls`);
   *  a contact listing tls with udp/tcp puts TLS on port + 1. */
  sipContacts: string[];
  /** Key, certificate, CAs and peer verification for TLS contacts and outbound TLS (default: no TLS;
   *  requests to sips: or ;transport=tls URIs then get `NOK|requested protocol/transport not available`).
   *  `rejectUnauthorized` defaults to true, `handshakeTimeoutMs` to 5000. */
  tls?: TlsSettings;
  /** App-protocol (admin) listener. Defaults 127.0.0.1 and 9022; port 0 = ephemeral. */
  adminHost?: string;
  adminPort?: number;
  /** Shared secret apps authenticate with. */
  secret: string;
  logger?: Logger; // default: silent
  /** RFC 3261 timer base values in ms (defaults T1 500, T2 4000, T4 5000); tests may shrink them. */
  t1?: number;
  t2?: number;
  t4?: number;
  /** Largest SIP message accepted, bytes (default 65535; larger UDP datagrams are dropped and counted, TCP gets 513). */
  maxMessageBytes?: number;
  /** RFC 4028 Min-SE in seconds (default 90): smaller Session-Expires get 422. */
  minSessionExpires?: number;
  /** Outbound mode (optional): like drachtio's `<request-handler>tcp://host:port`, the engine dials an app that
   *  called `srf.listen()` for every new request that no connected app routed. */
  requestHandler?: string;
  /**
   * NAT traversal of in-dialog requests (nat-flow.ts): called once per dialog with the flow its
   * peer used (UAS: the INVITE's source; UAC: the 2xx's source), it returns 'flow' (send BYE,
   * re-INVITE, INFO, ... and the ACK for a 2xx to that source address:port over UDP, or on the
   * peer's connection over TCP/TLS while it is open; the Request-URI stays the Contact), 'detect'
   * (drachtio-server's NAT detection) or 'contact' (RFC 3261: the Contact or first route; like
   * drachtio-server's --disable-nat-detection). Default: 'detect' for every peer, as drachtio-server.
   * Responses go to the request's source (forced rport) whatever it returns.
   */
  natFlow?: NatFlowPolicy;
  /**
   * Access policy for requests from the network (request-gate.ts): asked about every request that
   * matches no transaction; 'drop' = silence, 'reject' = one stateless response no larger than the
   * request. Default: every request allowed, as drachtio-server.
   */
  requestGate?: RequestGate;
  /**
   * TCP/TLS connections at most, inbound and outbound (connection-limits.ts). Default 0: what the
   * file-descriptor budget allows, RLIMIT_NOFILE (from /proc/self/limits; 1024 where unreadable)
   * minus `reservedFds` minus 256, at least 64. Over it, inbound connections are closed at accept.
   */
  maxConnections?: number;
  /** Descriptors the connection budget leaves to others, e.g. the media plane's RTP/RTCP sockets (default 0). */
  reservedFds?: number;
  /** Inbound connections at most from one address that is not privileged (default 50; 0 = no cap). */
  maxConnectionsPerSource?: number;
  /** Connections of the global cap only privileged sources may use (default a tenth of it). */
  privilegedConnections?: number;
  /** Is this address a trunk or trusted source (exempt from the per-source cap, may use the reserve)? Cheap, never throws. Default: none. */
  privilegedSource?: (host: string) => boolean;
  /** A connection without dialog or transaction is closed after this long without a complete message, ms (default 32000; 0 = never). */
  idleConnectionMs?: number;
  /** A stream message must be complete this long after its first byte or its connection is closed, ms (default 10000; 0 = none). */
  messageDeadlineMs?: number;
  /** Injected time (default: system clock and timers). */
  clock?: Clock;
  timers?: Timers;
}

/** The engine's counters, with the stream connections' figures (sip-transport.ts ConnectionStats). */
export interface EngineStats extends ConnectionStats, EngineCounters {
  activeServerTransactions: number;
  activeClientTransactions: number;
  activeDialogs: number;
  connectedApps: number;
  /** TLS handshakes that failed or timed out, inbound (including plain TCP on a TLS port) and outbound. */
  tlsHandshakeFailures: number;
}

export interface Engine {
  readonly adminAddress: { host: string; port: number };
  readonly sipEndpoints: ReadonlyArray<{ protocol: SipProtocol; host: string; port: number }>;
  stats(): EngineStats;
  /** Idempotent: closes app connections, SIP sockets, and clears every timer. */
  close(): Promise<void>;
}

export async function startEngine(options: EngineOptions): Promise<Engine> {
  const logger = options.logger ?? silentLogger;
  const maxMessageBytes = options.maxMessageBytes ?? 65535;
  // eslint-disable-next-line prefer-const
  let core: EngineCore;
  const transport = new SipTransport({
    contacts: options.sipContacts,
    tls: options.tls,
    maxMessageBytes,
    logger,
    onMessage: (data, source) => core.onSipData(data, source),
    limits: new ConnectionLimits({
      maxConnections: options.maxConnections !== undefined && options.maxConnections > 0
        ? options.maxConnections
        : connectionBudget(parseFdLimit(readProcLimits()), options.reservedFds ?? 0),
      maxPerSource: options.maxConnectionsPerSource ?? DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
      privilegedReserve: options.privilegedConnections,
      isPrivileged: options.privilegedSource,
    }),
    idleConnectionMs: options.idleConnectionMs,
    messageDeadlineMs: options.messageDeadlineMs,
    connectionsInUse: () => core.connectionsInUse(),
    onTooLarge: (source, head, reason) => {
      try {
        core.onTooLarge(source, head, reason);
      } catch (err) {
        logger.error({ err }, 'engine: error handling an oversized message');
      }
    },
  });
  const apps = new AppServer({
    host: options.adminHost ?? '127.0.0.1',
    port: options.adminPort ?? 9022,
    secret: options.secret,
    logger,
    hostports: () => transport.points.map((p) => `${p.protocol}/${p.host}:${p.port}`).join(','),
    onSipMessage: (app, msgId, tokens, sip) => core.onAppSip(app, msgId, tokens, sip),
    onDisconnect: (app) => core.onAppDisconnect(app),
  });
  core = new EngineCore({
    transport,
    apps,
    logger,
    timers: options.timers ?? systemTimers,
    clock: options.clock ?? systemClock,
    t1: options.t1 ?? 500,
    t2: options.t2 ?? 4000,
    t4: options.t4 ?? 5000,
    minSessionExpires: options.minSessionExpires,
    requestHandler: parseRequestHandler(options.requestHandler),
    natFlow: options.natFlow,
    requestGate: options.requestGate,
  });
  try {
    await transport.start();
    await apps.listen();
  } catch (err) {
    core.close();
    await transport.close();
    await apps.close();
    if (isAppError(err)) throw err;
    throw new AppError('ENGINE_LISTEN_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
  }
  logger.info({ sip: transport.points, admin: apps.address }, 'engine: started');
  let closing: Promise<void> | undefined;
  return {
    adminAddress: apps.address,
    sipEndpoints: transport.points,
    stats: () => ({
      ...core.counters,
      activeServerTransactions: core.activeServerTransactions,
      activeClientTransactions: core.activeClientTransactions,
      activeDialogs: core.activeDialogs,
      connectedApps: apps.connectedApps,
      tlsHandshakeFailures: transport.tlsHandshakeFailures,
      ...transport.connectionStats(),
    }),
    close: () => {
      closing ??= (async () => {
        core.close();
        await apps.close();
        await transport.close();
        logger.info('engine: closed');
      })();
      return closing;
    },
  };
}

/** /proc/self/limits (Linux), undefined elsewhere. */
function readProcLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

function parseRequestHandler(url: string | undefined): { host: string; port: number } | undefined {
  if (url === undefined) return undefined;
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(url.trim());
  if (!m) throw new AppError('CONFIG_INVALID', `requestHandler must look like tcp://host:port, got ${url}`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
