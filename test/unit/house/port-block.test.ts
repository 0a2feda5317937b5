/**
 * Tests take ports from one allocator (test/support/ports.ts) that probes before it hands a port
 * out, so a port another process holds (a product running beside the suite) costs a port, not a
 * failed test (EADDRINUSE).
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { boundPorts, PortBlock } from '../../support/ports.js';

describe('the test port allocator', () => {
  it('MUST skip a port bound by someone else (UDP socket or TCP listener) and hand out the next free one', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const held = udp.address().port;
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(held + 1, '127.0.0.1', () => r()));
    try {
      expect(boundPorts().has(held)).toBe(true);
      expect(boundPorts().has(held + 1)).toBe(true);
      const block = new PortBlock({ from: held, to: held + 20 }, 0, 20);
      const first = block.next();
      expect(first).toBeGreaterThan(held + 1);
      const pair = new PortBlock({ from: held - 1, to: held + 20 }, 0, 20).take(3);
      expect(pair.some((p) => p === held || p === held + 1)).toBe(false);
      expect(pair[1]! - pair[0]!).toBe(1);
    } finally {
      udp.close();
      tcp.close();
    }
  });
});
