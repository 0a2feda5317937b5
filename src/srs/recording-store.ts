import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where the reference SRS keeps a recording:
 *
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.wav              2-channel 16-bit 8 kHz
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.metadata.<n>.xml every metadata document received, n = 1, 2, ...
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.metadata.xml     the latest document
 *   <recordingsDir>/<YYYY-MM-DD>/<recording-id>.json             summary (RecordingSummary)
 *
 * The date is the recording start in UTC. Recording ids must be safe file names.
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface RecordingFiles {
  readonly recordingId: string;
  readonly dir: string;
  readonly wavPath: string;
  readonly summaryPath: string;
  /** Documents stored so far. */
  readonly metadataCount: number;
  /** Stores the next metadata document; resolves with its path. Calls are serialised in order. */
  appendMetadata(xml: string): Promise<string>;
  writeSummary(summary: unknown): Promise<void>;
}

export class RecordingStore {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = rootDir;
  }

  /** The folder of a recording started at `startedAtMs` (epoch ms). */
  dayDir(startedAtMs: number): string {
    return join(this.rootDir, new Date(startedAtMs).toISOString().slice(0, 10));
  }

  async create(recordingId: string, startedAtMs: number): Promise<RecordingFiles> {
    if (!SAFE_ID.test(recordingId)) throw new RangeError(`unsafe recording id '${recordingId}'`);
    const dir = this.dayDir(startedAtMs);
    await mkdir(dir, { recursive: true });
    let count = 0;
    let chain: Promise<unknown> = Promise.resolve();
    const base = join(dir, recordingId);
    return {
      recordingId,
      dir,
      wavPath: `${base}.wav`,
      summaryPath: `${base}.json`,
      get metadataCount() {
        return count;
      },
      appendMetadata(xml: string): Promise<string> {
        const n = ++count;
        const path = `${base}.metadata.${n}.xml`;
        const p = chain.then(async () => {
          await writeFile(path, xml);
          await writeFile(`${base}.metadata.xml`, xml);
          return path;
        });
        chain = p.catch(() => undefined);
        return p;
      },
      async writeSummary(summary: unknown): Promise<void> {
        await chain;
        await writeFile(`${base}.json`, `${JSON.stringify(summary, null, 2)}\n`);
      },
    };
  }
}
