/** What the media plane hands a media worker at its start (worker_threads workerData). */
import type { SocketIoPath } from '../transport/socket-io.js';

export interface MediaWorkerData {
  /** The socket I/O the plane resolved from media.socketIo ('auto' already decided). */
  socketIo: SocketIoPath;
  /** The nice value the worker thread sets for itself (media.workerNice); 0 or absent leaves it. */
  nice?: number;
  /** Native sockets read and send through an io_uring when the kernel gives one (media.ioUring 'auto'); absent: true. */
  ioUring?: boolean;
}
