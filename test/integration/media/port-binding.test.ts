import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaPlane } from '../../../src/media/media-plane.js';
import { MEDIA_CORE_PORTS } from '../../support/media-ports.js';
import { SOCKET_IO_PATHS, socketIoPortBlock } from '../../support/socket-io.js';

/** A port pair another process holds is skipped; the session opens on the next pair of the range. */
describe.each(SOCKET_IO_PATHS)('media plane port binding (%s socket I/O)', (io) => {
  const block = socketIoPortBlock(io, MEDIA_CORE_PORTS, 11, 100, 7);
  const [min] = block.take(8);
  const held: dgram.Socket[] = [];
  let plane: MediaPlane | undefined;

  afterAll(async () => {
    await plane?.close();
    for (const s of held) s.close();
  });

  it('MUST skip a port held by another process (EADDRINUSE) and open the session on the next free pair', async () => {
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(min!, '127.0.0.1', () => r()));
    held.push(blocker);
    plane = await MediaPlane.start({ portMin: min!, portMax: min! + 7, socketIo: io, workers: 0 });
    expect(plane.socketIo).toBe(io);
    const s = await plane.createSession({});
    expect([s.local.a.rtpPort, s.local.b.rtpPort]).not.toContain(min);
    expect(s.local.a.rtpPort).toBeGreaterThanOrEqual(min!);
    await s.close();
  });
});
