/**
 * Where the recording server's RTP receiver places packets on the WAV timeline (docs/siprec.md
 * "Where a packet lands in the WAV"), over real sockets: the native endpoints with the kernel's
 * receive times (the receiver's default when the addon is built; `npm ci` builds it).
 */
import { createSocket, type Socket } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { nativeSocketIoError } from '../../../src/media/transport/batch-udp-endpoint.js';
import { RecordingRtpReceiver, type SampleSink } from '../../../src/srs/rtp-receiver.js';
import { portBlock } from '../../support/ports.js';
import { SOCKET_IO_TEST_PORTS } from '../../support/socket-io.js';
import { sleep, until } from '../../support/wait.js';

// Ports (this file): block 8 of the native socket I/O range, 33800-33899.
const ports = portBlock(SOCKET_IO_TEST_PORTS, 8, 100);

/** A PCMU packet of 20 ms (160 samples of digital silence, 0xff). */
function packet(ssrc: number, seq: number, ts: number): Buffer {
  const b = Buffer.alloc(12 + 160, 0xff);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** Records every write: channel, position, samples. */
class RecordingSink implements SampleSink {
  readonly writes: Array<{ channel: 0 | 1; position: number; samples: number }> = [];
  put(channel: 0 | 1, position: number, pcm: Int16Array): void {
    this.writes.push({ channel, position, samples: pcm.length });
  }
  positions(channel: 0 | 1): number[] {
    return this.writes.filter((w) => w.channel === channel).map((w) => w.position);
  }
}

function send(sock: Socket, buf: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => sock.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

describe('recording server RTP receiver: where packets land', () => {
  const open: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  it('the native endpoints are built (the receiver uses them)', () => {
    expect(nativeSocketIoError()).toBeUndefined();
  });

  it('a start buffer sent in one burst lands where it was said: the WAV starts before the recording, both channels aligned and contiguous', async () => {
    const [p1] = ports.take(2);
    const [p2] = ports.take(2);
    const sink = new RecordingSink();
    const receiver = await RecordingRtpReceiver.open({
      address: '127.0.0.1',
      streams: [
        { label: '1', channel: 0, port: p1! },
        { label: '2', channel: 1, port: p2! },
      ],
      sink,
      clock: systemClock,
    });
    open.push(receiver);
    const sock = createSocket('udp4');
    open.push(sock);
    // 1 s said before the recording (50 packets per stream), sent at once, then 10 live packets per stream
    const sends: Array<Promise<void>> = [];
    for (let k = 0; k < 50; k++) {
      sends.push(send(sock, packet(11, k, 1000 + k * 160), p1!));
      sends.push(send(sock, packet(22, k, 9000 + k * 160), p2!));
    }
    await Promise.all(sends);
    for (let k = 50; k < 60; k++) {
      await sleep(20);
      await send(sock, packet(11, k, 1000 + k * 160), p1!);
      await send(sock, packet(22, k, 9000 + k * 160), p2!);
    }
    await until(() => receiver.stats().every((s) => s.packets === 60), 'every packet received', 3000);
    receiver.close();

    // the WAV starts about 1 s before the recording (the burst came a few ms after it opened)
    expect(receiver.originShiftMs).toBeGreaterThan(850);
    expect(receiver.originShiftMs).toBeLessThan(1000);
    for (const ch of [0, 1] as const) {
      const pos = sink.positions(ch);
      expect(pos).toHaveLength(60);
      // by timestamp, no re-anchor: contiguous 20 ms frames from the start
      const first = Math.min(...pos);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThan(400); // within 50 ms of the WAV's start
      expect([...pos].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, k) => first + k * 160));
    }
    // the two channels start together (both said from the same instant)
    expect(Math.abs(Math.min(...sink.positions(0)) - Math.min(...sink.positions(1)))).toBeLessThan(80);
    // merged in timeline order: neither burst was written wholly before the other
    const order = sink.writes.slice(0, 100).map((w) => w.channel);
    expect(order.filter((c) => c === 0).length).toBeGreaterThan(30);
    expect(order.slice(0, 10)).toContain(1);
    expect(receiver.stats().map((s) => s.reanchors)).toEqual([0, 0]);
  });

  it('a thread starved while packets arrive still places them by when the kernel received them', async () => {
    const [p1] = ports.take(2);
    const sink = new RecordingSink();
    const receiver = await RecordingRtpReceiver.open({ address: '127.0.0.1', streams: [{ label: '1', channel: 0, port: p1! }], sink, clock: systemClock });
    open.push(receiver);
    // another thread sends 20 packets, one every 20 ms, and says when it sent the first (wall ms)
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const dgram = require('node:dgram');
       const sock = dgram.createSocket('udp4');
       let k = 0;
       let firstAt = 0;
       const tick = () => {
         const b = Buffer.alloc(172, 0xff);
         b[0] = 0x80; b[1] = 0; b.writeUInt16BE(k, 2); b.writeUInt32BE(5000 + k * 160, 4); b.writeUInt32BE(33, 8);
         if (k === 0) firstAt = performance.timeOrigin + performance.now();
         sock.send(b, workerData.port, '127.0.0.1');
         if (++k < 20) setTimeout(tick, 20); else setTimeout(() => { sock.close(); parentPort.postMessage(firstAt); }, 20);
       };
       parentPort.once('message', tick);`,
      { eval: true, workerData: { port: p1 } },
    );
    open.push({ close: () => void worker.terminate() });
    const firstSent = new Promise<number>((resolve) => worker.once('message', resolve));
    worker.postMessage('go');
    // this thread does nothing for 600 ms while the packets arrive
    const until600 = performance.now() + 600;
    while (performance.now() < until600) {
      // busy: a starved media thread
    }
    const firstAtWall = await firstSent;
    await until(() => receiver.stats()[0]!.packets === 20, 'every packet received', 3000);
    receiver.close();

    const firstAtMs = firstAtWall - performance.timeOrigin - receiver.startMonotonic;
    const pos = sink.positions(0);
    expect(pos).toHaveLength(20);
    // read up to 600 ms late, placed within 30 ms of when it was sent
    expect(Math.abs(Math.min(...pos) / 8 - firstAtMs)).toBeLessThan(30);
    expect([...pos].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, k) => pos[0]! + k * 160));
  });
});
