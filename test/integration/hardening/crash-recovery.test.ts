/**
 * Recordings that survive crashes (issue 13 item 4, docs/hardening.md "Crash-safe recordings"):
 * the whole product as a child process (`npm start` on config/embedded.yaml), a call recorded by
 * its reference recording server (SIPp pack: PSTN caller -> demo user), SIGKILL once about 3 s of
 * audio are on disk. The WAV as the crash left it is readable by `sox --i` with the audio written
 * so far; the product restarted on the same recordings directory repairs it and writes its summary
 * with endReason 'recovered-after-crash', and the repaired WAV's duration is the summary's.
 *
 * Ports 19700-19799 only (a product with `npm start` on the default ports may run alongside).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingSummary } from '../../../src/srs/recording-summary.js';
import {
  makeTestAudio,
  recordingFiles,
  runPackSipp,
  startProductProcess,
  writeDemoProvisioning,
  type PackSippRun,
  type ProductProcess,
} from '../../support/product-process.js';
import { sampleValue } from '../../support/prometheus-text.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep, until, untilValue } from '../../support/wait.js';

const P = {
  sip: 19700,
  drachtio: 19701,
  admin: 19702,
  srs: 19703,
  callee: 19704,
  calleeControl: 19705,
  carrier: 19706,
  carrierControl: 19707,
  calleeMedia: 19710,
  carrierMedia: 19714,
  mediaMin: 19720,
  mediaMax: 19759,
  srsRtpMin: 19760,
  srsRtpMax: 19799,
} as const;

const HEADER = 44;
const BYTES_PER_SECOND = 8000 * 4; // 2 channels, 16 bit, 8 kHz

let dir = '';
let provisioningFile = '';
const products: ProductProcess[] = [];
const sipps: PackSippRun[] = [];

/** `sox --i -D <file>`: the duration a standard tool reads from the header, seconds. */
function soxSeconds(file: string): number {
  const r = spawnSync('sox', ['--i', '-D', file], { encoding: 'utf8', timeout: 5000 });
  expect(r.status, `sox --i -D ${file}: ${r.stderr}`).toBe(0);
  return Number(r.stdout.trim());
}

beforeAll(() => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'crash-recovery-'));
  makeTestAudio(dir);
  provisioningFile = writeDemoProvisioning(dir, { callee: P.callee, carrier: P.carrier, srs: P.srs });
});

afterAll(async () => {
  for (const s of sipps) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  for (const p of products) await p.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('recordings that survive a crash of the recording server (SIGKILL mid-call, then restart)', () => {
  it('MUST leave a WAV that sox reads with the audio recorded so far, and repair it at restart with a summary whose end reason says so', async () => {
    const lines: string[] = [];
    const first = await startProductProcess({ dir, ports: P, provisioningFile, onLine: (l) => lines.push(l) });
    products.push(first);
    const callee = runPackSipp(dir, 'user-callee', { port: P.callee, controlPort: P.calleeControl, mediaPort: P.calleeMedia, timeoutSec: 30 });
    sipps.push(callee);
    await sleep(300);
    const caller = runPackSipp(dir, 'pstn-caller', {
      remote: `127.0.0.1:${P.sip}`,
      service: '+15550002001',
      port: P.carrier,
      controlPort: P.carrierControl,
      mediaPort: P.carrierMedia,
      pauseMs: 20_000,
      timeoutSec: 30,
    });
    sipps.push(caller);

    // the recording is open (its journal exists) and about 3 s of audio are on disk: SIGKILL
    const recordingsDir = join(dir, 'recordings');
    const journal = await untilValue(() => recordingFiles(recordingsDir).find((f) => f.endsWith('.open')), 'the recording to open', 15_000);
    const wavFile = journal.replace(/\.open$/, '.wav');
    const summaryFile = journal.replace(/\.open$/, '.json');
    await until(() => existsSync(wavFile) && statSync(wavFile).size >= HEADER + 3 * BYTES_PER_SECOND, '3 s of audio on disk', 15_000);
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    for (const s of [caller, callee]) s.child.kill('SIGKILL');

    // as the crash left it: the header is current to the last second, so sox reads the audio so far
    const cut = readFileSync(wavFile);
    const onDisk = cut.length - HEADER;
    const headerDataBytes = cut.readUInt32LE(40);
    const secondsAsLeft = soxSeconds(wavFile);
    expect(existsSync(summaryFile), 'no summary: the process died').toBe(false);
    expect(headerDataBytes, 'the header states the audio written, not 0').toBeGreaterThan(0);
    expect(secondsAsLeft, 'sox --i reads at least 2 of the 3 s on disk before any repair').toBeGreaterThanOrEqual(2);
    // the header is rewritten once a second of audio has been written since the last rewrite, queued
    // behind the flush that crossed it: killed between that flush and its header, the header trails by
    // less than the second plus that flush (500 ms of audio)
    expect(onDisk - headerDataBytes, 'the header trails the data by less than 1.5 s').toBeLessThan(1.5 * BYTES_PER_SECOND);

    // restarted on the same recordings directory: the recording is repaired and summarised
    const second = await startProductProcess({ dir, ports: P, provisioningFile, onLine: (l) => lines.push(l) });
    products.push(second);
    await until(() => existsSync(summaryFile), 'the recovered summary', 10_000);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as RecordingSummary;
    expect(summary.endReason).toBe('recovered-after-crash');
    expect(summary.call, 'what the stored metadata says about the call').toMatchObject({ tenant: 'demo', direction: 'inbound' });
    expect(summary.metadataDocuments).toBeGreaterThanOrEqual(1);
    expect(summary.recovery).toMatchObject({ headerDataBytes, dataBytes: onDisk - (onDisk % 4), droppedBytes: onDisk % 4 });
    const secondsRepaired = soxSeconds(wavFile);
    expect(secondsRepaired, 'every whole frame on disk is in the repaired file').toBeCloseTo(Math.floor(onDisk / 4) / 8000, 3);
    expect(secondsRepaired).toBeGreaterThanOrEqual(3);
    expect(summary.wav!.durationMs / 1000, "the summary's duration is the WAV's").toBeCloseTo(secondsRepaired, 2);
    expect(existsSync(journal), 'the journal is gone').toBe(false);

    await until(() => lines.some((l) => l.includes('recording left open by a crash repaired')), 'the warn line', 5000);
    const warns = lines.filter((l) => l.includes('recording left open by a crash repaired'));
    expect(warns, 'one warn line per repaired recording').toHaveLength(1);
    expect(JSON.parse(warns[0]!)).toMatchObject({ level: 40, srsRecordingId: summary.recordingId });
    const metrics = await (await fetch(`http://127.0.0.1:${P.admin}/v1/metrics`)).text();
    expect(sampleValue(metrics, 'siprec_b2bua_srs_recordings_recovered_total', { outcome: 'repaired' })).toBe(1);

    console.info(
      `crash recovery: ${onDisk} bytes (${(onDisk / BYTES_PER_SECOND).toFixed(3)} s) of audio on disk at SIGKILL; ` +
        `sox read ${secondsAsLeft} s before the repair (header ${headerDataBytes} bytes), ${secondsRepaired} s after it`,
    );
  }, 60_000);
});
