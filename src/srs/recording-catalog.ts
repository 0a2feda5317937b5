import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../common/errors.js';
import { parseMetadata } from '../siprec/metadata-parser.js';
import { RESERVE_SUFFIX } from './disk-guard.js';
import { OPEN_JOURNAL_SUFFIX, type OpenRecordingJournal } from './recording-store.js';
import type { RecordingSummary } from './recording-summary.js';

/**
 * Reads the recordings directory the reference recording server writes (layout in
 * recording-store.ts): which recordings a day folder holds and their files, the summary, the
 * metadata history in the order received, and the WAV. The retention clean-up (retention.ts) and
 * the recordings read API (src/admin/plugins/recordings-plugin.ts) read through it. Read only.
 *
 * Recording ids are checked against the store's safe-name rule before any path is built from
 * them (RECORDING_ID_INVALID, 400), so no id reaches outside its day folder.
 */

/** A day folder: `YYYY-MM-DD` (UTC date of the recordings' start). */
const DAY_DIR = /^\d{4}-\d{2}-\d{2}$/;
const METADATA_N = /\.metadata\.(\d+)\.xml$/;
/** The store's rule for recording ids (RecordingStore.create refuses any other): a file name, no path. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A recording id usable as a file name: letters, digits, '.', '_', '-', starting with a letter or digit, at most 128. */
export function isSafeRecordingId(id: string): boolean {
  return SAFE_ID.test(id);
}
const SUFFIXES = ['.wav', '.json', OPEN_JOURNAL_SUFFIX, '.metadata.xml', RESERVE_SUFFIX] as const;

/** The files of one recording found in its day folder (names only; `dir` is the folder). */
export interface RecordingOnDisk {
  readonly recordingId: string;
  readonly day: string;
  readonly dir: string;
  /** Every file of the recording, by name. */
  readonly files: readonly string[];
  readonly hasSummary: boolean;
  readonly hasJournal: boolean;
  readonly hasWav: boolean;
}

/** The recording id a file of the layout belongs to; undefined for any other file. */
export function recordingIdOfFile(name: string): string | undefined {
  const n = METADATA_N.exec(name);
  if (n) return name.slice(0, n.index);
  for (const s of SUFFIXES) if (name.endsWith(s) && name.length > s.length) return name.slice(0, -s.length);
  return undefined;
}

/** Day folders under the root, oldest first (a missing root has none). */
export async function listDays(rootDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(rootDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((d) => DAY_DIR.test(d)).sort();
}

/** The recordings of one day folder, grouped by id, in id order. */
export async function recordingsOfDay(rootDir: string, day: string): Promise<RecordingOnDisk[]> {
  const dir = join(rootDir, day);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const byId = new Map<string, string[]>();
  for (const name of names) {
    const id = recordingIdOfFile(name);
    if (id === undefined || !isSafeRecordingId(id)) continue;
    const list = byId.get(id) ?? [];
    list.push(name);
    byId.set(id, list);
  }
  return [...byId.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([recordingId, files]) => ({
      recordingId,
      day,
      dir,
      files: files.sort(),
      hasSummary: files.includes(`${recordingId}.json`),
      hasJournal: files.includes(`${recordingId}${OPEN_JOURNAL_SUFFIX}`),
      hasWav: files.includes(`${recordingId}.wav`),
    }));
}

/** The recording's summary; undefined when it has none or it cannot be parsed. */
export async function readSummary(rec: RecordingOnDisk): Promise<RecordingSummary | undefined> {
  if (!rec.hasSummary) return undefined;
  try {
    return JSON.parse(await readFile(join(rec.dir, `${rec.recordingId}.json`), 'utf8')) as RecordingSummary;
  } catch {
    return undefined;
  }
}

/** The `.open` journal of a recording still open (or left open by a crash); undefined without one. */
export async function readJournal(rec: RecordingOnDisk): Promise<OpenRecordingJournal | undefined> {
  if (!rec.hasJournal) return undefined;
  try {
    return JSON.parse(await readFile(join(rec.dir, `${rec.recordingId}${OPEN_JOURNAL_SUFFIX}`), 'utf8')) as OpenRecordingJournal;
  } catch {
    return undefined;
  }
}

/** The organisation (tenant) the SRC wrote into the latest metadata document (`<b2b:call tenant>`). */
export async function tenantFromMetadata(rec: RecordingOnDisk): Promise<string | undefined> {
  const name = `${rec.recordingId}.metadata.xml`;
  if (!rec.files.includes(name)) return undefined;
  try {
    const model = parseMetadata(await readFile(join(rec.dir, name), 'utf8'));
    return model.sessions.find((s) => s.call?.tenant !== undefined)?.call?.tenant;
  } catch {
    return undefined;
  }
}

/** The metadata documents of a recording in the order received: file names `<id>.metadata.<n>.xml`, n ascending. */
export function metadataHistory(rec: RecordingOnDisk): Array<{ index: number; file: string }> {
  return rec.files
    .map((file) => ({ file, m: METADATA_N.exec(file) }))
    .filter((x): x is { file: string; m: RegExpExecArray } => x.m !== null && x.file.slice(0, x.m.index) === rec.recordingId)
    .map(({ file, m }) => ({ index: Number(m[1]), file }))
    .sort((a, b) => a.index - b.index);
}

/** Throws RECORDING_ID_INVALID (400) unless the id is a safe recording file name. */
export function checkRecordingId(id: string): string {
  if (!isSafeRecordingId(id)) throw new AppError('RECORDING_ID_INVALID', JSON.stringify(id.slice(0, 140)));
  return id;
}

/** Finds a recording by id (newest day first); throws RECORDING_ID_INVALID / RECORDING_NOT_FOUND. */
export async function findRecording(rootDir: string, id: string): Promise<RecordingOnDisk> {
  checkRecordingId(id);
  for (const day of (await listDays(rootDir)).reverse()) {
    try {
      await stat(join(rootDir, day, `${id}.json`));
    } catch {
      continue;
    }
    const rec = (await recordingsOfDay(rootDir, day)).find((r) => r.recordingId === id);
    if (rec) return rec;
  }
  throw new AppError('RECORDING_NOT_FOUND', id);
}

/** A recordings list query (every field optional): start time in [from, to), organisation, user; newest first. */
export interface RecordingQuery {
  /** Epoch ms, inclusive. */
  fromMs?: number;
  /** Epoch ms, exclusive. */
  toMs?: number;
  /** The organisation (the summary's call.tenant). */
  orgId?: string;
  /** A recorded party: its address of record, the user part of it, or its platform user id. */
  user?: string;
  /** Default 100, 1..1000. */
  limit?: number;
  /** Default 0. */
  offset?: number;
}

/** One line of the list: the summary's headline facts. */
export interface RecordingListEntry {
  recordingId: string;
  callId: string;
  orgId: string | undefined;
  direction: string | undefined;
  startedAt: string;
  stoppedAt: string | undefined;
  durationMs: number;
  endReason: string | undefined;
  participants: Array<{ aor: string | undefined; name: string | undefined }>;
  /**
   * The party this recording is for: the sender of stream label 2, so the two recordings of a
   * call with two recorded users tell apart; undefined when the metadata names none.
   */
  recordedParty: { aor: string | undefined; name: string | undefined } | undefined;
  /** The recorded party's recording mode as the product wrote it (`<b2b:call recordingMode>`, R-17). */
  mode: string | undefined;
  /** The recorded call's SIP Call-IDs (RFC 7865 `<sipSessionID>`): the recordings of one call share them. */
  sipSessionIds: string[];
  srtp: boolean;
  metadataDocuments: number;
  wavDurationMs: number | undefined;
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

/** Does a participant of the summary stand for `user` (aor, the aor's user part, or platform user id)? */
function hasUser(summary: RecordingSummary, user: string): boolean {
  const wanted = user.toLowerCase();
  return summary.participants.some((p) => {
    const aor = (p.aor ?? '').toLowerCase();
    const userPart = /^(?:sips?|tel):([^@;]+)/.exec(aor)?.[1];
    const platformId = (p.platform as { externalIdentifier?: unknown } | undefined)?.externalIdentifier;
    return aor === wanted || userPart === wanted || (typeof platformId === 'string' && platformId.toLowerCase() === wanted);
  });
}

/** The participant who sends stream label 2, the recorded user. */
export function recordedPartyOf(summary: RecordingSummary): { aor: string | undefined; name: string | undefined } | undefined {
  const sender = summary.streams.find((s) => s.label === '2')?.senders?.[0];
  const p = sender === undefined ? undefined : summary.participants.find((x) => x.id === sender);
  return p ? { aor: p.aor, name: p.name } : undefined;
}

/** Finished recordings (those with a summary) matching the query, newest first, with the total before paging. */
export async function listRecordings(rootDir: string, q: RecordingQuery): Promise<{ total: number; recordings: RecordingListEntry[] }> {
  const matches: RecordingSummary[] = [];
  for (const day of await listDays(rootDir)) {
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    if (q.toMs !== undefined && dayStart >= q.toMs) continue;
    if (q.fromMs !== undefined && dayStart + 86_400_000 <= q.fromMs) continue;
    for (const rec of await recordingsOfDay(rootDir, day)) {
      const s = await readSummary(rec);
      if (!s) continue;
      const started = Date.parse(s.startedAt);
      if (q.fromMs !== undefined && !(started >= q.fromMs)) continue;
      if (q.toMs !== undefined && !(started < q.toMs)) continue;
      if (q.orgId !== undefined && s.call?.tenant !== q.orgId) continue;
      if (q.user !== undefined && !hasUser(s, q.user)) continue;
      matches.push(s);
    }
  }
  matches.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || (a.recordingId < b.recordingId ? -1 : 1));
  const offset = q.offset ?? 0;
  const page = matches.slice(offset, offset + (q.limit ?? DEFAULT_LIST_LIMIT));
  return {
    total: matches.length,
    recordings: page.map((s) => ({
      recordingId: s.recordingId,
      callId: s.callId,
      orgId: s.call?.tenant,
      direction: s.call?.direction,
      startedAt: s.startedAt,
      stoppedAt: s.stoppedAt,
      durationMs: s.durationMs,
      endReason: s.endReason,
      participants: s.participants.map((p) => ({ aor: p.aor, name: p.name })),
      recordedParty: recordedPartyOf(s),
      mode: s.call?.recordingMode,
      sipSessionIds: s.sipSessionIds ?? [],
      srtp: s.streams.length > 0 && s.streams.every((x) => x.srtp === true),
      metadataDocuments: s.metadataDocuments,
      wavDurationMs: s.wav?.durationMs,
    })),
  };
}
