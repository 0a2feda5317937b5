/**
 * Disk faults of the in-process reference recording server (docs/hardening.md "Disk faults"), with
 * the product run as `npm start` runs it (test/support/product-process.ts), ports 19800-19899:
 *
 * 1. Its recordings directory is an 8 MB tmpfs that a filler file fills in the middle of a recorded
 *    call: the write fails with ENOSPC, the recording server fails the recording (BYE to the B2BUA,
 *    summary with end reason disk-error and ENOSPC, srs_recordings_failed_total{reason=disk-full},
 *    error log), the B2BUA's recording event log says failed, the call goes on (the demo
 *    provider's policy is proceedWithoutAnnouncement) and the process stays up.
 * 2. Free space under SRS_MIN_FREE_MB: the next call's recording is refused (503 to the SIPREC
 *    INVITE, low-free-space counted, warn log) and the call goes on.
 * 3. An unwritable recordings directory at start: SRS_STARTUP_CHECK=refuse exits with one line
 *    naming the directory (a file where a folder should be); degraded starts on a read-only bind
 *    mount, logs the error and refuses the recording of a call with 503 while the call goes on.
 *
 * Needs root (mount); a mount that fails fails the test with the reason.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exited,
  makeTestAudio,
  readWav,
  recordingFiles,
  startDemoCall,
  spawnProduct,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type ProductPorts,
  type ProductProcess,
} from '../../support/product-process.js';
import { sampleValue } from '../../support/prometheus-text.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep, until } from '../../support/wait.js';

type Bed = ProductPorts & { callee: number; calleeControl: number; calleeMedia: number; carrier: number; carrierControl: number; carrierMedia: number };
/** The products and their SIPp parties: tmpfs (calls 1 and 2), degraded start, refused start. The three start in parallel. */
const P: Bed = {
  mediaMin: 19800,
  mediaMax: 19819,
  srsRtpMin: 19820,
  srsRtpMax: 19829,
  sip: 19830,
  drachtio: 19831,
  admin: 19832,
  srs: 19833,
  callee: 19834,
  calleeControl: 19835,
  carrier: 19836,
  carrierControl: 19837,
  calleeMedia: 19838,
  carrierMedia: 19842,
};
const PD: Bed = {
  mediaMin: 19850,
  mediaMax: 19869,
  srsRtpMin: 19870,
  srsRtpMax: 19879,
  sip: 19880,
  drachtio: 19881,
  admin: 19882,
  srs: 19883,
  callee: 19884,
  calleeControl: 19885,
  carrier: 19886,
  carrierControl: 19887,
  calleeMedia: 19888,
  carrierMedia: 19892,
};
/** The refused start binds its SIP, link and admin ports before the check; its media ranges are never used. */
const PR: ProductPorts = { sip: 19896, drachtio: 19897, admin: 19898, srs: 19899, mediaMin: 19850, mediaMax: 19869, srsRtpMin: 19870, srsRtpMax: 19879 };
const PREFIX = 'siprec_b2bua_';

let dir = '';
let recordings = '';
let refusedDir = '';
const mounted: string[] = [];
let app: ProductProcess | undefined;
let degraded: ProductProcess | undefined;
let refused: Promise<{ code: number | null; stderr: string }> | undefined;
let refusedChild: ChildProcess | undefined;
let filler: number | undefined;

function mount(args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stderr}`);
  mounted.unshift(args.at(-1)!);
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`);
  return res.text();
}

/** A call from the carrier to the demo user through the product, recorded by its reference server; resolves with both SIPp exits. */
async function call(bed: Bed, pauseMs: number, duringCall?: () => Promise<void>) {
  const { callee, caller } = await startDemoCall(dir, {
    sipPort: bed.sip,
    callee: { port: bed.callee, controlPort: bed.calleeControl, mediaPort: bed.calleeMedia },
    carrier: { port: bed.carrier, controlPort: bed.carrierControl, mediaPort: bed.carrierMedia },
    pauseMs,
    delayMs: 200,
  });
  await duringCall?.();
  const c = await caller.done;
  const e = await withTimeout(callee.done, 10_000, 'callee');
  return { caller: c, callee: e };
}

/** Fills the file system of `path` with a filler file (64 kB writes, then the last partial one) until ENOSPC; returns its fd. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (;;) {
    try {
      if (writeSync(fd, chunk) === 0) break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
      throw err;
    }
  }
  return fd;
}

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'disk-faults-'));
  makeTestAudio(dir);
  recordings = join(dir, 'recordings');
  mkdirSync(recordings);
  mount(['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', recordings]);
  const readOnly = join(dir, 'read-only');
  mkdirSync(readOnly);
  mount(['--bind', readOnly, readOnly]);
  mount(['-o', 'remount,bind,ro', readOnly]);

  // refused start: a file where the recordings folder should be
  const notADir = join(dir, 'a-file');
  writeFileSync(notADir, 'a file where the recordings folder should be\n');
  refusedDir = join(notADir, 'recordings');
  const bedDir = (name: string, bed: Bed): { dir: string; provisioningFile: string } => {
    const d = join(dir, name);
    mkdirSync(d);
    return { dir: d, provisioningFile: writeDemoProvisioning(d, { callee: bed.callee, carrier: bed.carrier, srs: bed.srs }) };
  };
  const child = spawnProduct({ ...bedDir('refused', { ...PR, callee: 0, calleeControl: 0, calleeMedia: 0, carrier: 0, carrierControl: 0, carrierMedia: 0 }), ports: PR, env: { RECORDINGS_DIR: refusedDir } });
  refusedChild = child;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  refused = withTimeout(exited(child), 25_000, 'the refused start').then((e) => ({ code: e.code, stderr }));

  [app, degraded] = await Promise.all([
    startProductProcess({
      ...bedDir('tmpfs', P),
      ports: P,
      env: { RECORDINGS_DIR: recordings, SRS_MIN_FREE_MB: '4', RECORDING_EVENTS_FILE: join(dir, 'events.jsonl') },
      readyTimeoutMs: 25_000,
    }),
    startProductProcess({
      ...bedDir('degraded', PD),
      ports: PD,
      env: { RECORDINGS_DIR: join(readOnly, 'recordings'), SRS_STARTUP_CHECK: 'degraded' },
      readyTimeoutMs: 25_000,
    }),
  ]);
}, 40_000);

afterAll(async () => {
  await app?.kill();
  await degraded?.kill();
  // a start that was not refused (or is still starting) must not outlive the file
  if (refusedChild && refusedChild.exitCode === null && refusedChild.signalCode === null) refusedChild.kill('SIGKILL');
  await refused?.catch(() => undefined);
  if (filler !== undefined) closeSync(filler);
  for (const m of mounted) spawnSync('umount', ['-l', m]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('disk faults at the reference recording server: a recording failed, never silently empty', () => {
  it('MUST fail the recording when the disk fills mid-call (ENOSPC: summary, metric, error log, event log "failed") while the call goes on and the process stays up', async () => {
    const { caller, callee } = await call(P, 4000, async () => {
      await until(() => recordingFiles(recordings).some((f) => f.endsWith('.wav')), 'the recording to start', 8000);
      await sleep(2000); // about 1 s of audio on disk (the writer flushes beyond its jitter window)
      filler = fill(join(recordings, 'filler'));
    });
    expect(caller.code, caller.describe).toBe(0);
    expect(callee.code, callee.describe).toBe(0);
    expect(app!.running(), 'the product is still up').toBe(true);

    const metrics = await scrape(P.admin);
    expect(sampleValue(metrics, `${PREFIX}srs_recordings_failed_total`, { reason: 'disk-full' })).toBe(1);
    expect(sampleValue(metrics, `${PREFIX}recording_events_total`, { event: 'failed' })).toBe(1);
    expect(app!.log()).toMatch(/"msg":"recording failed: disk error".*"code":"ENOSPC"|"code":"ENOSPC".*"msg":"recording failed: disk error"/);

    // the summary fits in the space set aside at the start of the recording
    const summaryFile = recordingFiles(recordings).find((f) => f.endsWith('.json'));
    expect(summaryFile, recordingFiles(recordings).join('\n')).toBeDefined();
    const summary = JSON.parse(readFileSync(summaryFile!, 'utf8')) as { endReason: string; failure?: { code: string; reason: string } };
    expect(summary.endReason).toBe('disk-error');
    expect(summary.failure).toMatchObject({ code: 'ENOSPC', reason: 'disk-full' });
    // the audio written before the disk filled stays readable (the header is kept current)
    const wav = readWav(recordingFiles(recordings).find((f) => f.endsWith('.wav'))!);
    expect(wav.channels).toBe(2);
    expect(wav.samples(0).length, 'audio before the failure kept').toBeGreaterThan(0);

    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(events.map((e) => e.event)).toContain('failed');
  }, 30_000);

  it('MUST refuse a new recording while free space is under SRS_MIN_FREE_MB (metric low-free-space, warn log) while the call goes on', async () => {
    // give back 1 MB of the 8 MB tmpfs: room to write, but under the 4 MB threshold
    ftruncateSync(filler!, Math.max(0, fstatSync(filler!).size - 1024 * 1024));
    const before = recordingFiles(recordings).filter((f) => f.endsWith('.wav')).length;
    const { caller, callee } = await call(P, 1500);
    expect(caller.code, caller.describe).toBe(0);
    expect(callee.code, callee.describe).toBe(0);
    expect(app!.running()).toBe(true);

    const metrics = await scrape(P.admin);
    expect(sampleValue(metrics, `${PREFIX}srs_recordings_failed_total`, { reason: 'low-free-space' })).toBe(1);
    expect(app!.log()).toMatch(/"level":40[^\n]*"reason":"low-free-space"[^\n]*MB free in/);
    expect(recordingFiles(recordings).filter((f) => f.endsWith('.wav')), 'no recording was started').toHaveLength(before);
  }, 30_000);

  it('MUST refuse to start with one line naming the recordings directory when it cannot be written (SRS_STARTUP_CHECK=refuse, the default)', async () => {
    const { code, stderr } = await refused!;
    expect(code, stderr).not.toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain('SRS_RECORDINGS_DIR_UNWRITABLE');
    expect(lines[0]).toContain(refusedDir);
  }, 30_000);

  it('MUST start degraded on an unwritable recordings directory with SRS_STARTUP_CHECK=degraded: error logged, every recording refused with 503 and the cause, calls go on', async () => {
    expect(degraded!.log()).toMatch(/"level":50[^\n]*recordings directory is not writable[^\n]*read-only/);
    const { caller, callee } = await call(PD, 1500);
    expect(caller.code, caller.describe).toBe(0);
    expect(callee.code, callee.describe).toBe(0);
    const metrics = await scrape(PD.admin);
    expect(sampleValue(metrics, `${PREFIX}srs_recordings_failed_total`, { reason: 'recordings-dir-unwritable' })).toBe(1);
    expect(sampleValue(metrics, `${PREFIX}recording_events_total`, { event: 'failed' })).toBe(1);
    expect(degraded!.log()).toMatch(/"status":503[^\n]*read-only|read-only[^\n]*"status":503/);
  }, 30_000);
});
