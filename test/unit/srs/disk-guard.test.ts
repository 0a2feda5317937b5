import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { buildRecordingSummary } from '../../../src/srs/recording-summary.js';
import { RecordingDiskGuard, SUMMARY_RESERVE_BYTES, SpaceReservation, checkRecordingsDir, diskFailureOf, toDiskFailure } from '../../../src/srs/disk-guard.js';
import { runFileOps, type FileOpsRunner } from '../../../src/srs/file-ops.js';
import { StereoWavWriter } from '../../../src/srs/stereo-wav-writer.js';
import { until } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'disk-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: simulated`), { code });

describe('disk faults are failures (disk-guard)', () => {
  it('MUST count ENOSPC as disk-full, EIO as disk-io-error and an unwritable folder as recordings-dir-unwritable; other errors are not disk faults', () => {
    expect(diskFailureOf(errno('ENOSPC'))).toMatchObject({ code: 'ENOSPC', reason: 'disk-full' });
    expect(diskFailureOf(errno('EDQUOT'))?.reason).toBe('disk-full');
    expect(diskFailureOf(errno('EIO'))).toMatchObject({ code: 'EIO', reason: 'disk-io-error' });
    expect(diskFailureOf(errno('EROFS'))?.reason).toBe('recordings-dir-unwritable');
    expect(diskFailureOf(errno('ENOTDIR'))?.reason).toBe('recordings-dir-unwritable');
    expect(diskFailureOf(new RangeError('unsafe recording id'))).toBeUndefined();
    expect(toDiskFailure(new Error('odd')).reason).toBe('disk-io-error');
  });

  it('MUST refuse a recordings directory that cannot be created, naming it and the errno (a file where the folder should be)', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const bad = join(file, 'recordings');
    const err = await checkRecordingsDir(bad).catch((e: unknown) => e);
    expect(isAppError(err, 'SRS_RECORDINGS_DIR_UNWRITABLE')).toBe(true);
    expect((err as Error).message).toContain(bad);
    expect((err as Error).message).toContain('ENOTDIR');
  });

  it('MUST create a missing recordings directory at the start-up check and leave no probe file, and remove stale reservations', async () => {
    const ok = join(dir, 'fresh', 'recordings');
    mkdirSync(join(ok, '2026-01-01'), { recursive: true });
    writeFileSync(join(ok, '2026-01-01', 'old.reserve'), Buffer.alloc(10));
    writeFileSync(join(ok, '2026-01-01', 'old.wav'), Buffer.alloc(10));
    await checkRecordingsDir(ok);
    expect(readdirSync(ok)).toEqual(['2026-01-01']);
    expect(readdirSync(join(ok, '2026-01-01'))).toEqual(['old.wav']);
  });

  it('MUST refuse a new recording while free space is under minFreeMb, with the free space and the threshold in the cause; 0 turns the check off', async () => {
    const low = new RecordingDiskGuard(dir, Number.MAX_SAFE_INTEGER);
    const refusal = await low.admit();
    expect(refusal?.reason).toBe('low-free-space');
    expect(refusal?.detail).toMatch(/MB free in .* under srs.minFreeMb/);
    expect(await new RecordingDiskGuard(dir, 0).admit()).toBeUndefined();
    expect(await new RecordingDiskGuard(dir, 1).admit()).toBeUndefined();
  });

  it('MUST refuse every recording after a degraded start, with the start-up cause', async () => {
    const guard = new RecordingDiskGuard(dir, 0);
    guard.markUnwritable('recordings directory is not writable: /x (EROFS)');
    expect(await guard.admit()).toEqual({ reason: 'recordings-dir-unwritable', detail: 'recordings directory is not writable: /x (EROFS)' });
  });

  it('MUST hold the summary reservation until released, then free it (idempotent)', async () => {
    const guard = new RecordingDiskGuard(dir, 0);
    const r = await guard.reserve(join(dir, 'rec-1.reserve'));
    expect(existsSync(r.path)).toBe(true);
    await r.release();
    await r.release();
    expect(existsSync(r.path)).toBe(false);
    await expect(SpaceReservation.take(join(dir, 'missing-folder', 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('MUST write and remove the reservation through the runner it is given (the recording server hands it to its media worker)', async () => {
    const guard = new RecordingDiskGuard(dir, 0);
    const steps: string[] = [];
    const run: FileOpsRunner = async (ops) => {
      steps.push(...ops.map((o) => ('bytes' in o ? `${o.op} ${o.bytes}` : o.op)));
      await runFileOps(ops);
    };
    const r = await guard.reserve(join(dir, 'rec-2.reserve'), run);
    expect(statSync(r.path).size).toBe(SUMMARY_RESERVE_BYTES);
    await r.release();
    expect(steps).toEqual([`zeros ${SUMMARY_RESERVE_BYTES}`, 'unlink']);
    expect(existsSync(r.path)).toBe(false);
  });

  it('MUST report a WAV write failure (ENOSPC on a full tmpfs) as it happens, once, and close() MUST reject with it', async () => {
    const small = join(dir, 'tmpfs');
    mkdirSync(small);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`mount tmpfs failed (${m.status ?? m.error?.message}): ${m.stderr}`);
    try {
      const seen: unknown[] = [];
      const writer = await StereoWavWriter.create(join(small, 'w.wav'), { windowSamples: 0, onWriteError: (err) => seen.push(err) });
      // fill the rest of the file system
      const fd = openSync(join(small, 'filler'), 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096, 1));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }
      // 4 s of audio in 20 ms packets, as the receivers put it
      const packet = new Int16Array(160).fill(1000);
      for (let k = 0; k < 200; k++) {
        writer.put(0, k * 160, packet);
        writer.put(1, k * 160, packet);
      }
      await until(() => seen.length > 0, 'the write error', 1000);
      expect(seen).toHaveLength(1);
      expect((seen[0] as NodeJS.ErrnoException).code).toBe('ENOSPC');
      await expect(writer.close(0)).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(seen).toHaveLength(1);
    } finally {
      spawnSync('umount', ['-l', small]);
    }
  });

  it('MUST put the disk fault into the recording summary', () => {
    const summary = buildRecordingSummary({
      recordingId: 'r',
      callId: 'c',
      startedAtMs: 0,
      stoppedAtMs: 1000,
      endReason: 'disk-error',
      metadata: undefined,
      metadataDocuments: 0,
      streams: [],
      sdpPauses: [],
      wav: undefined,
      failure: { code: 'ENOSPC', reason: 'disk-full', message: 'ENOSPC: no space left on device, write' },
    });
    expect(summary.endReason).toBe('disk-error');
    expect(summary.failure).toEqual({ code: 'ENOSPC', reason: 'disk-full', message: 'ENOSPC: no space left on device, write' });
  });
});
