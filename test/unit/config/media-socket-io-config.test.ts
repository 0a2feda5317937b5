/**
 * media.socketIo (MEDIA_SOCKET_IO): the media workers' socket I/O (docs/media.md "Batched socket I/O").
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';

describe('media.socketIo configuration', () => {
  it('MUST default to auto, and read MEDIA_SOCKET_IO', () => {
    expect(loadConfig({}).media.socketIo).toBe('auto');
    for (const v of ['auto', 'native', 'dgram'] as const) expect(loadConfig({ MEDIA_SOCKET_IO: v }).media.socketIo).toBe(v);
  });

  it('MUST refuse anything else', () => {
    for (const v of ['Native', 'uring', '1']) expect(() => loadConfig({ MEDIA_SOCKET_IO: v })).toThrow(/media\.socketIo/);
  });
});
