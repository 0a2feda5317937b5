import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, splitPayload } from '../../../src/engine/frame-codec.js';

describe('app-protocol frame codec (docs/engine.md protocol section 1)', () => {
  it('MUST prefix the UTF-8 byte length, not the character count (A1)', () => {
    expect(encodeFrame('abc').toString()).toBe('3#abc');
    expect(encodeFrame('é').toString('utf8')).toBe('2#é');
  });

  it('MUST decode frames split across reads and several frames in one read', () => {
    const d = new FrameDecoder();
    const all = Buffer.concat([encodeFrame('x|ping'), encodeFrame('y|route|invite'), encodeFrame('zé')]);
    expect(d.push(all.subarray(0, 3)).frames).toEqual([]);
    expect(d.push(all.subarray(3, 12)).frames).toEqual(['x|ping']);
    const r = d.push(all.subarray(12));
    expect(r.frames).toEqual(['y|route|invite', 'zé']);
    expect(r.error).toBeUndefined();
    expect(d.pending).toBe(0);
  });

  it('MUST reject a length with more than 5 digits like drachtio-server (A1)', () => {
    const r = new FrameDecoder().push(Buffer.from('123456#x'));
    expect(r.error).toMatch(/5 digits/);
  });

  it('MUST reject a non-digit length', () => {
    expect(new FrameDecoder().push(Buffer.from('1a#x')).error).toBeDefined();
    expect(new FrameDecoder().push(Buffer.from('#x')).error).toBeDefined();
  });

  it('accepts a 5-digit length and waits for the whole payload', () => {
    const d = new FrameDecoder();
    const payload = 'a'.repeat(10000);
    const buf = encodeFrame(payload);
    expect(d.push(buf.subarray(0, 5000)).frames).toEqual([]);
    expect(d.push(buf.subarray(5000)).frames).toEqual([payload]);
  });

  it('MUST keep empty leader tokens and split the SIP part at the first CRLF (A1)', () => {
    const m = splitPayload('id|sip||\r\nINVITE sip:a@b SIP/2.0\r\nTo: x\r\n\r\n');
    expect(m.tokens).toEqual(['id', 'sip', '', '']);
    expect(m.sip.startsWith('INVITE sip:a@b SIP/2.0\r\n')).toBe(true);
    expect(splitPayload('id|ping').tokens).toEqual(['id', 'ping']);
    expect(splitPayload('id|ping').sip).toBe('');
  });
});
