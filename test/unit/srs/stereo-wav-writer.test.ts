import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../../src/media/audio/wav.js';
import { StereoWavWriter } from '../../../src/srs/stereo-wav-writer.js';

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

  it('ignores writes after close', async () => {
    const w = await StereoWavWriter.create(join(dir, 'b.wav'));
    await w.close();
    expect(() => w.put(0, 0, new Int16Array(10))).not.toThrow();
  });
});
