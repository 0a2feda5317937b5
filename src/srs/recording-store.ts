import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { RecordingFileNames } from '../siprec/recording-id-header.js';
import { atomicWriteOps, runFileOps, type FileOp, type FileOpsRunner } from './file-ops.js';

/**
 * Where the reference SRS keeps a recording:
 *
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.wav              2-channel 16-bit 8 kHz
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.metadata.<n>.xml every metadata document received, n = 1, 2, ...
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.metadata.xml     the latest document
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.json             summary (RecordingSummary)
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.open             journal: the recording is open (OpenRecordingJournal)
 *
 * The date is the recording start in UTC. Recording ids must be safe file names. The `.open`
 * journal is written once the recording is set up and removed once its summary is written, so a
 * journal found at start-up marks a recording a crash left open (recording-repair.ts). One
 * recording server per recordings directory.
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Suffix of the journal of an open recording. */
export const OPEN_JOURNAL_SUFFIX = '.open';

/**
 * Writes `text` to `path` so that a reader sees the old file or the whole new one, never a part:
 * into `path.tmp`, then renamed over it. A crash before the rename leaves the `.tmp` file (written
 * again on the next attempt); the recording's journal, removed only after, makes the start-up
 * repair write the summary again.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  await runFileOps(atomicWriteOps(path, text));
}

/** Stands for this process in the journals it writes: a restarted process never takes its predecessor's journals for its own. */
export const THIS_PROCESS_OWNER = randomUUID();

/** What the `.open` journal records (JSON), enough to write the summary if the process dies. */
export interface OpenRecordingJournal {
  recordingId: string;
  callId: string;
  startedAtMs: number;
  /** WAV file name (in the same folder). */
  wav: string;
  sampleRate: number;
  channels: number;
  /** The process that has the recording open (THIS_PROCESS_OWNER of its store). */
  owner: string;
  pid: number;
}

/** The files of one recording in its folder. */
export function recordingPaths(dir: string, recordingId: string) {
  const base = join(dir, recordingId);
  return {
    wav: `${base}.wav`,
    summary: `${base}.json`,
    journal: `${base}${OPEN_JOURNAL_SUFFIX}`,
    latestMetadata: `${base}.metadata.xml`,
    metadata: (n: number) => `${base}.metadata.${n}.xml`,
  };
}

export interface RecordingFiles {
  readonly recordingId: string;
  readonly dir: string;
  readonly wavPath: string;
  readonly summaryPath: string;
  /** Documents stored so far. */
  readonly metadataCount: number;
  /** Writes the `.open` journal: from now on a crash leaves a recording that start-up repairs. */
  markOpen(facts: { callId: string; sampleRate: number; channels: number }): Promise<void>;
  /** Stores the next metadata document; resolves with its path. Calls are serialised in order. */
  appendMetadata(xml: string): Promise<string>;
  /** Writes the summary, then removes the `.open` journal. */
  writeSummary(summary: unknown): Promise<void>;
}

/** Recordings of this store that locate() still knows (the most recent ones). */
const LOCATE_LIMIT = 4096;

export class RecordingStore {
  readonly rootDir: string;
  /** Written into the journals; default THIS_PROCESS_OWNER. */
  readonly owner: string;
  /** Recordings created by this store, most recent last (bounded by LOCATE_LIMIT). */
  readonly #created = new Map<string, RecordingFiles>();

  /**
   * Where a recording's journal, metadata and summary are written (file-ops.ts): this thread by
   * default; the recording server points it at its media worker.
   */
  runOps: FileOpsRunner = runFileOps;

  constructor(rootDir: string, owner: string = THIS_PROCESS_OWNER) {
    this.rootDir = rootDir;
    this.owner = owner;
  }

  /** The folder of a recording started at `startedAtMs` (epoch ms). */
  dayDir(startedAtMs: number): string {
    return join(this.rootDir, new Date(startedAtMs).toISOString().slice(0, 10));
  }

  /**
   * The file names of a recording this store created (one of the last 4096), or undefined. The
   * summary exists once the recording has ended; the metadata history grows with each document.
   */
  locate(recordingId: string): RecordingFileNames | undefined {
    const files = this.#created.get(recordingId);
    if (!files) return undefined;
    const paths = recordingPaths(files.dir, recordingId);
    return {
      dir: files.dir,
      wav: basename(paths.wav),
      summary: basename(paths.summary),
      metadata: basename(paths.latestMetadata),
      metadataHistory: Array.from({ length: files.metadataCount }, (_, i) => basename(paths.metadata(i + 1))),
    };
  }

  async create(recordingId: string, startedAtMs: number): Promise<RecordingFiles> {
    if (!SAFE_ID.test(recordingId)) throw new RangeError(`unsafe recording id '${recordingId}'`);
    const dir = this.dayDir(startedAtMs);
    await this.runOps([{ op: 'mkdir', path: dir }]);
    let count = 0;
    let chain: Promise<unknown> = Promise.resolve();
    const paths = recordingPaths(dir, recordingId);
    const owner = this.owner;
    const run = (ops: FileOp[]): Promise<void> => this.runOps(ops);
    const files: RecordingFiles = {
      recordingId,
      dir,
      wavPath: paths.wav,
      summaryPath: paths.summary,
      get metadataCount() {
        return count;
      },
      async markOpen(facts): Promise<void> {
        const journal: OpenRecordingJournal = { recordingId, callId: facts.callId, startedAtMs, sampleRate: facts.sampleRate, channels: facts.channels, wav: `${recordingId}.wav`, owner, pid: process.pid };
        await run([{ op: 'write', path: paths.journal, text: `${JSON.stringify(journal)}\n` }]);
      },
      appendMetadata(xml: string): Promise<string> {
        const n = ++count;
        const path = paths.metadata(n);
        const p = chain.then(async () => {
          // the latest is a copy of the numbered one: one step (the copy in the kernel), not open, write, close
          await run([
            { op: 'write', path, text: xml },
            { op: 'copy', from: path, to: paths.latestMetadata },
          ]);
          return path;
        });
        chain = p.catch(() => undefined);
        return p;
      },
      async writeSummary(summary: unknown): Promise<void> {
        await chain;
        await run([...atomicWriteOps(paths.summary, `${JSON.stringify(summary, null, 2)}\n`), { op: 'unlink', path: paths.journal }]);
      },
    };
    this.#created.set(recordingId, files);
    if (this.#created.size > LOCATE_LIMIT) this.#created.delete(this.#created.keys().next().value!);
    return files;
  }
}
