import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from '../common/clock.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { FREE_PLAN_RETENTION_DAYS } from '../policy/policy-defaults.js';
import type { ProviderPlan } from '../policy/policy-types.js';
import { listDays, readJournal, readSummary, recordingsOfDay, tenantFromMetadata, type RecordingOnDisk } from './recording-catalog.js';

/**
 * Retention of the reference recording server (R-08: a free plan keeps recordings 30 days, a paid
 * plan without limit): a periodic clean-up that deletes every file of a recording (WAV, summary,
 * metadata history, latest metadata, journal) once it is older than the retention of its
 * organisation.
 *
 *   age          now - the recording's start (summary startedAt; else the journal; else its day folder)
 *   organisation the summary's call.tenant; else the tenant of its latest metadata document
 *   retention    RetentionPolicy(orgId): days, or null = keep (configRetention, planRetention)
 *
 * A recording still being written (isActive) is never touched. Each deletion is logged at info
 * with the recording id and its age; a file that cannot be deleted is counted (`failedDeletions`)
 * and logged at warn with its cause, and the next run tries again. Day folders left empty are
 * removed. Runs at start(), then every `intervalMs` (default one hour); runs never overlap.
 */

/** Days a recording of this organisation is kept; null (or 0) = kept without limit. `orgId` undefined: the recording names none. */
export type RetentionPolicy = (orgId: string | undefined) => number | null | Promise<number | null>;

/** Config retention (the standalone server): the organisation's override, else the default; 0 = keep. */
export function configRetention(o: { days: number; byOrg: Readonly<Record<string, number>> }): RetentionPolicy {
  return (orgId) => {
    const days = orgId !== undefined && Object.hasOwn(o.byOrg, orgId) ? o.byOrg[orgId]! : o.days;
    return days > 0 ? days : null;
  };
}

/**
 * Plan retention (the in-process server, R-08): the organisation's override first; then the plan of
 * the organisation's provider from the settings (free: 30 days, paid: without limit); an
 * organisation without a provider or plan (or none at all) falls back to the default days.
 * `planOf` resolves undefined when it knows no plan.
 */
export function planRetention(
  planOf: (orgId: string) => Promise<ProviderPlan | null | undefined>,
  fallback: { days: number; byOrg: Readonly<Record<string, number>> },
): RetentionPolicy {
  const byConfig = configRetention(fallback);
  return async (orgId) => {
    if (orgId !== undefined && Object.hasOwn(fallback.byOrg, orgId)) return byConfig(orgId);
    const plan = orgId === undefined ? undefined : await planOf(orgId);
    if (plan === 'free') return FREE_PLAN_RETENTION_DAYS;
    if (plan === 'paid') return null;
    return byConfig(orgId);
  };
}

export interface RetentionOptions {
  recordingsDir: string;
  policy: RetentionPolicy;
  /** Time between runs, ms. Default 3 600 000 (one hour). */
  intervalMs?: number;
  /** A recording still being written (SrsApp.recordings()); never deleted. Default none. */
  isActive?: (recordingId: string) => boolean;
  /** Resolved before the first run (e.g. SrsApp.recovery: the start-up repair). Default none. */
  after?: Promise<unknown>;
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
}

export interface RetentionRunReport {
  /** Recordings deleted, with their organisation and age. */
  deleted: Array<{ recordingId: string; orgId: string | undefined; ageDays: number; retentionDays: number }>;
  /** Files that could not be deleted in this run. */
  failed: number;
  /** Recordings looked at. */
  scanned: number;
}

const DAY_MS = 86_400_000;
export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;

export class RecordingRetention {
  readonly #o: RetentionOptions;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #log: Logger;
  #timer: TimerHandle | undefined;
  #running: Promise<RetentionRunReport> | undefined;
  #closed = false;
  #deletedTotal = 0;
  #failedTotal = 0;

  constructor(options: RetentionOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#log = (options.logger ?? silentLogger).child({ component: 'srs-retention' });
  }

  /** Recordings deleted since start. */
  get deletedRecordings(): number {
    return this.#deletedTotal;
  }

  /** Files that could not be deleted since start (each logged at warn). */
  get failedDeletions(): number {
    return this.#failedTotal;
  }

  /** Runs once now (after `options.after`), then every intervalMs. Resolves with the first run's report. */
  async start(): Promise<RetentionRunReport> {
    const intervalMs = this.#o.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
    this.#timer = this.#timers.setInterval(() => void this.runOnce(), intervalMs);
    await this.#o.after?.catch(() => undefined);
    return this.runOnce();
  }

  /** One clean-up pass; a pass already running is joined, not doubled. Never rejects. */
  runOnce(): Promise<RetentionRunReport> {
    if (this.#closed) return Promise.resolve({ deleted: [], failed: 0, scanned: 0 });
    this.#running ??= this.#run()
      .catch((err: unknown) => {
        this.#log.warn({ err, recordingsDir: this.#o.recordingsDir }, 'retention clean-up failed');
        return { deleted: [], failed: 0, scanned: 0 };
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Stops the periodic runs and waits for a run in progress. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #run(): Promise<RetentionRunReport> {
    const report: RetentionRunReport = { deleted: [], failed: 0, scanned: 0 };
    const now = this.#clock.now();
    const retentionOf = new Map<string | undefined, Promise<number | null>>();
    const root = this.#o.recordingsDir;
    for (const day of await listDays(root)) {
      if (this.#closed) break;
      const recordings = await recordingsOfDay(root, day);
      let left = recordings.length;
      for (const rec of recordings) {
        report.scanned++;
        if (this.#o.isActive?.(rec.recordingId)) continue;
        const facts = await this.#facts(rec);
        if (!retentionOf.has(facts.orgId)) retentionOf.set(facts.orgId, Promise.resolve(this.#o.policy(facts.orgId)).catch(() => null));
        const days = await retentionOf.get(facts.orgId)!;
        if (days === null || days <= 0) continue;
        const ageMs = now - facts.startedAtMs;
        if (ageMs < days * DAY_MS) continue;
        const failed = await this.#delete(rec);
        const ageDays = Math.floor((ageMs / DAY_MS) * 10) / 10;
        if (failed > 0) {
          report.failed += failed;
          continue;
        }
        left--;
        this.#deletedTotal++;
        report.deleted.push({ recordingId: rec.recordingId, orgId: facts.orgId, ageDays, retentionDays: days });
        this.#log.info({ srsRecordingId: rec.recordingId, orgId: facts.orgId, ageDays, retentionDays: days, startedAt: new Date(facts.startedAtMs).toISOString() }, 'recording deleted: older than its retention');
      }
      if (left === 0 && recordings.length > 0) await rmdir(join(root, day)).catch(() => undefined); // only when empty
    }
    return report;
  }

  /** When the recording started and whose it is. */
  async #facts(rec: RecordingOnDisk): Promise<{ startedAtMs: number; orgId: string | undefined }> {
    const summary = await readSummary(rec);
    const fromSummary = summary?.startedAt === undefined ? Number.NaN : Date.parse(summary.startedAt);
    let startedAtMs = fromSummary;
    if (!Number.isFinite(startedAtMs)) startedAtMs = (await readJournal(rec))?.startedAtMs ?? Number.NaN;
    if (!Number.isFinite(startedAtMs)) startedAtMs = Date.parse(`${rec.day}T00:00:00Z`);
    const orgId = summary?.call?.tenant ?? (await tenantFromMetadata(rec));
    return { startedAtMs, orgId };
  }

  /** Deletes every file of the recording; returns how many could not be deleted (each counted, logged at warn). */
  async #delete(rec: RecordingOnDisk): Promise<number> {
    let failed = 0;
    // the summary last, and only when every other file went: a recording whose deletion failed
    // half-way stays listed and is retried on the next run
    const summary = `${rec.recordingId}.json`;
    const files = [...rec.files.filter((f) => f !== summary), ...(rec.hasSummary ? [summary] : [])];
    for (const file of files) {
      if (file === summary && failed > 0) break;
      try {
        await rm(join(rec.dir, file), { force: true });
      } catch (err) {
        failed++;
        this.#failedTotal++;
        this.#log.warn({ srsRecordingId: rec.recordingId, file, code: (err as NodeJS.ErrnoException).code, err }, 'retention: could not delete a recording file');
      }
    }
    return failed;
  }
}
