/**
 * The media benchmark's load generator: a separate process (child of bench/media-bench.ts, talking
 * over IPC). Per recorded call it plays the two parties (sockets A and B, each sending one 20 ms
 * G.711-sized packet every 20 ms) and the recording server (sockets F1, F2 receiving the forks).
 * Every payload carries (call, direction, counter, send time), so any socket can attribute a packet
 * and measure its latency through the relay under test. Packets are spread evenly over the 20 ms
 * period (each stream has its own phase), as real calls are.
 *
 * Its sockets use the product's native batched UDP endpoints when the addon is built (`io` of the
 * bind command: 'native'; each socket is then an RTP/RTCP pair, so a call takes 8 ports), else
 * node:dgram (4 ports a call): a generator on dgram gives out before a native relay does. On the
 * native endpoints a packet's latency ends at the kernel's receive time (receiveTimes), so the
 * generator's own event-loop delays (its send ticks, its collections) are not charged to the relay.
 */
import dgram from 'node:dgram';
import { batchUdpEndpointFactory } from '../src/media/transport/batch-udp-endpoint.js';
import { rtpPayloadOffset, writeRtpHeader } from '../src/media/rtp/rtp-header.js';

export interface CallPorts {
  a: number;
  b: number;
  f1: number;
  f2: number;
}
export interface CallTargets {
  /** Where A sends (the relay's port for leg A). */
  toA: number;
  /** Where B sends. */
  toB: number;
}

export type LoadgenCommand =
  | { op: 'bind'; count: number; basePort: number; io: GeneratorIo }
  | { op: 'run'; targets: CallTargets[]; durationMs: number; latencyLimitMs: number }
  | { op: 'exit' };

export interface StepReport {
  calls: number;
  sent: number;
  relayed: number;
  forked: number;
  /** Packets not attributable to this run (RTCP, stragglers of an earlier step). */
  unknown: number;
  /** Packets received twice on the same path. */
  duplicates: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  /** The worst 100 ms windows of send time: where in the step the tail is (stalls), worst first; `overLimit`: packets over the latency limit. */
  worstWindows: { atMs: number; maxMs: number; overLimit: number }[];
  cpuPercent: number;
}

/** The generator's own sockets: the native batched endpoints or node:dgram. */
export type GeneratorIo = 'native' | 'dgram';

export type LoadgenReply = { op: 'bound'; ports: CallPorts[] } | { op: 'report'; report: StepReport } | { op: 'error'; message: string };

const HIST_RES = 0.01; // ms per bucket
const HIST_SIZE = 200_000; // up to 2 s
const MAGIC = 0x5a;
/** Send-time window (ms) of the stall report. */
const WINDOW_MS = 100;

/** One generator socket: sends to the relay on 127.0.0.1, counts what it receives. */
interface GenSocket {
  send(pkt: Buffer, port: number): void;
  close(): void;
}

interface CallSockets {
  a: GenSocket;
  b: GenSocket;
  f1: GenSocket;
  f2: GenSocket;
}

const calls: CallSockets[] = [];
const ports: CallPorts[] = [];
let hist = new Uint32Array(HIST_SIZE);
let relayed = 0;
let forked = 0;
let unknown = 0;
let running = false;
let runId = 0;
/** Seen bitmaps per kind (relay, fork): bit (stream * rounds + counter). */
let seen: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
let rounds = 0;
let duplicates = 0;
/** Per send-time window: the largest latency and how many packets took longer than the run's latency limit. */
let windowMax = new Float64Array(0);
let windowOver = new Uint32Array(0);
let runT0 = 0;
let latencyLimitMs = 5;

/** `receiveAgeMs`: how long the datagram being delivered waited in the kernel (0: unknown, dgram). */
function onMessage(kind: 0 | 1, receiveAgeMs: () => number) {
  return (buf: Buffer): void => {
    const now = performance.now() - receiveAgeMs();
    const off = rtpPayloadOffset(buf);
    if (off < 0 || buf.length < off + 22 || buf[off] !== MAGIC || buf[off + 21] !== (runId & 0xff)) {
      unknown++;
      return;
    }
    const stream = buf.readUInt32LE(off + 1) * 2 + buf[off + 5]!;
    const counter = buf.readUInt32LE(off + 6);
    const bit = stream * rounds + counter;
    const map = seen[kind];
    if (counter >= rounds || bit >> 3 >= map.length || map[bit >> 3]! & (1 << (bit & 7))) {
      duplicates++;
      return;
    }
    map[bit >> 3] = map[bit >> 3]! | (1 << (bit & 7));
    const sentAt = buf.readDoubleLE(off + 9 + 4);
    const lat = now - sentAt;
    const w = Math.floor((sentAt - runT0) / WINDOW_MS);
    if (w >= 0 && w < windowMax.length) {
      if (lat > windowMax[w]!) windowMax[w] = lat;
      if (lat > latencyLimitMs) windowOver[w]!++;
    }
    const bucket = Math.min(HIST_SIZE - 1, Math.max(0, Math.floor(lat / HIST_RES)));
    hist[bucket]!++;
    if (kind === 0) relayed++;
    else forked++;
  };
}

async function bindNative(port: number, kind: 0 | 1): Promise<GenSocket> {
  const ep = await batchUdpEndpointFactory.open('127.0.0.1', port, { receiveTimes: true });
  ep.onRtp = onMessage(kind, () => ep.receiveAgeMs);
  return { send: (pkt, to) => ep.sendRtp(pkt, pkt.length, to, '127.0.0.1'), close: () => ep.close() };
}

async function bindDgram(port: number, kind: 0 | 1): Promise<GenSocket> {
  const s = await bind(port, kind);
  return { send: (pkt, to) => s.send(pkt, to, '127.0.0.1'), close: () => s.close() };
}

function bind(port: number, kind: 0 | 1): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    // synchronous lookup for IP literals: the send then leaves before send() returns (no tick later),
    // so the packet buffers of the ring below are not overwritten while still queued
    const s = dgram.createSocket({ type: 'udp4', lookup: ((addr: string, _o: unknown, cb: (e: null, a: string, f: number) => void) => cb(null, addr, 4)) as unknown as dgram.SocketOptions['lookup'] });
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => {
      s.off('error', reject);
      s.on('error', () => {});
      try {
        s.setRecvBufferSize(1 << 20);
      } catch {
        // default
      }
      s.on('message', onMessage(kind, () => 0));
      resolve(s);
    });
  });
}

async function bindCalls(count: number, basePort: number, io: GeneratorIo): Promise<CallPorts[]> {
  const open = io === 'native' ? bindNative : bindDgram;
  const step = io === 'native' ? 2 : 1; // a native endpoint is an RTP/RTCP pair
  while (calls.length < count) {
    const i = calls.length;
    const p = basePort + i * 4 * step;
    const [a, b, f1, f2] = await Promise.all([open(p, 0), open(p + step, 0), open(p + 2 * step, 1), open(p + 3 * step, 1)]);
    calls.push({ a, b, f1, f2 });
    ports.push({ a: p, b: p + step, f1: p + 2 * step, f2: p + 3 * step });
  }
  return ports.slice(0, count);
}

function percentile(q: number, total: number): number {
  const want = Math.ceil(total * q);
  let acc = 0;
  for (let i = 0; i < HIST_SIZE; i++) {
    acc += hist[i]!;
    if (acc >= want) return (i + 1) * HIST_RES;
  }
  return HIST_SIZE * HIST_RES;
}

/** The `count` send-time windows with the largest latency, worst first. */
function worstWindows(count: number): StepReport['worstWindows'] {
  return Array.from(windowMax, (maxMs, w) => ({ atMs: w * WINDOW_MS, maxMs, overLimit: windowOver[w]! }))
    .sort((x, y) => y.maxMs - x.maxMs)
    .slice(0, count);
}

let streamSeq = new Uint16Array(0);
let streamSsrc = new Uint32Array(0);
let streamTs = new Uint32Array(0);

/** Per-stream RTP state that lives as long as the calls (streams are only ever added). */
function growStreamState(streams: number): void {
  const have = streamSeq.length;
  if (streams <= have) return;
  const seq = new Uint16Array(streams);
  const ssrc = new Uint32Array(streams);
  const ts = new Uint32Array(streams);
  seq.set(streamSeq);
  ssrc.set(streamSsrc);
  ts.set(streamTs);
  for (let s = have; s < streams; s++) {
    seq[s] = (Math.random() * 0xffff) & 0xffff;
    ssrc[s] = (Math.random() * 0xffffffff) >>> 0;
    ts[s] = (Math.random() * 0xffffffff) >>> 0;
  }
  streamSeq = seq;
  streamSsrc = ssrc;
  streamTs = ts;
}

function run(targets: CallTargets[], durationMs: number, limitMs: number): Promise<StepReport> {
  latencyLimitMs = limitMs;
  hist = new Uint32Array(HIST_SIZE);
  relayed = 0;
  forked = 0;
  unknown = 0;
  duplicates = 0;
  runId++;
  running = true;
  const streams = targets.length * 2;
  rounds = Math.floor(durationMs / 20);
  seen = [new Uint8Array(Math.ceil((streams * rounds) / 8)), new Uint8Array(Math.ceil((streams * rounds) / 8))];
  const phase = new Float64Array(streams);
  const order: number[] = [];
  for (let s = 0; s < streams; s++) {
    phase[s] = Math.random() * 20;
    order.push(s);
  }
  order.sort((x, y) => phase[x]! - phase[y]!);
  // A call's streams keep their SSRC, sequence and timestamp from one step to the next, as a real
  // call would: a new SSRC from the same source is a real source change, which the relay rightly
  // holds back until it passes RFC 3550 A.1 probation.
  growStreamState(streams);
  const seq = streamSeq;
  const ssrc = streamSsrc;
  const tsBase = new Uint32Array(streams);
  for (let s = 0; s < streams; s++) tsBase[s] = streamTs[s]!;
  const counters = new Uint32Array(streams);
  const ring = Array.from({ length: 4096 }, () => Buffer.alloc(172, 0xff));
  let ringIdx = 0;
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 5;
  runT0 = t0;
  windowMax = new Float64Array(Math.ceil(durationMs / WINDOW_MS) + 1);
  windowOver = new Uint32Array(windowMax.length);
  let cursor = 0; // global packet index in the virtual schedule
  const total = rounds * streams;
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (cursor < total) {
        const round = Math.floor(cursor / streams);
        const s = order[cursor % streams]!;
        const due = t0 + round * 20 + phase[s]!;
        if (due > now) break;
        const pkt = ring[ringIdx++ & 4095]!;
        const call = s >> 1;
        const dir = s & 1;
        writeRtpHeader(pkt, { payloadType: 0, seq: seq[s]!, timestamp: (tsBase[s]! + counters[s]! * 160) >>> 0, ssrc: ssrc[s]! });
        streamTs[s] = (tsBase[s]! + (counters[s]! + 1) * 160) >>> 0;
        seq[s] = (seq[s]! + 1) & 0xffff;
        pkt[12] = MAGIC;
        pkt.writeUInt32LE(call, 13);
        pkt[17] = dir;
        pkt.writeUInt32LE(counters[s]!++, 18);
        pkt[12 + 21] = runId & 0xff;
        pkt.writeDoubleLE(performance.now(), 12 + 13);
        const sock = dir === 0 ? calls[call]!.a : calls[call]!.b;
        const t = targets[call]!;
        sock.send(pkt, dir === 0 ? t.toA : t.toB);
        sent++;
        cursor++;
      }
      if (cursor < total) {
        setTimeout(tick, 1);
        return;
      }
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      // let the stragglers arrive
      setTimeout(() => {
        running = false;
        const n = hist.reduce((x, y) => x + y, 0);
        resolve({
          calls: targets.length,
          sent,
          relayed,
          forked,
          unknown,
          duplicates,
          latencyMs: { p50: percentile(0.5, n), p99: percentile(0.99, n), p999: percentile(0.999, n), max: percentile(1, n) },
          worstWindows: worstWindows(5),
          cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100,
        });
      }, 500);
    };
    setTimeout(tick, 5);
  });
}

process.on('message', (msg: LoadgenCommand) => {
  const reply = (r: LoadgenReply): void => {
    process.send?.(r);
  };
  if (msg.op === 'exit') {
    for (const c of calls) for (const s of [c.a, c.b, c.f1, c.f2]) s.close();
    process.exit(0);
  }
  if (running) {
    reply({ op: 'error', message: 'busy' });
    return;
  }
  if (msg.op === 'bind') {
    bindCalls(msg.count, msg.basePort, msg.io).then(
      (p) => reply({ op: 'bound', ports: p }),
      (err: Error) => reply({ op: 'error', message: err.message }),
    );
  } else if (msg.op === 'run') {
    void run(msg.targets, msg.durationMs, msg.latencyLimitMs).then((report) => reply({ op: 'report', report }));
  }
});
// end if the bench dies
process.on('disconnect', () => process.exit(0));
