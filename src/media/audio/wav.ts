/**
 * Pure RIFF/WAVE header encoder and decoder (Microsoft RIFF multimedia spec; WAVE_FORMAT_PCM = 1,
 * WAVE_FORMAT_ALAW = 6, WAVE_FORMAT_MULAW = 7, WAVE_FORMAT_EXTENSIBLE = 0xFFFE). No I/O.
 *
 *   offset  size  field
 *   0       4     "RIFF"
 *   4       4     RIFF size = file length - 8 (little endian, as every field)
 *   8       4     "WAVE"
 *   12      ...   chunks: id(4) size(4) body(size, padded to even): "fmt ", ["fact"], "data", others
 *
 *   fmt  body:  formatTag(2) channels(2) sampleRate(4) byteRate(4) blockAlign(2) bitsPerSample(2)
 *               [cbSize(2) [validBits(2) channelMask(4) subFormat GUID(16)]]
 *
 * The writer emits a 44-byte header for 16-bit PCM and a 58-byte header (18-byte fmt + fact chunk,
 * as the spec asks for non-PCM formats) for mu-law/A-law. The data size sits in the last 4 bytes of
 * the header and the RIFF size at offset 4, so a streaming writer can patch both on close.
 */
import { AppError } from '../../common/errors.js';
import { decodeG711 } from './g711.js';

export type WavSampleFormat = 'pcm16' | 'mulaw' | 'alaw';

export interface WavInfo {
  /** Format tag after resolving WAVE_FORMAT_EXTENSIBLE. */
  formatTag: number;
  /** The sample formats this module can produce/consume; undefined for anything else. */
  format: WavSampleFormat | undefined;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  /** View of the data chunk body (not copied). */
  data: Buffer;
}

export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_ALAW = 6;
export const WAVE_FORMAT_MULAW = 7;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Offset of the RIFF size field (file length - 8). */
export const WAV_RIFF_SIZE_OFFSET = 4;

function invalid(source: string, why: string): AppError {
  return new AppError('AUDIO_WAV_INVALID', `${source}: ${why}`);
}

function formatOf(tag: number, bits: number): WavSampleFormat | undefined {
  if (tag === WAVE_FORMAT_PCM && bits === 16) return 'pcm16';
  if (tag === WAVE_FORMAT_MULAW && bits === 8) return 'mulaw';
  if (tag === WAVE_FORMAT_ALAW && bits === 8) return 'alaw';
  return undefined;
}

/**
 * Parse a WAV file's chunks. Throws AUDIO_WAV_INVALID for anything that is not a well-formed
 * RIFF/WAVE file with a fmt chunk before a data chunk that fits in the buffer.
 * @param source a name for error messages (file path).
 */
export function decodeWav(buf: Uint8Array, source = 'wav'): WavInfo {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw invalid(source, 'not a RIFF/WAVE file');
  }
  let fmt: Omit<WavInfo, 'data'> | undefined;
  let off = 12;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > b.length) throw invalid(source, 'truncated fmt chunk');
      let tag = b.readUInt16LE(body);
      const channels = b.readUInt16LE(body + 2);
      const sampleRate = b.readUInt32LE(body + 4);
      const blockAlign = b.readUInt16LE(body + 12);
      const bitsPerSample = b.readUInt16LE(body + 14);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40) throw invalid(source, 'truncated WAVE_FORMAT_EXTENSIBLE fmt chunk');
        tag = b.readUInt16LE(body + 24); // first two bytes of the SubFormat GUID
      }
      fmt = { formatTag: tag, format: formatOf(tag, bitsPerSample), channels, sampleRate, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw invalid(source, 'data chunk before fmt chunk');
      if (body + size > b.length) throw invalid(source, `data chunk claims ${size} bytes, ${b.length - body} present`);
      return { ...fmt, data: b.subarray(body, body + size) };
    }
    off = body + size + (size & 1);
  }
  throw invalid(source, fmt ? 'no data chunk' : 'no fmt chunk');
}

/**
 * Decode a WAV file that must be 8 kHz mono 16-bit PCM, mu-law or A-law (the prompt format) to
 * 16-bit linear PCM. Throws AUDIO_WAV_INVALID otherwise.
 */
export function decodeWav8kMono(buf: Uint8Array, source = 'wav'): Int16Array {
  const info = decodeWav(buf, source);
  if (!info.format) throw invalid(source, `unsupported format tag ${info.formatTag} with ${info.bitsPerSample} bits (want 16-bit PCM, mu-law or A-law)`);
  if (info.channels !== 1) throw invalid(source, `${info.channels} channels (want mono)`);
  if (info.sampleRate !== 8000) throw invalid(source, `${info.sampleRate} Hz (want 8000 Hz)`);
  if (info.format === 'mulaw') return decodeG711('PCMU', info.data);
  if (info.format === 'alaw') return decodeG711('PCMA', info.data);
  const n = info.data.length >> 1;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = info.data.readInt16LE(i * 2);
  return out;
}

export interface WavHeaderOptions {
  format: WavSampleFormat;
  /** Default 8000. */
  sampleRate?: number;
  /** Default 1; 2 for a stereo recording (one direction per channel, interleaved). */
  channels?: number;
  /** Bytes of sample data that follow (0 when not yet known; patch later). */
  dataBytes: number;
}

/** A WAV header (44 bytes for pcm16, 58 for mu-law/A-law) for the given data length. */
export function encodeWavHeader(opts: WavHeaderOptions): Buffer {
  const sampleRate = opts.sampleRate ?? 8000;
  const channels = opts.channels ?? 1;
  const pcm = opts.format === 'pcm16';
  const bits = pcm ? 16 : 8;
  const blockAlign = (channels * bits) / 8;
  const fmtSize = pcm ? 16 : 18;
  const headerLen = 12 + 8 + fmtSize + (pcm ? 0 : 12) + 8;
  const h = Buffer.alloc(headerLen);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, headerLen - 8 + opts.dataBytes + (opts.dataBytes & 1)), WAV_RIFF_SIZE_OFFSET);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(fmtSize, 16);
  h.writeUInt16LE(pcm ? WAVE_FORMAT_PCM : opts.format === 'mulaw' ? WAVE_FORMAT_MULAW : WAVE_FORMAT_ALAW, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(bits, 34);
  let off = 36;
  if (!pcm) {
    h.writeUInt16LE(0, off); // cbSize
    off += 2;
    h.write('fact', off, 'latin1');
    h.writeUInt32LE(4, off + 4);
    h.writeUInt32LE(Math.floor(opts.dataBytes / blockAlign), off + 8); // samples per channel
    off += 12;
  }
  h.write('data', off, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, opts.dataBytes), off + 4);
  return h;
}

/** A complete 16-bit PCM WAV file (interleaved samples when channels > 1). */
export function encodeWavPcm16(pcm: Int16Array, sampleRate = 8000, channels = 1): Buffer {
  const header = encodeWavHeader({ format: 'pcm16', sampleRate, channels, dataBytes: pcm.length * 2 });
  const out = Buffer.alloc(header.length + pcm.length * 2);
  header.copy(out, 0);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, header.length + i * 2);
  return out;
}

/** A complete mu-law or A-law WAV file from already encoded bytes (padded to even length). */
export function encodeWavG711(format: 'mulaw' | 'alaw', data: Uint8Array, sampleRate = 8000, channels = 1): Buffer {
  const header = encodeWavHeader({ format, sampleRate, channels, dataBytes: data.length });
  const out = Buffer.alloc(header.length + data.length + (data.length & 1));
  header.copy(out, 0);
  out.set(data, header.length);
  return out;
}
