import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeWavHeader } from '../media/audio/wav.js';
import type { Logger } from '../observability/logger.js';
import type { RecordingMetadataModel } from '../siprec/metadata-types.js';
import { OPEN_JOURNAL_SUFFIX, recordingPaths, writeFileAtomically, type OpenRecordingJournal } from './recording-store.js';
import { buildRecordingSummary, type RecordingRecovery, type RecordingSummary } from './recording-summary.js';
import { checkMetadata, mergePartial } from './srs-recording.js';

/**
 * Start-up repair of the recordings a crash (SIGKILL, power loss) left open. A recording is open
 * while its `<id>.open` journal exists (recording-store.ts); journals written by this process
 * (`owner`) belong to live recordings and are left alone. For every other journal:
 *
 *   1. WAV: cut to whole frames (a partial frame at the end is dropped) and the 44-byte header
 *      rewritten from the journal's format and the file size (RIFF size = file length - 8, data
 *      size = bytes after the header), then fdatasync. A missing WAV gives a summary without `wav`.
 *   2. Metadata: the documents already stored next to it, replayed in order (partial documents
 *      merged), so the summary names the call and its participants.
 *   3. Summary `<id>.json` with endReason 'recovered-after-crash', stoppedAt = the WAV's last
 *      write, streams [] (their statistics died with the process), and `recovery` (header size
 *      found, bytes kept and dropped). A summary already there (a crash between writing it and
 *      removing the journal) is kept as it is.
 *   4. The journal removed. One warn line per repaired recording; one error line per recording
 *      that could not be repaired (its journal stays: the next start tries again).
 *
 * A journal cut by a power loss (empty or not JSON) still gets its recording repaired, with the
 * id from the file name, 2-channel 16-bit 8 kHz, Call-ID '' and the start time worked back from
 * the audio's length.
 */
export interface RepairOptions {
  /** Root of the recordings (<dir>/<YYYY-MM-DD>/...). */
  recordingsDir: string;
  /** Journals of this owner are live recordings of this process: skipped. */
  owner: string;
  /** Epoch ms; default Date.now. */
  now?: () => number;
  logger: Logger;
}

export interface RepairReport {
  /** Recordings repaired, with their new summaries. */
  repaired: RecordingSummary[];
  /** Recordings that could not be repaired (logged at error). */
  failed: number;
}

const WAV_HEADER_BYTES = 44;

interface WavRepair {
  file: string;
  frames: number;
  sampleRate: number;
  recovery: Omit<RecordingRecovery, 'repairedAt'>;
  lastWriteMs: number;
}

/**
 * Makes a WAV cut mid-write valid: whole frames only, header sizes from the file size. Returns
 * undefined when there is no such file.
 */
export async function repairWavFile(path: string, format: { sampleRate: number; channels: number }): Promise<WavRepair | undefined> {
  let fh;
  try {
    fh = await open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size, mtimeMs } = await fh.stat();
    const old = Buffer.alloc(WAV_HEADER_BYTES);
    const { bytesRead } = await fh.read(old, 0, WAV_HEADER_BYTES, 0);
    const headerDataBytes = bytesRead === WAV_HEADER_BYTES && old.toString('latin1', 36, 40) === 'data' ? old.readUInt32LE(40) : 0;
    const blockAlign = format.channels * 2;
    const found = Math.max(0, size - WAV_HEADER_BYTES);
    const dataBytes = found - (found % blockAlign);
    await fh.truncate(WAV_HEADER_BYTES + dataBytes);
    const header = encodeWavHeader({ format: 'pcm16', channels: format.channels, sampleRate: format.sampleRate, dataBytes });
    await fh.write(header, 0, header.length, 0);
    await fh.datasync();
    return {
      file: path.split(/[\\/]/).pop()!,
      frames: dataBytes / blockAlign,
      sampleRate: format.sampleRate,
      recovery: { headerDataBytes, dataBytes, droppedBytes: found - dataBytes },
      lastWriteMs: Math.round(mtimeMs),
    };
  } finally {
    await fh.close();
  }
}

/** The stored metadata documents of a recording, replayed in order; undefined if none parses. */
async function storedMetadata(dir: string, recordingId: string, names: readonly string[], log: Logger): Promise<{ model: RecordingMetadataModel | undefined; documents: number }> {
  const paths = recordingPaths(dir, recordingId);
  const prefix = `${recordingId}.metadata.`;
  const numbers = names
    .filter((n) => n.startsWith(prefix) && n.endsWith('.xml'))
    .map((n) => Number(n.slice(prefix.length, -'.xml'.length)))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  let model: RecordingMetadataModel | undefined;
  for (const n of numbers) {
    try {
      const doc = checkMetadata(await readFile(paths.metadata(n), 'utf8'), false);
      model = doc.datamode === 'partial' && model ? mergePartial(model, doc) : doc;
    } catch (err) {
      log.debug({ err, srsRecordingId: recordingId, document: n }, 'stored metadata document unreadable; skipped in the recovered summary');
    }
  }
  return { model, documents: numbers.length };
}

function parseJournal(text: string, recordingId: string): OpenRecordingJournal | undefined {
  try {
    const j = JSON.parse(text) as Partial<OpenRecordingJournal>;
    if (j.recordingId !== recordingId || typeof j.startedAtMs !== 'number' || typeof j.owner !== 'string') return undefined;
    return {
      recordingId,
      callId: typeof j.callId === 'string' ? j.callId : '',
      startedAtMs: j.startedAtMs,
      wav: `${recordingId}.wav`,
      sampleRate: Number.isInteger(j.sampleRate) && j.sampleRate! > 0 ? j.sampleRate! : 8000,
      channels: j.channels === 1 || j.channels === 2 ? j.channels : 2,
      owner: j.owner,
      pid: typeof j.pid === 'number' ? j.pid : 0,
    };
  } catch {
    return undefined;
  }
}

async function repairOne(dir: string, recordingId: string, names: readonly string[], o: RepairOptions): Promise<RecordingSummary | undefined> {
  const paths = recordingPaths(dir, recordingId);
  const journal = parseJournal(await readFile(paths.journal, 'utf8'), recordingId);
  if (journal?.owner === o.owner) return undefined;
  if (names.includes(`${recordingId}.json`)) {
    // the summary was written; only the journal's removal was cut short
    await rm(paths.journal, { force: true });
    return undefined;
  }
  const format = { sampleRate: journal?.sampleRate ?? 8000, channels: journal?.channels ?? 2 };
  const wav = await repairWavFile(paths.wav, format);
  const lastWriteMs = wav?.lastWriteMs ?? Math.round((await stat(paths.journal)).mtimeMs);
  const startedAtMs = journal?.startedAtMs ?? lastWriteMs - (wav ? Math.round((wav.frames * 1000) / wav.sampleRate) : 0);
  const metadata = await storedMetadata(dir, recordingId, names, o.logger);
  const now = (o.now ?? Date.now)();
  const summary = buildRecordingSummary({
    recordingId,
    callId: journal?.callId ?? '',
    startedAtMs,
    stoppedAtMs: Math.max(startedAtMs, lastWriteMs),
    endReason: 'recovered-after-crash',
    metadata: metadata.model,
    metadataDocuments: metadata.documents,
    streams: [],
    sdpPauses: [],
    wav: wav && { file: wav.file, frames: wav.frames, sampleRate: wav.sampleRate },
    recovery: { repairedAt: new Date(now).toISOString(), ...(wav?.recovery ?? { headerDataBytes: 0, dataBytes: 0, droppedBytes: 0 }) },
  });
  await writeFileAtomically(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  await rm(paths.journal, { force: true });
  o.logger.warn(
    {
      srsRecordingId: recordingId,
      siprecCallId: summary.callId,
      dir,
      audioSeconds: summary.wav ? summary.wav.durationMs / 1000 : 0,
      dataBytes: summary.recovery!.dataBytes,
      headerDataBytes: summary.recovery!.headerDataBytes,
      droppedBytes: summary.recovery!.droppedBytes,
      journal: journal ? 'ok' : 'unreadable',
    },
    'recording left open by a crash repaired',
  );
  return summary;
}

/** Directories this process has looked through (repairOnStart). */
const looked = new Set<string>();

/**
 * repairOpenRecordings once per recordings directory and process: a recording server started
 * again in the same process (tests, a restart through the API) finds nothing a crash left, since
 * every journal there not written by this process was handled the first time.
 */
export function repairOnStart(o: RepairOptions): Promise<RepairReport> {
  const key = resolve(o.recordingsDir);
  if (looked.has(key)) return Promise.resolve({ repaired: [], failed: 0 });
  looked.add(key);
  return repairOpenRecordings(o);
}

/** Finds the recordings left open under `recordingsDir` and repairs them (see above). Never throws. */
export async function repairOpenRecordings(o: RepairOptions): Promise<RepairReport> {
  const report: RepairReport = { repaired: [], failed: 0 };
  let days: string[];
  try {
    days = (await readdir(o.recordingsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') o.logger.error({ err, dir: o.recordingsDir }, 'cannot look for recordings left open by a crash');
    return report;
  }
  for (const day of days.sort()) {
    const dir = join(o.recordingsDir, day);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      o.logger.error({ err, dir }, 'cannot look for recordings left open by a crash');
      continue;
    }
    for (const name of names) {
      if (!name.endsWith(OPEN_JOURNAL_SUFFIX)) continue;
      const recordingId = name.slice(0, -OPEN_JOURNAL_SUFFIX.length);
      try {
        const summary = await repairOne(dir, recordingId, names, o);
        if (summary) report.repaired.push(summary);
      } catch (err) {
        report.failed++;
        o.logger.error({ err, srsRecordingId: recordingId, dir }, 'a recording left open by a crash could not be repaired');
      }
    }
  }
  return report;
}
