/**
 * media.socketIo (MEDIA_SOCKET_IO) and media.ioUring (MEDIA_IO_URING): the media workers' socket I/O
 * (docs/media.md "Batched socket I/O").
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

  it('media.ioUring MUST default to auto, read MEDIA_IO_URING, and refuse anything else', () => {
    expect(loadConfig({}).media.ioUring).toBe('auto');
    for (const v of ['auto', 'off'] as const) expect(loadConfig({ MEDIA_IO_URING: v }).media.ioUring).toBe(v);
    for (const v of ['on', 'Off', '0']) expect(() => loadConfig({ MEDIA_IO_URING: v })).toThrow(/media\.ioUring must be auto or off/);
  });
});
