import { randomUUID } from 'node:crypto';
import type Srf from 'drachtio-srf';
import { systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from '../common/clock.js';
import { AppError, isAppError } from '../common/errors.js';
import { ownString } from '../common/own-string.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { buildSnapshotRequest } from '../siprec/metadata-request.js';
import { RS_METADATA_REQUEST_CONTENT_TYPE, parseSiprecBody, type SiprecBody } from '../siprec/multipart.js';
import { isDraftEraSrcContact } from '../siprec/metadata-broadworks-headers.js';
import { parseRecordingSdp } from '../siprec/recording-sdp.js';
import { RECORDING_ID_HEADER } from '../siprec/recording-id-header.js';
import { onDialogEnded } from '../sip/dialog-ended.js';
import { settleDialog } from '../sip/settled-invite.js';
import { DEFAULT_BYE_AFTER_MS, DEFAULT_REJECT_STATUS, DEFAULT_SLOW_ANSWER_MS } from './srs-fault-options.js';
import type { SrsOptions } from './srs-options.js';
import { PortAllocator } from '../media/transport/port-allocator.js';
import { repairOnStart, type RepairReport } from './recording-repair.js';
import { RecordingStore } from './recording-store.js';
import { RecordingDiskGuard, checkRecordingsDir, toDiskFailure, type DiskFailureReason } from './disk-guard.js';
import { emptyStreams, type RecordingEndReason, type RecordingSummary } from './recording-summary.js';
import { SrsRecording } from './srs-recording.js';
import { InThreadRecordingMedia } from './recording-media.js';
import type { RecordingMediaBackend } from './recording-media-types.js';
import { SrsMediaPool, type SrsWorkerMemory } from './srs-media-pool.js';

/**
 * The reference recording server as an unmodified drachtio-srf application (RFC 7866 SRS role).
 *
 * INVITE:   Require: siprec (else 420) -> multipart body (else 400) -> metadata validated (400) ->
 *           SDP parsed (400) / acceptable (488) -> ports (503) -> 200 with a=recvonly per stream.
 * re-INVITE: new offer (a=inactive = pause, a=sendonly = resume) and/or metadata; 200 with the
 *           same ports. UPDATE/INFO with metadata: stored, 200.
 * BYE:      files finalised (WAV header fixed, summary written).
 * Snapshot: requestSnapshot() sends an UPDATE with an rs-metadata-request body (RFC 7866 9.3).
 * Faults:   options.faults (no-answer, reject, slow-answer, bye-after) for SRC failure tests.
 * Disk:     checkStorage() checks the recordings directory at start (options.startupCheck); an
 *           INVITE while free space is under options.minFreeMb, or after a degraded start, gets
 *           503 with a Warning; a disk fault while setting up gets 503, one while recording ends
 *           the session with BYE (Reason: SIP;cause=503) and end reason 'disk-error'. Each is
 *           counted by reason (failedCounts: srs_recordings_failed_total).
 * Start:    attach() repairs the recordings a crash left open (recording-repair.ts) in the
 *           background (new recordings carry this process's owner and are never touched);
 *           `recovery` resolves when it is done, `recoveredCounts` counts them.
 * Media:    the recordings' RTP receive and WAV writes run in options.mediaWorkers worker threads
 *           (srs-media-pool.ts; 0 = this thread); SIP, SDP, metadata and summaries stay here. A
 *           worker that dies fails its recordings like a disk fault (BYE with Reason 503, end
 *           reason 'disk-error', counted under 'media-worker-failed'); the next recording starts a
 *           new worker.
 */
type SrfRequest = Srf.SrfRequest;
type SrfResponse = Srf.SrfResponse;
type SrfDialog = Srf.Dialog;

export interface SrsAppDeps {
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
  /** Recording id generator; default crypto.randomUUID(). */
  newRecordingId?: () => string;
}

export interface ActiveRecording {
  readonly recording: SrsRecording;
  readonly dialog: SrfDialog;
}

export type SrsAppEvents = {
  'recording-started': [recording: SrsRecording];
  'recording-updated': [recording: SrsRecording];
  'recording-ended': [summary: RecordingSummary];
  /** An INVITE we refused (status) or a failure inside a dialog. */
  rejected: [status: number, reason: string];
  /** A recording failed or was refused because of the disk (counted under `reason`). */
  'recording-failed': [reason: DiskFailureReason, detail: string];
};

/**
 * A SIPREC INVITE: `Require: siprec` (RFC 7866 section 6.1.1), or the draft-era shape BroadWorks
 * sends without it, a Contact carrying the bare `;src` feature parameter.
 */
function hasSiprecTag(req: SrfRequest): boolean {
  const require = req.has('Require') ? req.get('Require') : '';
  const required = require
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .includes('siprec');
  return required || isDraftEraSrcContact(req.has('Contact') ? req.get('Contact') : '');
}

/** A Warning header value (RFC 3261 section 20.43) carrying a refusal's cause. */
/**
 * srf keeps the last offer's whole multipart body (SDP and metadata) as the dialog's remote SDP for
 * the recording's life; the SDP part alone, copied, is what that is (the metadata is stored).
 */
function keepSdpPart(dialog: SrfDialog, sdp: string | undefined): void {
  if (sdp !== undefined) dialog.remote.sdp = ownString(sdp);
}

function warning(text: string): Record<string, string> {
  return { Warning: `399 srs "${text.replace(/["\\\r\n]/g, ' ')}"` };
}

function statusOf(err: unknown): number {
  return isAppError(err) && err.sipStatus !== undefined ? err.sipStatus : 500;
}

export class SrsApp extends TypedEmitter<SrsAppEvents> {
  readonly options: SrsOptions;
  readonly store: RecordingStore;
  readonly #srf: Srf;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #log: Logger;
  readonly #ports: PortAllocator;
  readonly #media: RecordingMediaBackend;
  readonly #newId: () => string;
  readonly #active = new Map<string, ActiveRecording>();
  readonly #pendingTimers = new Set<TimerHandle>();
  /** Slow answers waiting for their delay; close() releases them at once. */
  readonly #waiters = new Set<() => void>();
  #closed = false;
  readonly #diskGuard: RecordingDiskGuard;
  readonly #failed = new Map<DiskFailureReason, number>();
  readonly #counted = new WeakSet<SrsRecording>();
  readonly #incomplete = { emptyChannel: 0, lostAudio: 0 };
  /** The last disk refusal's reason (warn once per change, info when recordings are admitted again). */
  #lastRefusal: DiskFailureReason | undefined;
  /** The start-up repair (attach()). */
  #recovery: Promise<RepairReport> = Promise.resolve({ repaired: [], failed: 0 });
  #recovered = { repaired: 0, failed: 0 };

  constructor(srf: Srf, options: SrsOptions, deps: SrsAppDeps = {}) {
    super();
    this.#srf = srf;
    this.options = options;
    this.#clock = deps.clock ?? systemClock;
    this.#timers = deps.timers ?? systemTimers;
    this.#log = (deps.logger ?? silentLogger).child({ component: 'srs' });
    this.#ports = new PortAllocator(options.rtpPorts.from, options.rtpPorts.to);
    this.#media = options.mediaWorkers > 0 ? new SrsMediaPool({ workers: options.mediaWorkers, clock: this.#clock, logger: this.#log }) : new InThreadRecordingMedia(this.#clock);
    this.#newId = deps.newRecordingId ?? (() => randomUUID());
    this.store = new RecordingStore(options.recordingsDir);
    // the recordings' small files are written where their audio is, off the signalling thread
    if (this.#media instanceof SrsMediaPool) this.store.runOps = this.#media.fileOps;
    this.#diskGuard = new RecordingDiskGuard(options.recordingsDir, options.minFreeMb);
    this.onListenerError = (err, event) => this.#log.error({ err, event }, 'listener failed');
  }

  /** Registers the INVITE route on srf (call before or after srf.connect()). */
  attach(): this {
    this.#media.start();
    this.#recovery = repairOnStart({ recordingsDir: this.options.recordingsDir, owner: this.store.owner, logger: this.#log }).then((report) => {
      this.#recovered = { repaired: report.repaired.length, failed: report.failed };
      return report;
    });
    this.#srf.invite((req: SrfRequest, res: SrfResponse) => {
      this.#onInvite(req, res).catch((err: unknown) => this.#log.error({ err }, 'INVITE handling failed'));
    });
    return this;
  }

  /** The start-up repair of recordings a crash left open (attach()); resolves when it is done, never rejects. */
  get recovery(): Promise<RepairReport> {
    return this.#recovery;
  }

  /** Recordings repaired at start-up and those that could not be (siprec_b2bua_srs_recordings_recovered_total). */
  get recoveredCounts(): { readonly repaired: number; readonly failed: number } {
    return this.#recovered;
  }

  /**
   * The start-up check of the recordings directory (created when missing, a probe file written and
   * removed). options.startupCheck 'refuse': throws SRS_RECORDINGS_DIR_UNWRITABLE naming the
   * directory; 'degraded': logs it at error and refuses every recording with 503 and the cause.
   */
  async checkStorage(): Promise<void> {
    try {
      await checkRecordingsDir(this.options.recordingsDir);
    } catch (err) {
      if (this.options.startupCheck === 'refuse') throw err;
      const cause = (err as Error).message;
      this.#log.error({ recordingsDir: this.options.recordingsDir, cause }, 'recordings directory is not writable: every recording is refused (srs.startupCheck degraded)');
      this.#diskGuard.markUnwritable(cause);
    }
  }

  /**
   * The media workers' own memory, summed (srs_worker_heap_bytes, srs_worker_array_buffer_bytes);
   * undefined when the media runs in this thread (srs.mediaWorkers 0) or no worker runs yet.
   */
  async workerMemory(): Promise<SrsWorkerMemory | undefined> {
    return this.#media instanceof SrsMediaPool ? this.#media.memory() : undefined;
  }

  /**
   * Recordings closed with a channel that received nothing, and recordings that lost audio (packets
   * placed too late or not at all), each logged at warn and marked in its summary
   * (siprec_b2bua_srs_recordings_incomplete_total).
   */
  get incompleteCounts(): { readonly emptyChannel: number; readonly lostAudio: number } {
    return this.#incomplete;
  }

  /** Recordings failed or refused because of the disk, by reason (siprec_b2bua_srs_recordings_failed_total). */
  get failedCounts(): ReadonlyMap<DiskFailureReason, number> {
    return this.#failed;
  }

  #countFailure(reason: DiskFailureReason, detail: string): void {
    this.#failed.set(reason, (this.#failed.get(reason) ?? 0) + 1);
    this.emit('recording-failed', reason, detail);
  }

  /** Active recordings by recording id. */
  recordings(): ReadonlyMap<string, ActiveRecording> {
    return this.#active;
  }

  #reject(res: SrfResponse, status: number, reason: string, headers: Record<string, string> = {}): void {
    this.#log.info({ status, reason }, 'INVITE refused');
    if (!res.finalResponseSent) res.send(status, { headers });
    this.emit('rejected', status, reason);
  }

  #later(ms: number, fn: () => void): void {
    const h = this.#timers.setTimeout(() => {
      this.#pendingTimers.delete(h);
      fn();
    }, ms);
    this.#pendingTimers.add(h);
  }

  async #onInvite(req: SrfRequest, res: SrfResponse): Promise<void> {
    if (this.#closed) return this.#reject(res, 503, 'shutting down');
    const faults = this.options.faults;
    if (faults.mode === 'no-answer') {
      this.#log.info('fault no-answer: INVITE left unanswered');
      return;
    }
    if (faults.mode === 'reject') {
      const headers: Record<string, string> = faults.retryAfterSec === undefined ? {} : { 'Retry-After': String(faults.retryAfterSec) };
      return this.#reject(res, faults.status ?? DEFAULT_REJECT_STATUS, 'fault reject', headers);
    }
    if (this.options.requireSiprec && !hasSiprecTag(req)) return this.#reject(res, 420, 'Require: siprec missing');

    let body: SiprecBody;
    try {
      body = parseSiprecBody(req.has('Content-Type') ? req.get('Content-Type') : undefined, req.body ?? '');
      if (body.sdp === undefined) throw new AppError('SIPREC_SDP_INVALID', 'no application/sdp part');
    } catch (err) {
      return this.#reject(res, statusOf(err) === 500 ? 400 : statusOf(err), (err as Error).message);
    }

    const refusal = await this.#diskGuard.admit();
    if (refusal) {
      this.#countFailure(refusal.reason, refusal.detail);
      if (this.#lastRefusal !== refusal.reason) this.#log.warn({ reason: refusal.reason, detail: refusal.detail }, 'recordings refused: disk');
      this.#lastRefusal = refusal.reason;
      return this.#reject(res, 503, refusal.detail, warning(refusal.detail));
    }
    if (this.#lastRefusal !== undefined) {
      this.#log.info({ after: this.#lastRefusal }, 'recordings admitted again: disk');
      this.#lastRefusal = undefined;
    }

    let canceled = false;
    req.on('cancel', () => {
      canceled = true;
    });

    let recording: SrsRecording;
    try {
      const offer = parseRecordingSdp(body.sdp!);
      const recordingId = this.#newId();
      recording = await SrsRecording.start({
        recordingId,
        callId: ownString(req.get('Call-ID')),
        offer,
        metadataXml: body.metadata,
        store: this.store,
        ports: this.#ports,
        rtpAddress: this.options.rtpAddress,
        acceptCodecs: this.options.acceptCodecs,
        jitterWindowMs: this.options.jitterWindowMs,
        validate: this.options.validateMetadata,
        srtp: this.options.srtp,
        clock: this.#clock,
        logger: this.#log,
        media: this.#media,
        reserveSpace: (path) => this.#diskGuard.reserve(path, this.store.runOps),
        onDiskFailure: () => this.#onDiskFailure(recordingId),
      });
    } catch (err) {
      const disk = isAppError(err, 'SRS_DISK_ERROR') ? toDiskFailure(err.cause) : undefined;
      if (disk) {
        this.#countFailure(disk.reason, disk.message);
        this.#log.error({ code: disk.code, reason: disk.reason, detail: disk.message }, 'recording refused: disk error');
        return this.#reject(res, statusOf(err), (err as Error).message, warning(`${disk.reason} ${disk.code}`));
      }
      return this.#reject(res, statusOf(err), (err as Error).message);
    }

    if (faults.mode === 'slow-answer') {
      res.send(180);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#waiters.delete(done);
          resolve();
        };
        this.#waiters.add(done);
        this.#later(faults.delayMs ?? DEFAULT_SLOW_ANSWER_MS, done);
      });
    }
    if (canceled || this.#closed) {
      if (this.#closed && !res.finalResponseSent) res.send(503);
      await this.#finish(recording, this.#closed ? 'shutdown' : 'error');
      return;
    }
    const failedEarly = recording.diskFailure;
    if (failedEarly) {
      this.#reject(res, 503, failedEarly.message, warning(`${failedEarly.reason} ${failedEarly.code}`));
      await this.#finish(recording, 'disk-error');
      return;
    }

    let dialog: SrfDialog;
    try {
      // the recording id the files are named by, for the SRC's view of the call (docs/siprec.md)
      const headers = { 'Content-Type': 'application/sdp', [RECORDING_ID_HEADER]: recording.recordingId };
      dialog = await this.#srf.createUAS(req, res, { localSdp: recording.answerSdp, headers });
      keepSdpPart(dialog, body.sdp); // first: settling then copies the SDP part, not the whole body
      settleDialog(dialog);
    } catch (err) {
      this.#log.info({ err }, 'INVITE ended before the dialog was established');
      await this.#finish(recording, 'error');
      return;
    }
    this.#active.set(recording.recordingId, { recording, dialog });
    this.emit('recording-started', recording);
    this.#wireDialog(recording, dialog);
    // a write that failed while the ACK was awaited ends the session now
    if (recording.diskFailure) return this.#onDiskFailure(recording.recordingId);

    if (faults.mode === 'bye-after') {
      this.#later(faults.afterMs ?? DEFAULT_BYE_AFTER_MS, () => {
        if (!this.#active.has(recording.recordingId)) return;
        dialog.destroy();
        void this.#end(recording, 'fault-bye');
      });
    }
  }

  #wireDialog(recording: SrsRecording, dialog: SrfDialog): void {
    onDialogEnded(dialog, () => {
      void this.#end(recording, 'bye-from-src');
    });
    dialog.on('modify', (req: SrfRequest, res: SrfResponse) => {
      void this.#onReinvite(recording, dialog, req, res);
    });
    const metadataOnly = (req: SrfRequest, res: SrfResponse): void => {
      void (async () => {
        try {
          const body = parseSiprecBody(req.has('Content-Type') ? req.get('Content-Type') : undefined, req.body ?? '');
          if (body.metadata !== undefined) {
            await recording.addMetadata(body.metadata);
            this.emit('recording-updated', recording);
          }
          res.send(200);
        } catch (err) {
          res.send(statusOf(err) === 500 ? 400 : statusOf(err));
          this.emit('rejected', statusOf(err), (err as Error).message);
        }
      })();
    };
    dialog.on('update', metadataOnly);
    dialog.on('info', metadataOnly);
  }

  async #onReinvite(recording: SrsRecording, dialog: SrfDialog, req: SrfRequest, res: SrfResponse): Promise<void> {
    try {
      const body = parseSiprecBody(req.has('Content-Type') ? req.get('Content-Type') : undefined, req.body ?? '');
      const offer = body.sdp === undefined ? undefined : parseRecordingSdp(body.sdp);
      const answer = await recording.update(offer, body.metadata);
      dialog.local.sdp = answer;
      keepSdpPart(dialog, body.sdp);
      res.send(200, { body: answer, headers: { 'Content-Type': 'application/sdp' } });
      this.emit('recording-updated', recording);
    } catch (err) {
      const status = statusOf(err) === 500 ? 400 : statusOf(err);
      res.send(status);
      this.emit('rejected', status, (err as Error).message);
    }
  }

  async #end(recording: SrsRecording, reason: RecordingEndReason): Promise<RecordingSummary> {
    this.#active.delete(recording.recordingId);
    const summary = await this.#finish(recording, reason);
    this.emit('recording-ended', summary);
    return summary;
  }

  /**
   * Closes a recording (files finalised); one that a disk fault failed is counted once, here, and
   * so is one that closed with an empty channel or lost audio (its summary says so).
   */
  async #finish(recording: SrsRecording, reason: RecordingEndReason): Promise<RecordingSummary> {
    const summary = await recording.close(reason);
    if (this.#counted.has(recording)) return summary;
    this.#counted.add(recording);
    const failure = recording.diskFailure;
    if (failure) this.#countFailure(failure.reason, `${failure.code}: ${failure.message}`);
    if (emptyStreams(summary).length > 0) this.#incomplete.emptyChannel++;
    if (summary.lostAudio) this.#incomplete.lostAudio++;
    return summary;
  }

  /**
   * A write of an established recording failed: BYE with the cause (RFC 3326 Reason) so that the
   * SRC applies its failure policy, and the recording ends as 'disk-error'. Before the
   * dialog exists #onInvite refuses the INVITE instead.
   */
  #onDiskFailure(recordingId: string): void {
    const active = this.#active.get(recordingId);
    const failure = active?.recording.diskFailure;
    if (!active || !failure) return;
    try {
      active.dialog.destroy({ headers: { Reason: `SIP ;cause=503 ;text="${failure.reason} ${failure.code}"` } }, () => undefined);
    } catch {
      // the dialog may already be gone
    }
    void this.#end(active.recording, 'disk-error');
  }

  /**
   * Asks the SRC for a complete metadata snapshot (RFC 7866 section 9.3): an in-dialog UPDATE with
   * an application/rs-metadata-request body. Resolves with the SRC's status code.
   */
  async requestSnapshot(recordingId: string, reason = 'SRS internal error'): Promise<number> {
    const active = this.#active.get(recordingId);
    if (!active) throw new AppError('CLOSED', `no active recording ${recordingId}`);
    const res = await active.dialog.request({
      method: 'UPDATE',
      headers: { 'Content-Type': RS_METADATA_REQUEST_CONTENT_TYPE },
      body: buildSnapshotRequest(reason),
    } as unknown as Srf.SrfRequest);
    return res.status;
  }

  /** Ends one recording from the SRS side (BYE) and finalises its files. */
  async stopRecording(recordingId: string): Promise<RecordingSummary | undefined> {
    const active = this.#active.get(recordingId);
    if (!active) return undefined;
    active.dialog.destroy();
    return this.#end(active.recording, 'bye-from-srs');
  }

  /** Sends BYE on every active recording, finalises the files, clears timers. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const h of this.#pendingTimers) this.#timers.clearTimeout(h);
    this.#pendingTimers.clear();
    for (const release of [...this.#waiters]) release();
    await Promise.all(
      [...this.#active.values()].map(async ({ recording, dialog }) => {
        try {
          dialog.destroy();
        } catch {
          // the dialog may already be gone
        }
        await this.#end(recording, 'shutdown');
      }),
    );
    await this.#media.close();
  }

  /** Where the recordings' media runs (the media workers, or this thread with mediaWorkers 0). */
  get media(): RecordingMediaBackend {
    return this.#media;
  }
}
