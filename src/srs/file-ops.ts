/**
 * The small file steps of a recording (its folder, journal, metadata documents, summary) as a list that
 * runs in order, in this thread or in the recording server's media worker (srs-media-pool.ts,
 * `fileOps`). Each step done from the main thread is a request to libuv's thread pool (three for a
 * write: open, write, close), about 0.14 ms of the signalling thread each on a busy machine; a
 * list handed to the worker that writes the recording's audio is one message
 * (docs/benchmarks.md, "Goals not met"). The first step that fails ends the list and its error
 * (errno `code` kept) is the list's: a disk fault maps as it would in this thread (disk-guard.ts).
 */
import { copyFile, mkdir, rename, unlink, writeFile } from 'node:fs/promises';

export type FileOp =
  /** A folder and its missing parents; one that is there is not an error. */
  | { op: 'mkdir'; path: string }
  /** The whole file, created or replaced (not atomic on its own: see atomicWriteOps). */
  | { op: 'write'; path: string; text: string }
  /** `to` replaced by a copy of `from`. */
  | { op: 'copy'; from: string; to: string }
  | { op: 'rename'; from: string; to: string }
  /** Removed; a file that is not there is not an error. */
  | { op: 'unlink'; path: string }
  /** A file of `bytes` zero bytes: disk space held for later (disk-guard.ts SpaceReservation). */
  | { op: 'zeros'; path: string; bytes: number };

/** Runs a list of file steps (a FileOp list) somewhere; rejects with the first step's error. */
export type FileOpsRunner = (ops: readonly FileOp[]) => Promise<void>;

/** Runs the steps in order in this thread. */
export async function runFileOps(ops: readonly FileOp[]): Promise<void> {
  for (const step of ops) {
    switch (step.op) {
      case 'mkdir':
        await mkdir(step.path, { recursive: true });
        break;
      case 'write':
        await writeFile(step.path, step.text);
        break;
      case 'copy':
        await copyFile(step.from, step.to);
        break;
      case 'rename':
        await rename(step.from, step.to);
        break;
      case 'zeros':
        await writeFile(step.path, Buffer.alloc(step.bytes));
        break;
      case 'unlink':
        await unlink(step.path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        break;
    }
  }
}

/** Steps that write `text` to `path` so that a reader sees the old file or the whole new one: beside it, then renamed over it. */
export function atomicWriteOps(path: string, text: string): FileOp[] {
  const tmp = `${path}.tmp`;
  return [
    { op: 'write', path: tmp, text },
    { op: 'rename', from: tmp, to: path },
  ];
}
