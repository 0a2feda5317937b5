import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../../src/common/errors.js';
import { encodeG711 } from '../../../../src/media/audio/g711.js';
import { decodeWav, decodeWav8kMono, encodeWavG711, encodeWavHeader, encodeWavPcm16 } from '../../../../src/media/audio/wav.js';
import { sine } from '../../../support/tone-source.js';

function expectCode(fn: () => unknown, fragment: string): void {
  try {
    fn();
    expect.fail('expected AUDIO_WAV_INVALID');
  } catch (err) {
    expect(isAppError(err, 'AUDIO_WAV_INVALID'), String(err)).toBe(true);
    expect((err as Error).message).toContain(fragment);
  }
}

describe('WAV encoder/decoder', () => {
  it('MUST write the canonical 44-byte PCM header byte for byte', () => {
    const h = encodeWavHeader({ format: 'pcm16', dataBytes: 320 });
    expect(h.toString('hex')).toBe(
      '52494646' + '64010000' + '57415645' + '666d7420' + '10000000' + '0100' + '0100' + '401f0000' + '803e0000' + '0200' + '1000' + '64617461' + '40010000',
    );
  });

  it('MUST write a stereo header for the recording server (2 channels, block align 4)', () => {
    const info = decodeWav(Buffer.concat([encodeWavHeader({ format: 'pcm16', channels: 2, dataBytes: 8 }), Buffer.alloc(8)]));
    expect(info).toMatchObject({ format: 'pcm16', channels: 2, sampleRate: 8000, blockAlign: 4 });
    const mu = encodeWavHeader({ format: 'mulaw', channels: 2, dataBytes: 10 });
    expect(mu.length).toBe(58);
    expect(mu.readUInt32LE(mu.length - 4)).toBe(10);
    expect(mu.readUInt32LE(4)).toBe(58 - 8 + 10);
  });

  it('MUST round-trip 16-bit PCM, mu-law and A-law files at 8 kHz mono', () => {
    const pcm = sine(1000, 20, -6);
    expect([...decodeWav8kMono(encodeWavPcm16(pcm))]).toEqual([...pcm]);
    const mu = encodeG711('PCMU', pcm);
    const al = encodeG711('PCMA', pcm);
    expect(decodeWav(encodeWavG711('mulaw', mu)).data.equals(mu)).toBe(true);
    expect(decodeWav8kMono(encodeWavG711('alaw', al)).length).toBe(160);
  });

  it('MUST skip unknown chunks (LIST) and handle odd-size padding', () => {
    const file = encodeWavPcm16(sine(500, 10));
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.alloc(1)]);
    const withList = Buffer.concat([file.subarray(0, 36), list, file.subarray(36)]);
    expect(decodeWav8kMono(withList).length).toBe(80);
  });

  it('MUST reject anything but RIFF/WAVE 8 kHz mono PCM16/mu-law/A-law with AUDIO_WAV_INVALID', () => {
    const good = encodeWavPcm16(sine(500, 10));
    expectCode(() => decodeWav8kMono(Buffer.from('hello world, not a wav')), 'not a RIFF/WAVE');
    expectCode(() => decodeWav8kMono(Buffer.alloc(0)), 'not a RIFF/WAVE');
    expectCode(() => decodeWav8kMono(encodeWavPcm16(sine(500, 10), 16000)), '16000 Hz');
    expectCode(() => decodeWav8kMono(encodeWavPcm16(sine(500, 10), 8000, 2)), '2 channels');
    const float = Buffer.from(good);
    float.writeUInt16LE(3, 20);
    expectCode(() => decodeWav8kMono(float), 'unsupported format tag 3');
    const bits8 = Buffer.from(good);
    bits8.writeUInt16LE(8, 34);
    expectCode(() => decodeWav8kMono(bits8), 'unsupported format');
    expectCode(() => decodeWav8kMono(good.subarray(0, good.length - 10)), 'data chunk claims');
    expectCode(() => decodeWav8kMono(good.subarray(0, 30)), 'truncated fmt');
    expectCode(() => decodeWav8kMono(good.subarray(0, 36)), 'no data chunk');
    const noFmt = Buffer.concat([good.subarray(0, 12), good.subarray(36)]);
    expectCode(() => decodeWav8kMono(noFmt), 'data chunk before fmt');
  });
});
