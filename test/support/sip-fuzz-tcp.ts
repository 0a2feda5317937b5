/**
 * Delivery of fuzz variants (test/support/sip-fuzzer.ts) over TCP, and an OPTIONS probe over UDP
 * or TCP, for the fuzz tests of the engine and of the whole product.
 *
 * One TCP session is one connection from a fixed local port carrying a run of variants back to
 * back as a stream: some split at random byte offsets (with event-loop turns between the pieces),
 * some preceded by CRLF keep-alives. It then ends with an abrupt reset (RST), a graceful close
 * (FIN; the local port then sits in TIME_WAIT and must not be reused), or a reset in the middle of
 * a valid message. Bounded: at most `budget` variants, and a graceful close waits at most 300 ms.
 */
import { createSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import type { FuzzVariant, Prng } from './sip-fuzzer.js';
import { sleep } from './wait.js';

const HOST = '127.0.0.1';

export interface TcpFuzzSessionOptions {
  /** The SIP port on 127.0.0.1. */
  port: number;
  /** Local port to connect from (a trunk's source port, or one of a pool). */
  localPort: number;
  /** Most variants to write. */
  budget: number;
  /** Decides splits, keep-alives and the ending. */
  rng: Prng;
  /** The next variant to write for this local port (its addressing must name TCP and `localPort`). */
  next: () => FuzzVariant;
  /** A valid message to cut in the middle for the 'reset mid-message' ending. */
  valid: () => Buffer;
  /** Every chunk the server sends back. */
  onData?: (data: Buffer) => void;
  /**
   * Allow the graceful (FIN) ending, which leaves the local port in TIME_WAIT for a minute. Turn it
   * off for a few fixed source ports (e.g. a trunk's) that must be reused. Default true.
   */
  gracefulClose?: boolean;
}

export interface TcpFuzzSessionResult {
  connected: boolean;
  /** Variants written while the connection was open. */
  written: number;
  /** False after a graceful close (TIME_WAIT) or a failed connect: do not reuse the local port soon. */
  reusable: boolean;
}

export async function tcpFuzzSession(o: TcpFuzzSessionOptions): Promise<TcpFuzzSessionResult> {
  const sock: Socket = netConnect({ host: HOST, port: o.port, localAddress: HOST, localPort: o.localPort });
  let closed = false;
  if (o.onData) sock.on('data', o.onData);
  sock.on('error', () => undefined);
  sock.on('close', () => {
    closed = true;
  });
  const connected = await new Promise<boolean>((resolveConnect) => {
    sock.once('connect', () => resolveConnect(true));
    sock.once('error', () => resolveConnect(false));
  });
  if (!connected) {
    sock.destroy();
    return { connected: false, written: 0, reusable: false };
  }
  sock.setNoDelay(true);
  const rng = o.rng;
  const write = (data: Buffer): Promise<void> => new Promise((r) => (closed ? r() : sock.write(data, () => r())));
  let written = 0;
  for (let i = 0; i < o.budget && !closed; i++) {
    const v = o.next();
    if (rng.chance(0.05)) await write(Buffer.from('\r\n\r\n'));
    if (rng.chance(0.25) && v.data.length > 4) {
      let off = 0;
      while (off < v.data.length && !closed) {
        const n = rng.range(1, Math.max(1, Math.floor(v.data.length / 2)));
        await write(v.data.subarray(off, off + n));
        off += n;
        if (rng.chance(0.3)) await new Promise((r) => setImmediate(r));
      }
    } else await write(v.data);
    if (!closed) written++;
    if (i % 8 === 7) await sleep(1);
  }
  const ending = rng.next();
  if (ending < 0.15 && !closed) {
    const valid = o.valid();
    await write(valid.subarray(0, rng.range(1, valid.length - 1)));
  }
  await sleep(rng.range(0, 5));
  if (ending > 0.85 && !closed && (o.gracefulClose ?? true)) {
    sock.end();
    await Promise.race([new Promise((r) => sock.once('close', r)), sleep(300)]);
    sock.destroy();
    return { connected: true, written, reusable: false };
  }
  if (!sock.destroyed) sock.resetAndDestroy();
  return { connected: true, written, reusable: true };
}

/**
 * Sends one message from a fresh socket bound to 127.0.0.1:`localPort` and resolves with the first
 * line received back ('no answer' after `timeoutMs`, 'error <message>' on a TCP error).
 */
export function sipProbe(transport: 'UDP' | 'TCP', port: number, localPort: number, message: Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise<string>((resolveProbe) => {
    let finish: (line: string) => void = () => undefined;
    const timer = setTimeout(() => finish('no answer'), timeoutMs);
    if (transport === 'UDP') {
      const sock = createSocket('udp4');
      finish = (line) => {
        clearTimeout(timer);
        sock.close();
        resolveProbe(line);
        finish = () => undefined;
      };
      sock.on('error', (err) => finish(`error ${err.message}`));
      sock.on('message', (m) => finish(m.toString('latin1').split('\r\n')[0]!));
      sock.bind(localPort, HOST, () => sock.send(message, port, HOST));
    } else {
      const sock = netConnect({ host: HOST, port, localAddress: HOST, localPort });
      finish = (line) => {
        clearTimeout(timer);
        sock.resetAndDestroy();
        resolveProbe(line);
        finish = () => undefined;
      };
      sock.on('error', (err) => finish(`error ${err.message}`));
      sock.on('data', (d) => finish(d.toString('latin1').split('\r\n')[0]!));
      sock.on('connect', () => sock.write(message));
    }
  });
}
