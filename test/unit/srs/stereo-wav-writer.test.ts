import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../../src/media/audio/wav.js';
import { StereoWavWriter } from '../../../src/srs/stereo-wav-writer.js';
import { sleep } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'srs-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('StereoWavWriter', () => {
  it('writes a 2-channel 16-bit 8 kHz WAV whose header sizes are fixed up on close', async () => {
    const path = join(dir, 'a.wav');
    const w = await StereoWavWriter.create(path, { capacity: 400, windowSamples: 100 });
    for (let k = 0; k < 10; k++) {
      w.put(0, k * 160, new Int16Array(160).fill(1000));
      w.put(1, k * 160 + 800, new Int16Array(160).fill(-1000));
    }
    const res = await w.close(3000);
    expect(await w.close()).toBe(res); // idempotent
    const info = decodeWav(readFileSync(path));
    expect(info).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16, format: 'pcm16' });
    expect(info.data.length).toBe(3000 * 4);
    expect(res.frames).toBe(3000);
    expect(info.data.readInt16LE(0)).toBe(1000); // L at 0
    expect(info.data.readInt16LE(2)).toBe(0); // R silent before 800
    expect(info.data.readInt16LE(800 * 4 + 2)).toBe(-1000);
    expect(readFileSync(path).readUInt32LE(4)).toBe(36 + 3000 * 4);
  });

  it('keeps every sample when its frame buffers are reused: writes queued behind each other, then the next flushes', async () => {
    const path = join(dir, 'reuse.wav');
    const w = await StereoWavWriter.create(path);
    const value = (channel: number, at: number): number => ((at * 7 + channel * 3001) % 65536) - 32768;
    const packets = 500; // 10 s of 20 ms packets per channel, default window and flush (500 ms each)
    for (let k = 0; k < packets; k++) {
      for (const channel of [0, 1] as const) {
        const pcm = new Int16Array(160);
        for (let i = 0; i < 160; i++) pcm[i] = value(channel, k * 160 + i);
        w.put(channel, k * 160, pcm);
      }
      // the first 4 s go in at once, so flushes queue behind unfinished writes; then a write
      // finishes before the next flush, which takes its buffer back
      if (k >= 200 && k % 25 === 0) await sleep(5);
    }
    const res = await w.close();
    const data = decodeWav(readFileSync(path)).data;
    expect(res.frames).toBe(packets * 160);
    let wrong = 0;
    for (let at = 0; at < packets * 160; at++) {
      if (data.readInt16LE(at * 4) !== value(0, at) || data.readInt16LE(at * 4 + 2) !== value(1, at)) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('ignores writes after close', async () => {
    const w = await StereoWavWriter.create(join(dir, 'b.wav'));
    await w.close();
    expect(() => w.put(0, 0, new Int16Array(10))).not.toThrow();
  });
});
