/**
 * RTP endpoints on the native batched socket I/O (native/udp-batch, docs/media.md "Batched socket
 * I/O"): the same RtpEndpoint interface as the node:dgram endpoints (udp-endpoint.ts), with
 *
 * - receive: one epoll set per thread (one per media worker) holds every socket of the thread; a
 *   wake reads the ready sockets into a receive arena (through the set's io_uring, every socket's
 *   reads in one system call, or with recvmmsg per socket) and calls `onBatch` once; each
 *   datagram reaches its endpoint's onRtp/onRtcp as a view of the arena, valid only during that
 *   call (whoever keeps a packet copies it: the fork start buffer does);
 * - send: sendRtp/sendRtcp copy the datagram into a send arena (so the caller's buffer is free at
 *   once, exactly as after dgram's synchronous send: scratch-ring slots and tone buffers may be
 *   reused at once) and queue it; the queue is written at the end of the receive batch, or, for
 *   sends made outside a batch (timers, commands), once at the end of the loop turn (setImmediate):
 *   through the set's io_uring, every socket's datagrams in one system call, or, without a ring,
 *   with sendmmsg, one call per socket;
 * - receive times: an endpoint opened with `receiveTimes` has the kernel stamp each datagram
 *   (SO_TIMESTAMPNS); `receiveAgeMs` then says how long the datagram being delivered waited, so a
 *   thread that was starved and reads a burst late still knows when each packet arrived.
 *
 * Send failures (send buffer full, an ICMP error for an earlier datagram: IP_RECVERR) are counted
 * in `sendErrors`, never thrown. Destinations must be IP literals (SDP gives literals; a host name
 * is counted as a send error).
 */
import { createRequire } from 'node:module';
import type { DatagramHandler, RtpEndpoint, RtpEndpointFactory, RtpEndpointOptions } from './udp-endpoint.js';

/** The addon's API (native/udp-batch/udp-batch.cc). */
interface UdpBatchAddon {
  readonly recvStride: number;
  readonly sendStride: number;
  createSet(
    recvArena: Uint8Array,
    slotSize: number,
    recvMeta: Int32Array,
    sendArena: Uint8Array,
    sendMeta: Int32Array,
    failures: Int32Array,
    scratch: Int32Array,
    onBatch: (count: number, failures: number) => void,
    ioUring: boolean,
  ): object;
  openSocket(set: object, address: string, port: number, bufferBytes: number, receiveTimes: boolean): number;
  localPort(set: object, index: number): number;
  closeSocket(set: object, index: number): void;
  flush(set: object, count: number): number;
  parseAddress(set: object, text: string): number;
  formatAddress(family: number, a0: number, a1: number, a2: number, a3: number): string;
  closeSet(set: object): void;
  ioUringError(set: object): string;
}

/** Where the build puts the addon, relative to this file (src/ or dist/ are equally deep). */
const ADDON_PATH = '../../../build/Release/udp_batch.node';

let loaded: { addon: UdpBatchAddon } | { error: Error } | undefined;

function load(): { addon: UdpBatchAddon } | { error: Error } {
  if (loaded === undefined) {
    try {
      const addon = createRequire(import.meta.url)(ADDON_PATH) as UdpBatchAddon;
      loaded = typeof addon.createSet === 'function' ? { addon } : { error: new Error('udp-batch addon has no createSet (built for another platform?)') };
    } catch (err) {
      loaded = { error: err instanceof Error ? err : new Error(String(err)) };
    }
  }
  return loaded;
}

/** Why the native socket I/O cannot be used (the addon did not load), or undefined when it can. */
export function nativeSocketIoError(): Error | undefined {
  const l = load();
  return 'error' in l ? l.error : undefined;
}

/** Datagrams one wake reads at most (all sockets together); more wait for the next loop turn. */
const RECV_SLOTS = 256;
/** Bytes per receive slot: an RTP/RTCP datagram on a 1500-byte MTU fits; larger ones are dropped (counted). */
const SLOT_SIZE = 2048;
/** Datagrams queued before a flush is forced. */
const SEND_MAX = 1024;
/** Bytes of queued datagrams before a flush is forced (each takes its length rounded up to 8). */
const SEND_ARENA_BYTES = 256 * 1024;
/** Largest datagram sendRtp/sendRtcp take (IPv4 UDP payload limit). */
const MAX_DATAGRAM = 65507;
/** Socket receive and send buffers, as the dgram endpoints ask for. */
const SOCKET_BUFFER_BYTES = 1 << 18;
/** Receive-side source-address cache (IPv4 number -> text) is emptied when it grows past this. */
const V4_CACHE_MAX = 4096;
const noop: DatagramHandler = () => {};

/** The last destination of one socket, parsed once (sends to the same peer reuse it). */
class Destination {
  address: string | undefined = undefined;
  port = 0;
  family = 0;
  a0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
}

/** A socket of the set: its endpoint, kind, and the last source address seen (text cached). */
interface SocketSlot {
  endpoint: BatchRtpEndpoint;
  rtcp: boolean;
  srcFamily: number;
  srcA0: number;
  srcA1: number;
  srcA2: number;
  srcA3: number;
  srcText: string;
}

/** Counters of one thread's socket set (tests, diagnostics). */
export interface BatchSocketStats {
  /** Receive wakes that delivered at least one datagram or error. */
  batches: number;
  /** Datagrams delivered to endpoints. */
  received: number;
  /** Datagrams larger than a receive slot (dropped). */
  truncated: number;
  /** Flushes (each one io_uring_enter per 256 datagrams, or one sendmmsg per socket it touched). */
  flushes: number;
  /** Datagrams handed to the kernel queue by the flushes (including failed ones). */
  queued: number;
}

/**
 * One thread's socket set: the native set, its arenas, and the socket index -> endpoint table.
 * Created on the first open; lives as long as the thread (closed by the addon when the thread's
 * environment goes away).
 */
class BatchSocketSet {
  readonly #addon: UdpBatchAddon;
  readonly #set: object;
  readonly #rs: number;
  readonly #ss: number;
  readonly #recvArena = Buffer.allocUnsafeSlow(RECV_SLOTS * SLOT_SIZE);
  /**
   * The view handed out for each receive slot, kept while the slot's datagrams keep its length (a
   * stream's packets usually do): a steady stream allocates no view per packet. Handing out the
   * same view again is safe because a view is valid only during its handler call anyway.
   */
  readonly #views: Array<Buffer | undefined> = new Array<Buffer | undefined>(RECV_SLOTS).fill(undefined);
  readonly #recvMeta: Int32Array;
  readonly #sendArena = Buffer.allocUnsafeSlow(SEND_ARENA_BYTES);
  readonly #sendMeta: Int32Array;
  readonly #failures = new Int32Array(1024);
  readonly #scratch = new Int32Array(5);
  readonly #sockets: Array<SocketSlot | undefined> = [];
  readonly #v4Text = new Map<number, string>();
  #sendCount = 0;
  #sendOffset = 0;
  #inBatch = false;
  #flushScheduled = false;
  readonly stats: BatchSocketStats = { batches: 0, received: 0, truncated: 0, flushes: 0, queued: 0 };
  /** The receive age of the datagram being delivered (ms; 0 outside a delivery or when unknown). */
  receiveAgeMs = 0;

  constructor(addon: UdpBatchAddon, ioUring: boolean) {
    this.#addon = addon;
    this.#rs = addon.recvStride;
    this.#ss = addon.sendStride;
    this.#recvMeta = new Int32Array(RECV_SLOTS * this.#rs);
    this.#sendMeta = new Int32Array(SEND_MAX * this.#ss);
    this.#set = addon.createSet(this.#recvArena, SLOT_SIZE, this.#recvMeta, this.#sendArena, this.#sendMeta, this.#failures, this.#scratch, (count, failures) =>
      this.#onBatch(count, failures),
      ioUring,
    );
  }

  /** Binds one socket (throws dgram-like system errors: `code` EADDRINUSE, EACCES, ...). */
  openSocket(address: string, port: number, receiveTimes: boolean): number {
    return this.#addon.openSocket(this.#set, address, port, SOCKET_BUFFER_BYTES, receiveTimes);
  }

  /** '' when the set reads and sends through its io_uring, 'off' when not asked to, else why the kernel refused it. */
  ioUringError(): string {
    return this.#addon.ioUringError(this.#set);
  }

  attach(index: number, endpoint: BatchRtpEndpoint, rtcp: boolean): void {
    this.#sockets[index] = { endpoint, rtcp, srcFamily: 0, srcA0: 0, srcA1: 0, srcA2: 0, srcA3: 0, srcText: '' };
  }

  localPort(index: number): number {
    return this.#addon.localPort(this.#set, index);
  }

  closeSocket(index: number): void {
    // what is queued goes out first: a socket index is reused by the next open
    if (this.#sendCount > 0) this.flush();
    this.#sockets[index] = undefined;
    this.#addon.closeSocket(this.#set, index);
  }

  /** Queue one datagram (copied now) to `address`:`port` on socket `index`. */
  send(endpoint: BatchRtpEndpoint, index: number, dest: Destination, buf: Uint8Array, length: number, port: number, address: string): void {
    if (!(length >= 0 && length <= buf.length && length <= MAX_DATAGRAM)) {
      endpoint.sendErrors++;
      return;
    }
    if (address !== dest.address || port !== dest.port) {
      const family = port > 0 && port < 65536 ? this.#addon.parseAddress(this.#set, address) : 0;
      if (family === 0) {
        endpoint.sendErrors++;
        return;
      }
      const s = this.#scratch;
      dest.address = address;
      dest.port = port;
      dest.family = family;
      dest.a0 = s[1]!;
      dest.a1 = s[2]!;
      dest.a2 = s[3]!;
      dest.a3 = s[4]!;
    }
    const room = (length + 7) & ~7;
    if (this.#sendCount === SEND_MAX || this.#sendOffset + room > SEND_ARENA_BYTES) this.flush();
    const m = this.#sendCount * this.#ss;
    const meta = this.#sendMeta;
    meta[m] = index;
    meta[m + 1] = port;
    meta[m + 2] = dest.family;
    meta[m + 3] = dest.a0;
    meta[m + 4] = dest.a1;
    meta[m + 5] = dest.a2;
    meta[m + 6] = dest.a3;
    meta[m + 7] = this.#sendOffset;
    meta[m + 8] = length;
    this.#sendArena.set(length === buf.length ? buf : buf.subarray(0, length), this.#sendOffset);
    this.#sendOffset += room;
    this.#sendCount++;
    if (!this.#inBatch && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flushTick);
    }
  }

  readonly #flushTick = (): void => {
    this.#flushScheduled = false;
    if (this.#sendCount > 0) this.flush();
  };

  /** Write everything queued; count the failures on their endpoints. */
  flush(): void {
    const count = this.#sendCount;
    this.#sendCount = 0;
    this.#sendOffset = 0;
    if (count === 0) return;
    this.stats.flushes++;
    this.stats.queued += count;
    const failed = this.#addon.flush(this.#set, count);
    if (failed > 0) this.#countFailures(failed);
  }

  #countFailures(n: number): void {
    for (let i = 0; i < n; i++) {
      const slot = this.#sockets[this.#failures[i]!];
      if (slot !== undefined) slot.endpoint.sendErrors++;
    }
  }

  /** One wake: `count` datagrams in the arena, `failures` ICMP errors for earlier sends. */
  #onBatch(count: number, failures: number): void {
    this.stats.batches++;
    if (failures > 0) this.#countFailures(failures);
    this.#inBatch = true;
    let thrown: unknown;
    const meta = this.#recvMeta;
    const rs = this.#rs;
    try {
      for (let i = 0; i < count; i++) {
        const m = i * rs;
        const length = meta[m + 7]!;
        if (length < 0) {
          this.stats.truncated++;
          continue;
        }
        const slot = this.#sockets[meta[m]!];
        if (slot === undefined) continue; // closed earlier in this batch
        const address = this.#source(slot, m);
        const slotIndex = meta[m + 9]!;
        let buf = this.#views[slotIndex];
        if (buf === undefined || buf.length !== length) {
          const start = slotIndex * SLOT_SIZE;
          buf = this.#recvArena.subarray(start, start + length);
          this.#views[slotIndex] = buf;
        }
        this.stats.received++;
        const age = meta[m + 8]!;
        this.receiveAgeMs = age > 0 ? age / 1000 : 0;
        try {
          if (slot.rtcp) slot.endpoint.onRtcp(buf, address, meta[m + 1]!);
          else slot.endpoint.onRtp(buf, address, meta[m + 1]!);
        } catch (err) {
          // one throwing handler does not stop the batch; the first error is rethrown after it
          // (an uncaught exception, as a throwing dgram 'message' listener would be)
          thrown ??= err;
        }
      }
    } finally {
      this.#inBatch = false;
      this.receiveAgeMs = 0;
      this.flush();
    }
    if (thrown !== undefined) throw thrown;
  }

  /** The source address text of receive record `m`, from the socket's last-source cache when it matches. */
  #source(slot: SocketSlot, m: number): string {
    const meta = this.#recvMeta;
    const family = meta[m + 2]!;
    const a0 = meta[m + 3]!;
    if (family === slot.srcFamily && a0 === slot.srcA0 && (family === 4 || (meta[m + 4] === slot.srcA1 && meta[m + 5] === slot.srcA2 && meta[m + 6] === slot.srcA3))) {
      return slot.srcText;
    }
    let text: string;
    if (family === 4) {
      let cached = this.#v4Text.get(a0);
      if (cached === undefined) {
        cached = `${a0 >>> 24}.${(a0 >>> 16) & 255}.${(a0 >>> 8) & 255}.${a0 & 255}`;
        if (this.#v4Text.size >= V4_CACHE_MAX) this.#v4Text.clear();
        this.#v4Text.set(a0, cached);
      }
      text = cached;
    } else {
      text = this.#addon.formatAddress(family, a0, meta[m + 4]!, meta[m + 5]!, meta[m + 6]!);
    }
    slot.srcFamily = family;
    slot.srcA0 = a0;
    slot.srcA1 = meta[m + 4]!;
    slot.srcA2 = meta[m + 5]!;
    slot.srcA3 = meta[m + 6]!;
    slot.srcText = text;
    return text;
  }
}

class BatchRtpEndpoint implements RtpEndpoint {
  onRtp: DatagramHandler = noop;
  onRtcp: DatagramHandler = noop;
  /** A send copies the datagram into the send arena. */
  readonly copiesOnSend = true;
  sendErrors = 0;
  readonly #set: BatchSocketSet;
  readonly #rtpIndex: number;
  readonly #rtcpIndex: number;
  readonly #rtpDest = new Destination();
  readonly #rtcpDest = new Destination();
  #closed = false;

  constructor(
    readonly address: string,
    readonly rtpPort: number,
    readonly rtcpPort: number,
    set: BatchSocketSet,
    rtpIndex: number,
    rtcpIndex: number,
  ) {
    this.#set = set;
    this.#rtpIndex = rtpIndex;
    this.#rtcpIndex = rtcpIndex;
    set.attach(rtpIndex, this, false);
    set.attach(rtcpIndex, this, true);
  }

  sendRtp(buf: Uint8Array, length: number, port: number, address: string): void {
    if (this.#closed) return;
    this.#set.send(this, this.#rtpIndex, this.#rtpDest, buf, length, port, address);
  }

  sendRtcp(buf: Uint8Array, length: number, port: number, address: string): void {
    if (this.#closed) return;
    this.#set.send(this, this.#rtcpIndex, this.#rtcpDest, buf, length, port, address);
  }

  get receiveAgeMs(): number {
    return this.#set.receiveAgeMs;
  }

  /** Always 0: a send copies the datagram into the send arena, so the caller's buffer is free at once. */
  rtpSendQueueCount(): number {
    return 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onRtp = noop;
    this.onRtcp = noop;
    this.#set.closeSocket(this.#rtpIndex);
    this.#set.closeSocket(this.#rtcpIndex);
  }
}

/** This thread's socket sets: the one asked for an io_uring and the one without (a worker uses one). */
const threadSets = new Map<boolean, BatchSocketSet>();
let ioUringWanted = true;

/**
 * Whether this thread's next endpoints go in the socket set that reads and sends through an
 * io_uring (media.ioUring; docs/media.md "Batched socket I/O") or the one that uses recvmmsg and
 * sendmmsg. A media worker sets it once, before its first open.
 */
export function setBatchIoUring(wanted: boolean): void {
  ioUringWanted = wanted;
}

/**
 * Creates this thread's socket set when there is none, and says how it reads and sends: '' through
 * an io_uring, 'off' when not asked to, else the error code that refused the ring (ENOSYS, EPERM, ...).
 */
export function batchIoUringState(): string {
  return socketSet().ioUringError();
}

function socketSet(): BatchSocketSet {
  let set = threadSets.get(ioUringWanted);
  if (set === undefined) {
    const l = load();
    if ('error' in l) throw l.error;
    set = new BatchSocketSet(l.addon, ioUringWanted);
    threadSets.set(ioUringWanted, set);
  }
  return set;
}

/** The batch counters of this thread's current socket set (undefined before its first native endpoint opened). */
export function batchSocketStats(): BatchSocketStats | undefined {
  return threadSets.get(ioUringWanted)?.stats;
}

/**
 * The native factory: binds RTP on `rtpPort` and RTCP on `rtpPort + 1` of `address` (IPv4 or IPv6
 * literal; SO_REUSEADDR off), in this thread's socket set. Bind errors reject with the system
 * error (`code` EADDRINUSE, ...) as the dgram factory's do. Port 0 binds an ephemeral port pair
 * (tests): the endpoint reports the ports it got.
 */
export const batchUdpEndpointFactory: RtpEndpointFactory = {
  async open(address: string, rtpPort: number, options?: RtpEndpointOptions): Promise<RtpEndpoint> {
    const set = socketSet();
    const receiveTimes = options?.receiveTimes === true;
    const rtp = set.openSocket(address, rtpPort, receiveTimes);
    let rtcp: number;
    try {
      rtcp = set.openSocket(address, rtpPort === 0 ? 0 : rtpPort + 1, receiveTimes);
    } catch (err) {
      set.closeSocket(rtp);
      throw err;
    }
    const port = rtpPort === 0 ? set.localPort(rtp) : rtpPort;
    const rtcpPort = rtpPort === 0 ? set.localPort(rtcp) : rtpPort + 1;
    return new BatchRtpEndpoint(address, port, rtcpPort, set, rtp, rtcp);
  },
};
