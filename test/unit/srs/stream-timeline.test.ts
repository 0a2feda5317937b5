import { describe, expect, it } from 'vitest';
import { StreamTimeline } from '../../../src/srs/stream-timeline.js';

describe('StreamTimeline', () => {
  it('anchors the first packet on arrival and places later ones by RTP timestamp (jitter-free)', () => {
    const t = new StreamTimeline();
    expect(t.position(1, 1000, 100)).toBe(800);
    expect(t.position(1, 1160, 135)).toBe(960); // arrived 15 ms late: still right after the first
    expect(t.position(1, 1320, 140)).toBe(1120);
  });

  it('handles 32-bit timestamp wrap', () => {
    const t = new StreamTimeline();
    expect(t.position(7, 0xffffff60, 0)).toBe(0);
    expect(t.position(7, 0x00000000, 20)).toBe(160);
  });

  it('re-anchors on arrival after a timestamp jump or a new SSRC, so a pause becomes silence', () => {
    const t = new StreamTimeline({ reanchorMs: 1000 });
    t.position(1, 5000, 0);
    // SRC froze its timestamps during a 10 s pause: RTP says +160 samples, arrival says +10 s.
    expect(t.position(1, 5160, 10_000)).toBe(80_000);
    expect(t.position(2, 99, 10_020)).toBe(80_160);
    expect(t.reanchors).toBe(2);
  });

  it('reset() places the next packet by arrival even when its timestamp is close (resume after a short pause)', () => {
    const t = new StreamTimeline({ reanchorMs: 1000 });
    t.position(1, 0, 0);
    t.reset();
    expect(t.position(1, 160, 500)).toBe(4000); // RTP alone would say 160
  });
});
