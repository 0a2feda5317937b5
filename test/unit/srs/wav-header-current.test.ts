/**
 * The reference SRS's WAV writer keeps the header current while it records, so that a file cut by
 * SIGKILL (the writer never closed) is a valid WAV of the audio written so far (issue 13 item 4).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../../src/media/audio/wav.js';
import { StereoWavWriter } from '../../../src/srs/stereo-wav-writer.js';
import { sleep } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'srs-wav-header-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = 44;
const FRAME = 4; // 2 channels x 16 bit

/** Puts `ms` of a 20 ms-packet stream on both channels, as the RTP receiver does. */
function feed(w: StereoWavWriter, fromMs: number, ms: number): void {
  for (let t = fromMs; t < fromMs + ms; t += 20) {
    w.put(0, t * 8, new Int16Array(160).fill(1000));
    w.put(1, t * 8, new Int16Array(160).fill(-1000));
  }
}

/** Waits until the file stops growing (the writer's queued writes are done). */
async function settled(path: string): Promise<Buffer> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const size = statSync(path).size;
    if (size === last) break;
    last = size;
    await sleep(20);
  }
  return readFileSync(path);
}

describe('StereoWavWriter header kept current (crash-safe recording)', () => {
  it('MUST write the audio out in batches of at most window + 500 ms, not when 4 s have gathered in memory', async () => {
    const path = join(dir, 'batches.wav');
    const w = await StereoWavWriter.create(path, { windowSamples: 4000 }); // the SRS's 500 ms jitter window
    feed(w, 0, 3000);
    const file = await settled(path);
    expect(file.length - HEADER, '3 s put: at least 2 s on disk').toBeGreaterThanOrEqual(2 * 8000 * FRAME);
    await w.close();
  });

  it('MUST state the audio written so far in the RIFF and data sizes at least every second of audio, before close', async () => {
    const path = join(dir, 'live.wav');
    const w = await StereoWavWriter.create(path, { windowSamples: 800 });
    feed(w, 0, 3500); // 3.5 s put, 100 ms window, batches of 500 ms (flushSamples default)
    const file = await settled(path);
    const onDisk = file.length - HEADER;
    const stated = file.readUInt32LE(40);
    expect(onDisk, 'the frames older than window + one batch are on disk').toBeGreaterThanOrEqual((3500 - 100 - 500) * 8 * FRAME);
    expect(stated, 'the header states the audio written, not 0').toBeGreaterThanOrEqual(2 * 8000 * FRAME);
    expect(stated, 'never more than is on disk').toBeLessThanOrEqual(onDisk);
    expect(onDisk - stated, 'at most one second of audio beyond the header').toBeLessThan(8000 * FRAME);
    expect(file.readUInt32LE(4), 'RIFF size = 36 + data size').toBe(36 + stated);
    // what a standard reader makes of the file as it is now (as after SIGKILL): 3 s of 2-channel audio
    const info = decodeWav(file);
    expect(info).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(info.data.length).toBe(stated);
    expect(info.data.length / FRAME / 8000).toBeGreaterThanOrEqual(2);
    expect(info.data.readInt16LE(0)).toBe(1000);
    expect(info.data.readInt16LE(2)).toBe(-1000);
    await w.close();
  });

  it('MAY be told a shorter update interval (headerUpdateMs): the header then trails the data by less than it', async () => {
    const path = join(dir, 'fast.wav');
    const w = await StereoWavWriter.create(path, { windowSamples: 800, headerUpdateMs: 200 });
    feed(w, 0, 1500);
    const file = await settled(path);
    const onDisk = file.length - HEADER;
    expect(onDisk - file.readUInt32LE(40)).toBeLessThan(0.2 * 8000 * FRAME);
    expect(file.readUInt32LE(40)).toBeGreaterThan(0);
    await w.close();
  });

  it('MUST fix both sizes to everything written on close', async () => {
    const path = join(dir, 'closed.wav');
    const w = await StereoWavWriter.create(path, { windowSamples: 800 });
    feed(w, 0, 1300);
    const res = await w.close();
    const file = readFileSync(path);
    expect(res.dataBytes).toBe(1300 * 8 * FRAME);
    expect(file.readUInt32LE(40)).toBe(res.dataBytes);
    expect(file.readUInt32LE(4)).toBe(36 + res.dataBytes);
    expect(file.length).toBe(HEADER + res.dataBytes);
  });
});
