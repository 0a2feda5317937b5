/**
 * The reference SRS's media side in a worker thread (srs-media-pool.ts): a recording through the
 * worker writes the audio the main-thread path writes, a bind failure still answers 503
 * SRS_NO_RTP_PORTS, a write error (ENOSPC on a full tmpfs) crosses the boundary and fails the
 * recording as a disk fault, and a worker killed mid-recording fails its recordings with a cause
 * (counted, logged once at error) while the next recording works on a new worker.
 * Ports: 34000-34199 (block 0 of 34000-34999).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { isAppError } from '../../../src/common/errors.js';
import { decodeWav } from '../../../src/media/audio/wav.js';
import { PortAllocator } from '../../../src/media/transport/port-allocator.js';
import { buildSrcOffer, parseRecordingSdp, parseSrsAnswer } from '../../../src/siprec/index.js';
import type { DiskFailure } from '../../../src/srs/disk-guard.js';
import { RecordingDiskGuard } from '../../../src/srs/disk-guard.js';
import { InThreadRecordingMedia } from '../../../src/srs/recording-media.js';
import type { RecordingMediaBackend, RecordingMediaHandle } from '../../../src/srs/recording-media-types.js';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import { SrsMediaPool } from '../../../src/srs/srs-media-pool.js';
import { SrsRecording, type SrsRecordingInit } from '../../../src/srs/srs-recording.js';
import { captureLogger } from '../../support/capture-logger.js';
import { goertzelPower } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import { sine } from '../../support/tone-source.js';
import { sleep, until } from '../../support/wait.js';
import { RtpToneSender } from './rtp-sender.js';

const block = portBlock({ from: 34000, to: 34999 }, 0, 200);
const root = mkdtempSync(join(tmpdir(), 'srs-media-worker-'));
const pools: SrsMediaPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  rmSync(root, { recursive: true, force: true });
});

function pool(log = captureLogger('error')): { pool: SrsMediaPool; lines: Array<Record<string, unknown>> } {
  const p = new SrsMediaPool({ workers: 1, logger: log.logger });
  pools.push(p);
  return { pool: p, lines: log.lines };
}

/** An RTP range of `pairs` even/odd pairs from the block. */
function rtpPorts(pairs: number): PortAllocator {
  const ports = block.take(pairs * 2 + 1);
  return new PortAllocator(ports[0]!, ports.at(-1)!);
}

function init(id: string, media: RecordingMediaBackend, ports: PortAllocator, dir: string, extra: Partial<SrsRecordingInit> = {}): SrsRecordingInit {
  return {
    recordingId: id,
    callId: `call-${id}`,
    offer: parseRecordingSdp(buildSrcOffer({ sessionId: '7', version: 1, address: '127.0.0.1', direction: 'sendonly', streams: [{ label: '1', port: 9 }, { label: '2', port: 11 }] })),
    metadataXml: undefined,
    store: new RecordingStore(dir),
    ports,
    rtpAddress: '127.0.0.1',
    acceptCodecs: ['PCMU', 'PCMA'],
    jitterWindowMs: 200,
    validate: false,
    clock: systemClock,
    media,
    ...extra,
  };
}

/** Two senders (label 1 PCMU 500 Hz, label 2 PCMA 1300 Hz) sending every packet to each recording given. */
async function senders(): Promise<{ send(n: number, recs: SrsRecording[]): Promise<void>; close(): void }> {
  const [pa, pb] = block.take(2);
  const a = await RtpToneSender.open(pa!, 0x1111, 'PCMU');
  const b = await RtpToneSender.open(pb!, 0x2222, 'PCMA');
  const toneA = sine(500, 20, -6);
  const toneB = sine(1300, 20, -6);
  return {
    async send(n, recs) {
      const answers = recs.map((r) => parseSrsAnswer(r.answerSdp, ['1', '2']));
      for (let i = 0; i < n; i++) {
        const pktA = a.packet(toneA);
        const pktB = b.packet(toneB);
        for (const ans of answers) {
          await a.send(pktA, ans[0]!.port);
          await b.send(pktB, ans[1]!.port);
        }
        await sleep(20);
      }
    },
    close() {
      a.close();
      b.close();
    },
  };
}

function channel(data: Buffer, ch: 0 | 1): Int16Array {
  const out = new Int16Array(data.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = data.readInt16LE(i * 4 + ch * 2);
  return out;
}

/** The samples of a channel from its first non-zero one, `length` of them. */
function fromFirstSound(ch: Int16Array, length: number): Int16Array {
  const start = ch.findIndex((x) => x !== 0);
  expect(start).toBeGreaterThanOrEqual(0);
  return ch.subarray(start, start + length);
}

describe('SRS media worker', () => {
  it('MUST record through the worker the same audio, placed the same way, as the main-thread path for the same packets', async () => {
    const dir = join(root, 'same');
    const { pool: workers } = pool();
    const ports = rtpPorts(4);
    const inWorker = await SrsRecording.start(init('rec-worker', workers, ports, dir));
    const inThread = await SrsRecording.start(init('rec-thread', new InThreadRecordingMedia(systemClock), ports, dir));
    const src = await senders();
    await src.send(75, [inWorker, inThread]);
    const [w, t] = await Promise.all([inWorker.close('bye-from-src'), inThread.close('bye-from-src')]);
    src.close();
    expect(ports.inUse).toBe(0);
    expect(w.failure).toBeUndefined();
    // nothing arrived after its place in the WAV was written
    expect(w.lostAudio).toBeUndefined();
    expect(t.lostAudio).toBeUndefined();
    // the same statistics (except the ports)
    const strip = (s: SrsRecording) => s.receiverStats().map(({ port: _port, ...rest }) => rest);
    expect(strip(inWorker)).toEqual(strip(inThread));
    expect(inWorker.receiverStats().map((s) => s.packets)).toEqual([75, 75]);
    expect(w.streams).toEqual(t.streams);
    expect(w.wav!.sampleRate).toBe(8000);
    const wavW = decodeWav(readFileSync(join(inWorker.files.dir, w.wav!.file)));
    const wavT = decodeWav(readFileSync(join(inThread.files.dir, t.wav!.file)));
    expect(wavW.channels).toBe(2);
    expect(wavW.data.length / 4).toBe(w.wav!.frames);
    // each channel from its first sample on is the same audio, sample for sample (the anchor is the arrival time)
    for (const ch of [0, 1] as const) {
      const a = fromFirstSound(channel(wavW.data, ch), 74 * 160);
      const b = fromFirstSound(channel(wavT.data, ch), 74 * 160);
      expect(a.length).toBe(74 * 160);
      expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
    }
    expect(goertzelPower(fromFirstSound(channel(wavW.data, 0), 2400), 500)).toBeGreaterThan(0.05);
    expect(goertzelPower(fromFirstSound(channel(wavW.data, 1), 2400), 1300)).toBeGreaterThan(0.05);
  });

  it('MUST say when a recording lost audio it received (late for its place in the WAV, or refused by the timeline): one warn line and the summary\'s lostAudio', async () => {
    const dir = join(root, 'lost');
    const log = captureLogger('warn');
    // the media side reports, at close, 100 ms of late samples and 2 refused writes
    const inThread = new InThreadRecordingMedia(systemClock);
    const reporting: RecordingMediaBackend = {
      start: () => inThread.start(),
      close: () => inThread.close(),
      async open(spec, listener) {
        const res = await inThread.open(spec, listener);
        if (!res.ok) return res;
        const real = res.handle;
        const handle: RecordingMediaHandle = {
          sampleRate: real.sampleRate,
          elapsedMs: () => real.elapsedMs(),
          setActive: (label, active) => real.setActive(label, active),
          setPayloadTypes: (label, pts, te) => real.setPayloadTypes(label, pts, te),
          stats: () => real.stats(),
          close: async (elapsedMs) => {
            const r = await real.close(elapsedMs);
            return { ...r, timeline: { ...r.timeline, lateSamples: r.timeline.lateSamples + 800, refusedWrites: r.timeline.refusedWrites + 2 } };
          },
        };
        return { ok: true, handle };
      },
    };
    const rec = await SrsRecording.start(init('rec-lost', reporting, rtpPorts(2), dir, { logger: log.logger }));
    const src = await senders();
    await src.send(10, [rec]);
    const summary = await rec.close('bye-from-src');
    src.close();
    expect(summary.lostAudio).toEqual({ lateMs: 100, refusedWrites: 2 });
    const warns = log.lines.filter((l) => String(l.msg).startsWith('recording lost audio'));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ level: 40, lateMs: 100, refusedWrites: 2, srsRecordingId: 'rec-lost' });
    expect(JSON.parse(readFileSync(rec.files.summaryPath, 'utf8')).lostAudio).toEqual({ lateMs: 100, refusedWrites: 2 });
  });

  it("MUST report the workers' own heap and ArrayBuffers: nothing before a worker runs, each open recording's timeline while it is open", async () => {
    const dir = join(root, 'memory');
    const { pool: workers } = pool();
    expect(await workers.memory()).toBeUndefined();
    workers.start();
    await until(async () => (await workers.memory()) !== undefined, 'the worker to answer', 5000);
    const idle = (await workers.memory())!;
    // a worker's heap is a few MB of its own, not the main thread's
    expect(idle.heapBytes).toBeGreaterThan(1 * 2 ** 20);
    expect(idle.heapBytes).toBeLessThan(100 * 2 ** 20);
    const ports = rtpPorts(8);
    const recs = await Promise.all(['m1', 'm2', 'm3', 'm4'].map((id) => SrsRecording.start(init(id, workers, ports, dir))));
    const open = (await workers.memory())!;
    // each open recording holds a 1 s two-channel timeline (32 kB) in the worker
    expect(open.arrayBufferBytes - idle.arrayBufferBytes).toBeGreaterThanOrEqual(4 * 32 * 1024);
    await Promise.all(recs.map((r) => r.close('bye-from-src')));
  });

  it("MUST run a recording's file steps in the worker, reject with the failed step's errno, and run them in this thread once the workers are closed", async () => {
    const dir = join(root, 'file-ops');
    mkdirSync(dir, { recursive: true });
    const { pool: workers } = pool();
    const a = join(dir, 'a.xml');
    await workers.fileOps([
      { op: 'write', path: a, text: '<a/>' },
      { op: 'copy', from: a, to: join(dir, 'latest.xml') },
    ]);
    expect(readFileSync(join(dir, 'latest.xml'), 'utf8')).toBe('<a/>');
    // a worker runs them (the steps started it), and their error crossed the port: its errno code
    // kept, not the path a local fs error carries
    expect(await workers.memory()).toBeDefined();
    const err = (await workers.fileOps([{ op: 'write', path: join(dir, 'missing', 'x'), text: 'x' }]).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe('ENOENT');
    expect(err.path).toBeUndefined();
    await workers.close();
    await workers.fileOps([{ op: 'write', path: join(dir, 'after-close.xml'), text: '<b/>' }]);
    expect(readFileSync(join(dir, 'after-close.xml'), 'utf8')).toBe('<b/>');
  });

  it('MUST answer 503 SRS_NO_RTP_PORTS when the worker cannot bind the ports, and leave nothing open', async () => {
    const { pool: workers } = pool();
    const ports = rtpPorts(2);
    const squatters: Socket[] = [];
    for (let p = ports.min; p <= ports.max; p++) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(p, '127.0.0.1', () => resolve()));
      squatters.push(s);
    }
    try {
      const err = await SrsRecording.start(init('rec-bind', workers, ports, join(root, 'bind'))).catch((e: unknown) => e);
      expect(isAppError(err, 'SRS_NO_RTP_PORTS')).toBe(true);
      expect((err as { sipStatus: number }).sipStatus).toBe(503);
      expect(ports.inUse).toBe(0);
      expect(workers.load()).toEqual([0]);
    } finally {
      for (const s of squatters) s.close();
    }
  });

  it('MUST fail the recording as a disk fault when a write in the worker fails (ENOSPC crosses the boundary with its errno)', async () => {
    const dir = join(root, 'tmpfs');
    mkdirSync(dir);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`mount tmpfs failed (${m.status ?? m.error?.message}): ${m.stderr}`);
    try {
      const { pool: workers } = pool();
      const ports = rtpPorts(2);
      const failures: DiskFailure[] = [];
      const guard = new RecordingDiskGuard(dir, 0);
      const rec = await SrsRecording.start(init('rec-full', workers, ports, dir, { onDiskFailure: (f) => failures.push(f), reserveSpace: (p) => guard.reserve(p) }));
      const fd = openSync(join(dir, 'filler'), 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096, 1));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }
      const src = await senders();
      await src.send(60, [rec]);
      await until(() => failures.length > 0, 'the write error from the worker', 3000);
      expect(failures).toEqual([expect.objectContaining({ code: 'ENOSPC', reason: 'disk-full' })]);
      expect(rec.diskFailure).toMatchObject({ code: 'ENOSPC', reason: 'disk-full' });
      const summary = await rec.close('disk-error');
      src.close();
      expect(summary.endReason).toBe('disk-error');
      expect(summary.failure).toMatchObject({ code: 'ENOSPC', reason: 'disk-full' });
      expect(summary.wav).toBeUndefined();
      expect(failures).toHaveLength(1);
      expect(ports.inUse).toBe(0);
    } finally {
      spawnSync('umount', [dir]);
    }
  });

  it('MUST let a recording open when the workers are closed finalise its files, and refuse new recordings with 503', async () => {
    const dir = join(root, 'closing');
    const { pool: workers } = pool();
    const ports = rtpPorts(2);
    const rec = await SrsRecording.start(init('rec-closing', workers, ports, dir));
    const src = await senders();
    await src.send(40, [rec]);
    await workers.close();
    const summary = await rec.close('shutdown');
    src.close();
    expect(summary.failure).toBeUndefined();
    expect(summary.streams.map((s) => s.packets)).toEqual([40, 40]);
    expect(summary.wav!.frames).toBeGreaterThan(0);
    const err = await SrsRecording.start(init('rec-after-close', workers, ports, dir)).catch((e: unknown) => e);
    expect(isAppError(err, 'SRS_MEDIA_WORKER_FAILED')).toBe(true);
    expect((err as { sipStatus: number }).sipStatus).toBe(503);
    expect(ports.inUse).toBe(0);
  });

  it('MUST fail every recording open on a worker that dies, with the cause, log it once at error, and record the next one on a new worker', async () => {
    const dir = join(root, 'crash');
    const { pool: workers, lines } = pool();
    const ports = rtpPorts(4);
    const failures: DiskFailure[] = [];
    const a = await SrsRecording.start(init('rec-a', workers, ports, dir, { onDiskFailure: (f) => failures.push(f) }));
    const b = await SrsRecording.start(init('rec-b', workers, ports, dir, { onDiskFailure: (f) => failures.push(f) }));
    const src = await senders();
    await src.send(75, [a, b]);
    await workers.terminateWorker(0);
    await until(() => failures.length === 2, 'both recordings failed');
    expect(failures.map((f) => f.reason)).toEqual(['media-worker-failed', 'media-worker-failed']);
    expect(failures[0]!.code).toBe('SRS_MEDIA_WORKER_FAILED');
    expect(workers.workerFailures).toBe(1);
    const crashLines = lines.filter((l) => l.msg === 'srs media worker failed: its open recordings are failed; the next recording starts a new worker');
    expect(crashLines).toHaveLength(1);
    expect(crashLines[0]).toMatchObject({ level: 50, recordings: 2 });

    const summary = await a.close('disk-error');
    await b.close('disk-error');
    expect(ports.inUse).toBe(0);
    expect(summary.failure).toMatchObject({ code: 'SRS_MEDIA_WORKER_FAILED', reason: 'media-worker-failed' });
    // the audio written before the crash stays playable: header rewritten from the file size
    expect(summary.wav!.frames).toBeGreaterThan(0);
    const raw = readFileSync(join(a.files.dir, summary.wav!.file));
    expect(raw.readUInt32LE(40)).toBe(raw.length - 44);
    expect(summary.wav!.frames).toBe((raw.length - 44) / 4);

    // the next recording gets a new worker
    const c = await SrsRecording.start(init('rec-c', workers, ports, dir, { onDiskFailure: (f) => failures.push(f) }));
    await src.send(40, [c]);
    const next = await c.close('bye-from-src');
    src.close();
    expect(next.failure).toBeUndefined();
    expect(failures).toHaveLength(2);
    expect(next.streams.map((s) => s.packets)).toEqual([40, 40]);
    const wav = decodeWav(readFileSync(join(c.files.dir, next.wav!.file)));
    expect(goertzelPower(fromFirstSound(channel(wav.data, 0), 2400), 500)).toBeGreaterThan(0.05);
  });
});
