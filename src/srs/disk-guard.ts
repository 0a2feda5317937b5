import { mkdir, readdir, statfs, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../common/errors.js';
import { runFileOps, type FileOpsRunner } from './file-ops.js';

/**
 * The reference SRS's view of its disk (docs/hardening.md "Disk faults"):
 *
 * - which write errors are disk faults, and the reason a failed recording is counted under
 *   (srs_recordings_failed_total{reason});
 * - the start-up check that the recordings directory is writable (srs.startupCheck);
 * - the free-space threshold checked before each new recording (srs.minFreeMb, statfs);
 * - a small per-recording reservation (<recording-id>.reserve next to the WAV), released just
 *   before the summary is written, so that the summary of a recording ended by a full disk still
 *   finds room. One recording server per recordings directory: the start-up check removes the
 *   reservations a previous process left.
 */

/**
 * Why the SRS failed or refused a recording because of its disk (metric label `reason`), or
 * because the media worker writing it died ('media-worker-failed', srs-media-pool.ts).
 */
export type DiskFailureReason = 'disk-full' | 'disk-io-error' | 'recordings-dir-unwritable' | 'low-free-space' | 'media-worker-failed';

/** errno codes that mean the storage failed, by the reason they are counted under. */
const DISK_ERRNOS: Readonly<Record<string, DiskFailureReason>> = {
  ENOSPC: 'disk-full',
  EDQUOT: 'disk-full',
  EFBIG: 'disk-full',
  EIO: 'disk-io-error',
  EROFS: 'recordings-dir-unwritable',
  EACCES: 'recordings-dir-unwritable',
  EPERM: 'recordings-dir-unwritable',
  ENOTDIR: 'recordings-dir-unwritable',
  EEXIST: 'recordings-dir-unwritable',
};

/** A disk fault of one recording: the errno code, the reason it is counted under and the message. */
export interface DiskFailure {
  code: string;
  reason: DiskFailureReason;
  message: string;
}

/** The disk fault an error stands for (an errno error with one of the codes above), or undefined. */
export function diskFailureOf(err: unknown): DiskFailure | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  const reason = DISK_ERRNOS[code];
  return reason === undefined ? undefined : { code, reason, message: (err as Error).message };
}

/** The disk fault of a failed write: diskFailureOf(err), or 'disk-io-error' with the error's code (default 'EIO'). */
export function toDiskFailure(err: unknown): DiskFailure {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return diskFailureOf(err) ?? { code: typeof code === 'string' ? code : 'EIO', reason: 'disk-io-error', message: String((err as Error | undefined)?.message ?? err) };
}

/** Name of the probe file the start-up check writes and removes. */
const PROBE_FILE = '.srs-write-check';
/** Suffix of a recording's space reservation, next to its WAV. */
export const RESERVE_SUFFIX = '.reserve';

/**
 * Creates the recordings directory when missing, then writes, and removes, a probe file in it, and
 * removes the space reservations a previous process left.
 * Throws SRS_RECORDINGS_DIR_UNWRITABLE naming the directory and the errno (a read-only mount, a
 * file where the directory should be, missing permissions, a full disk).
 */
export async function checkRecordingsDir(dir: string): Promise<void> {
  const probe = join(dir, `${PROBE_FILE}-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, 'ok\n');
    await unlink(probe);
  } catch (err) {
    throw new AppError('SRS_RECORDINGS_DIR_UNWRITABLE', `${dir} (${(err as Error).message})`, { cause: err });
  }
  await removeStaleReservations(dir);
}

/** Removes the `<id>.reserve` files a previous process left in the day folders (best effort). */
async function removeStaleReservations(dir: string): Promise<void> {
  const days = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const day of days) {
    if (!day.isDirectory()) continue;
    const files = await readdir(join(dir, day.name)).catch(() => []);
    for (const f of files) if (f.endsWith(RESERVE_SUFFIX)) await unlink(join(dir, day.name, f)).catch(() => undefined);
  }
}

/**
 * Free space for an unprivileged writer under `dir`, in MiB (statfs bavail x bsize); a folder not
 * created yet (the store creates it with the first recording) is measured at its nearest parent.
 */
export async function freeSpaceMb(dir: string): Promise<number> {
  for (let at = dir; ; at = dirname(at)) {
    try {
      const s = await statfs(at);
      return (s.bavail * s.bsize) / (1024 * 1024);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw err;
    }
  }
}

/** A refusal of a new recording by the disk guard: metric reason and the cause for the log and the Warning header. */
export interface DiskRefusal {
  reason: DiskFailureReason;
  detail: string;
}

/**
 * Admission of new recordings by the state of the disk: refused while the start-up check found
 * the directory unwritable (srs.startupCheck 'degraded') or while free space is under `minFreeMb`
 * (0 = no threshold). A statfs that fails counts as a refusal with its errno.
 */
export class RecordingDiskGuard {
  readonly dir: string;
  readonly minFreeMb: number;
  #unwritable: string | undefined;

  constructor(dir: string, minFreeMb: number) {
    this.dir = dir;
    this.minFreeMb = minFreeMb;
  }

  /** The cause every recording is refused with since the start-up check failed, if it did. */
  get unwritable(): string | undefined {
    return this.#unwritable;
  }

  /** Refuse every new recording from now on with this cause (degraded start). */
  markUnwritable(cause: string): void {
    this.#unwritable = cause;
  }

  /** Undefined when a new recording may start, else why not. */
  async admit(): Promise<DiskRefusal | undefined> {
    if (this.#unwritable !== undefined) return { reason: 'recordings-dir-unwritable', detail: this.#unwritable };
    if (this.minFreeMb <= 0) return undefined;
    let free: number;
    try {
      free = await freeSpaceMb(this.dir);
    } catch (err) {
      const failure = diskFailureOf(err);
      return { reason: failure?.reason ?? 'recordings-dir-unwritable', detail: `statfs ${this.dir}: ${(err as Error).message}` };
    }
    if (free >= this.minFreeMb) return undefined;
    return { reason: 'low-free-space', detail: `${Math.floor(free)} MB free in ${this.dir}, under srs.minFreeMb ${this.minFreeMb} MB` };
  }

  /** Sets SUMMARY_RESERVE_BYTES aside in a file at `path`, written by `run` (file-ops.ts); throws the errno error (ENOSPC). */
  reserve(path: string, run: FileOpsRunner = runFileOps): Promise<SpaceReservation> {
    return SpaceReservation.take(path, SUMMARY_RESERVE_BYTES, run);
  }
}

/** Bytes set aside per recording for its summary (a summary is a few kB). */
export const SUMMARY_RESERVE_BYTES = 64 * 1024;

/**
 * A file of `bytes` zeros that holds disk space until release() removes it (idempotent; a
 * failing removal is ignored: the file is only a placeholder). take() throws the write's errno
 * error (ENOSPC when there is no room for it).
 */
export class SpaceReservation {
  readonly path: string;
  readonly #run: FileOpsRunner;
  #released = false;

  private constructor(path: string, run: FileOpsRunner) {
    this.path = path;
    this.#run = run;
  }

  /** `run`: where the file is written and later removed (file-ops.ts; default this thread). */
  static async take(path: string, bytes = SUMMARY_RESERVE_BYTES, run: FileOpsRunner = runFileOps): Promise<SpaceReservation> {
    try {
      await run([{ op: 'zeros', path, bytes }]);
    } catch (err) {
      await run([{ op: 'unlink', path }]).catch(() => undefined);
      throw err;
    }
    return new SpaceReservation(path, run);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#run([{ op: 'unlink', path: this.path }]).catch(() => undefined);
  }
}
