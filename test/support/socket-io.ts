/**
 * The media plane's two socket I/O paths (config media.socketIo; docs/media.md "Batched socket
 * I/O"), for tests that run the same body on both: the native batched addon and the node:dgram
 * fallback. The native path must be built by `npm ci` (package.json "install"); its tests fail,
 * never skip, when it did not build.
 *
 * Ports: the native variant of a parameterised media test takes its block from
 * SOCKET_IO_TEST_PORTS (33000-33999) so that it never shares ports with the dgram variant, which
 * keeps the file's usual block.
 */
import type { SocketIoPath } from '../../src/media/transport/socket-io.js';
import { portBlock, type PortBlock, type PortRange } from './ports.js';

/** The native socket I/O tests' range: block 0 the transport unit tests, then one per media test file. */
export const SOCKET_IO_TEST_PORTS: PortRange = { from: 33000, to: 33999 };

/** Both paths; `describe.each(SOCKET_IO_PATHS)('... (%s socket I/O)', (io) => ...)`. */
export const SOCKET_IO_PATHS: readonly SocketIoPath[] = ['native', 'dgram'];

/**
 * The port block of one variant: dgram keeps the file's own block (`range`, `index`, `size`); native
 * takes block `nativeIndex` of `size` ports in SOCKET_IO_TEST_PORTS.
 */
export function socketIoPortBlock(io: SocketIoPath, range: PortRange, index: number, size: number, nativeIndex: number): PortBlock {
  return io === 'native' ? portBlock(SOCKET_IO_TEST_PORTS, nativeIndex, size) : portBlock(range, index, size);
}
