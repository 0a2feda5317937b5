/**
 * Disk faults while the reference SRS sets a recording up (SrsRecording.start): the INVITE is
 * refused with 503 (SRS_DISK_ERROR naming the errno), nothing is leaked (RTP ports, sockets,
 * space reservation) and a recording that had its files is closed with a summary saying why.
 * RTP ports 19846-19849 (the disk-faults block).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { isAppError } from '../../../src/common/errors.js';
import { PortAllocator } from '../../../src/media/transport/port-allocator.js';
import { buildSrcOffer, parseRecordingSdp } from '../../../src/siprec/index.js';
import { RecordingDiskGuard } from '../../../src/srs/disk-guard.js';
import { RecordingStore, type RecordingFiles } from '../../../src/srs/recording-store.js';
import { SrsRecording, type SrsRecordingInit } from '../../../src/srs/srs-recording.js';

const root = mkdtempSync(join(tmpdir(), 'disk-start-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const enospc = (): NodeJS.ErrnoException => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** A store whose files fail one step with ENOSPC. */
class FailingStore extends RecordingStore {
  readonly #fail: 'create' | 'markOpen';
  constructor(dir: string, fail: 'create' | 'markOpen') {
    super(dir);
    this.#fail = fail;
  }
  override async create(recordingId: string, startedAtMs: number): Promise<RecordingFiles> {
    if (this.#fail === 'create') throw enospc();
    const files = await super.create(recordingId, startedAtMs);
    return Object.assign(Object.create(Object.getPrototypeOf(files) as object) as RecordingFiles, files, {
      markOpen: () => Promise.reject(enospc()),
      appendMetadata: files.appendMetadata.bind(files),
      writeSummary: files.writeSummary.bind(files),
      get metadataCount() {
        return files.metadataCount;
      },
    });
  }
}

function init(store: RecordingStore, ports: PortAllocator, dir: string): SrsRecordingInit {
  const guard = new RecordingDiskGuard(dir, 0);
  return {
    recordingId: 'rec-disk',
    callId: 'call-disk',
    offer: parseRecordingSdp(buildSrcOffer({ sessionId: '1', version: 1, address: '127.0.0.1', direction: 'sendonly', streams: [{ label: '1', port: 19000 }, { label: '2', port: 19002 }] })),
    metadataXml: undefined,
    store,
    ports,
    rtpAddress: '127.0.0.1',
    acceptCodecs: ['PCMU', 'PCMA'],
    jitterWindowMs: 200,
    validate: false,
    clock: systemClock,
    reserveSpace: (path) => guard.reserve(path),
  };
}

describe('disk faults while a recording is set up', () => {
  it('MUST answer 503 (SRS_DISK_ERROR with the errno) and release the RTP ports when the files cannot be created', async () => {
    const ports = new PortAllocator(19846, 19849);
    const dir = join(root, 'create');
    const err = await SrsRecording.start(init(new FailingStore(dir, 'create'), ports, dir)).catch((e: unknown) => e);
    expect(isAppError(err, 'SRS_DISK_ERROR')).toBe(true);
    expect((err as { sipStatus: number }).sipStatus).toBe(503);
    expect((err as Error).message).toContain('ENOSPC');
    expect(ports.inUse).toBe(0);
  });

  it('MUST close a recording whose set-up failed after its files were opened: ports and sockets released, reservation given back, summary with end reason disk-error and ENOSPC', async () => {
    const ports = new PortAllocator(19846, 19849);
    const dir = join(root, 'mark-open');
    const err = await SrsRecording.start(init(new FailingStore(dir, 'markOpen'), ports, dir)).catch((e: unknown) => e);
    expect(isAppError(err, 'SRS_DISK_ERROR')).toBe(true);
    expect(ports.inUse).toBe(0);
    const day = readdirSync(dir)[0]!;
    const files = readdirSync(join(dir, day));
    expect(files.some((f) => f.endsWith('.reserve')), files.join(', ')).toBe(false);
    const summary = JSON.parse(readFileSync(join(dir, day, 'rec-disk.json'), 'utf8')) as { endReason: string; failure: { code: string; reason: string } };
    expect(summary.endReason).toBe('disk-error');
    expect(summary.failure).toMatchObject({ code: 'ENOSPC', reason: 'disk-full' });
    // the sockets are closed: the same ports can be bound again
    const again = await SrsRecording.start(init(new RecordingStore(join(root, 'ok')), ports, join(root, 'ok')));
    expect(again.state).toBe('receiving');
    const closed = await again.close('bye-from-src');
    expect(closed.failure).toBeUndefined();
    expect(existsSync(join(root, 'ok', day, 'rec-disk.reserve'))).toBe(false);
  });
});
