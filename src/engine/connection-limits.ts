/**
 * Connection policy of the engine's stream transports (TCP and TLS, RFC 3261 section 18.3): who may
 * open a connection, and how many the process can afford.
 *
 * Every connection costs one file descriptor, and so does every RTP/RTCP socket of the media plane.
 * A host that opens connections without limit exhausts the descriptors, and calls then fail when
 * their RTP sockets cannot bind. So the number of open connections is bounded:
 *
 *   - per source address (any port): `maxPerSource`, default 50 (Kamailio's tcp_max_connections is
 *     global only; an SBC's per-IP cap is the usual answer to one host filling it). Privileged
 *     sources (trunks, trusted sources: the engine's `privilegedSource` option) are exempt;
 *   - globally: `maxConnections`, by default what the file-descriptor budget leaves after the media
 *     plane's sockets and a fixed reserve (`connectionBudget`). The last `privilegedReserve`
 *     connections (default a tenth of the cap) are kept for privileged sources, so a flood from
 *     anywhere else cannot lock the carrier out.
 *
 * A connection over a limit is closed at accept and counted by reason. Outbound connections (the
 * engine dials them for requests of calls in progress) are counted in the total but never refused.
 * The class is pure bookkeeping: no I/O, no timers, never throws on an address.
 */

export type ConnectionRefusal = 'per-source' | 'global';

export interface ConnectionLimitOptions {
  /** Open connections at most, inbound and outbound (> 0). */
  maxConnections: number;
  /** Inbound connections at most from one address (any port) that is not privileged; 0 = no per-source cap. */
  maxPerSource: number;
  /** Connections under `maxConnections` that only privileged sources may use (default maxConnections / 10). */
  privilegedReserve?: number;
  /** Is this address a trunk or a trusted source? Must be cheap and never throw (default: none is). */
  isPrivileged?: (host: string) => boolean;
}

/** Default per-source cap (sip.maxConnectionsPerSource). */
export const DEFAULT_MAX_CONNECTIONS_PER_SOURCE = 50;
/** File descriptors kept out of the connection budget for the process itself: logs, files, app links, listeners. */
export const BASE_FD_RESERVE = 256;
/** Floor of a budget-derived connection cap, so a tiny descriptor limit still leaves signalling working. */
export const MIN_CONNECTIONS = 64;
/** Descriptor limit assumed where /proc/self/limits cannot be read (a common `ulimit -n` default). */
export const DEFAULT_FD_LIMIT = 1024;

export class ConnectionLimits {
  readonly maxConnections: number;
  readonly maxPerSource: number;
  readonly privilegedReserve: number;
  readonly #isPrivileged: (host: string) => boolean;
  readonly #perSource = new Map<string, number>();
  #open = 0;
  readonly refused: Record<ConnectionRefusal, number> = { 'per-source': 0, global: 0 };

  constructor(o: ConnectionLimitOptions) {
    this.maxConnections = Math.max(1, Math.floor(o.maxConnections));
    this.maxPerSource = Math.max(0, Math.floor(o.maxPerSource));
    this.privilegedReserve = Math.min(this.maxConnections - 1, Math.max(0, Math.floor(o.privilegedReserve ?? this.maxConnections / 10)));
    this.#isPrivileged = o.isPrivileged ?? (() => false);
  }

  /** Connections open now (inbound and outbound). */
  get open(): number {
    return this.#open;
  }

  /**
   * May an inbound connection from `host` be kept? Returns the refusal reason (counted), or
   * undefined after counting the connection as open: call `release(host)` when it closes.
   */
  admitInbound(host: string): ConnectionRefusal | undefined {
    const privileged = this.#privileged(host);
    const cap = privileged ? this.maxConnections : this.maxConnections - this.privilegedReserve;
    if (this.#open >= cap) return this.#refuse('global');
    if (!privileged && this.maxPerSource > 0 && (this.#perSource.get(host) ?? 0) >= this.maxPerSource) return this.#refuse('per-source');
    this.#add(host);
    return undefined;
  }

  /** An outbound connection: counted, never refused. Call `release(host)` when it closes. */
  addOutbound(host: string): void {
    this.#add(host);
  }

  release(host: string): void {
    if (this.#open > 0) this.#open--;
    const n = this.#perSource.get(host) ?? 0;
    if (n <= 1) this.#perSource.delete(host);
    else this.#perSource.set(host, n - 1);
  }

  #add(host: string): void {
    this.#open++;
    this.#perSource.set(host, (this.#perSource.get(host) ?? 0) + 1);
  }

  #refuse(reason: ConnectionRefusal): ConnectionRefusal {
    this.refused[reason]++;
    return reason;
  }

  #privileged(host: string): boolean {
    try {
      return this.#isPrivileged(host);
    } catch {
      return false;
    }
  }
}

/**
 * The connection cap the file-descriptor budget allows: the descriptor limit minus the descriptors
 * kept for other uses (the media plane's RTP/RTCP sockets, one per port of its ranges) and
 * `BASE_FD_RESERVE`, never under `MIN_CONNECTIONS`.
 */
export function connectionBudget(fdLimit: number, reservedFds: number): number {
  return Math.max(MIN_CONNECTIONS, Math.floor(fdLimit - reservedFds - BASE_FD_RESERVE));
}

/**
 * The soft RLIMIT_NOFILE ("Max open files" in /proc/self/limits, what `ulimit -n` set; Node has no
 * getrlimit). `text` is that file's content, undefined where it could not be read (not Linux):
 * then DEFAULT_FD_LIMIT. "unlimited" counts as 1,048,576 (Linux's default nr_open). Never throws.
 */
export function parseFdLimit(text: string | undefined): number {
  const m = text === undefined ? null : /^Max open files\s+(\S+)/m.exec(text);
  if (!m) return DEFAULT_FD_LIMIT;
  if (m[1] === 'unlimited') return 1_048_576;
  const n = Number(m[1]);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_FD_LIMIT;
}
