import { describe, expect, it } from 'vitest';
import { ScratchRing } from '../../../../src/media/processors/scratch-ring.js';

describe('ScratchRing', () => {
  it('hands out distinct preallocated slots and reuses them only after a full turn', () => {
    const ring = new ScratchRing(4, 64);
    const first = [ring.take(10), ring.take(10), ring.take(10), ring.take(10)];
    expect(new Set(first.map((b) => b.byteOffset)).size).toBe(4);
    expect(ring.take(10).byteOffset).toBe(first[0]!.byteOffset);
    expect(ring.fallbacks).toBe(0);
  });

  it('allocates a fresh buffer for oversize packets or when asked (backed-up send queue)', () => {
    const ring = new ScratchRing(4, 64);
    expect(ring.take(100).length).toBe(100);
    ring.take(10, true);
    expect(ring.fallbacks).toBe(2);
  });
});
