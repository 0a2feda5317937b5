/**
 * Which socket I/O the media plane uses (config media.socketIo, MEDIA_SOCKET_IO; docs/media.md
 * "Batched socket I/O"):
 * - 'native': the batched socket I/O addon, io_uring or recvmmsg/sendmmsg (batch-udp-endpoint.ts);
 * - 'dgram': node:dgram, one event and one send call per datagram (udp-endpoint.ts);
 * - 'auto' (default): native when the addon is built and loads, else dgram.
 */
import { AppError } from '../../common/errors.js';
import { batchUdpEndpointFactory, nativeSocketIoError } from './batch-udp-endpoint.js';
import { udpEndpointFactory, type RtpEndpointFactory } from './udp-endpoint.js';

export type SocketIoMode = 'auto' | 'native' | 'dgram';
export type SocketIoPath = 'native' | 'dgram';

export const SOCKET_IO_MODES: readonly SocketIoMode[] = ['auto', 'native', 'dgram'];

/**
 * How the native path reads and sends (config media.ioUring, MEDIA_IO_URING): 'auto' through an
 * io_uring per worker when the kernel gives one (one system call per wake or flush for all its
 * sockets), 'off' with recvmmsg/sendmmsg per socket.
 */
export type IoUringMode = 'auto' | 'off';

export const IO_URING_MODES: readonly IoUringMode[] = ['auto', 'off'];

export interface SocketIoChoice {
  path: SocketIoPath;
  /** Why 'auto' fell back to dgram (the addon's load error). */
  fallbackReason?: string;
}

/** Resolve a mode to the path this process uses; 'native' without the addon throws CONFIG_INVALID. */
export function resolveSocketIo(mode: SocketIoMode = 'auto'): SocketIoChoice {
  if (mode === 'dgram') return { path: 'dgram' };
  const err = nativeSocketIoError();
  if (err === undefined) return { path: 'native' };
  if (mode === 'native') {
    throw new AppError('CONFIG_INVALID', `MEDIA_SOCKET_IO=native but the udp-batch addon did not load (build it with npm ci or npm run install): ${err.message}`, { cause: err });
  }
  return { path: 'dgram', fallbackReason: err.message };
}

/** The endpoint factory of a resolved path (native throws if the addon cannot load). */
export function endpointFactoryFor(path: SocketIoPath): RtpEndpointFactory {
  if (path === 'dgram') return udpEndpointFactory;
  const err = nativeSocketIoError();
  if (err !== undefined) throw new AppError('MEDIA_WORKER_FAILED', `udp-batch addon did not load: ${err.message}`, { cause: err });
  return batchUdpEndpointFactory;
}
