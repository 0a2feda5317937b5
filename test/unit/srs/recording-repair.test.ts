/**
 * Start-up repair of the recordings a crash left open: the WAV made valid from
 * its size (whole frames only), the summary written with endReason 'recovered-after-crash' and
 * the metadata stored next to it, the journal removed, one warn line per recording.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger } from '../../support/capture-logger.js';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWavHeader } from '../../../src/media/audio/wav.js';
import { repairOpenRecordings } from '../../../src/srs/recording-repair.js';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import type { RecordingSummary } from '../../../src/srs/recording-summary.js';
import { StereoWavWriter } from '../../../src/srs/stereo-wav-writer.js';
import { sleep } from '../../support/wait.js';

const root = mkdtempSync(join(tmpdir(), 'srs-repair-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/siprec', name), 'utf8');

const STARTED = Date.UTC(2026, 0, 5, 9, 30, 0);
const FRAME = 4;

/** A recording as a SIGKILL leaves it: journal, metadata, a WAV whose header says 0 bytes, `frames` frames + `tail` bytes after it. */
async function crashedRecording(dir: string, id: string, frames: number, tail: number) {
  const store = new RecordingStore(dir, 'the-process-that-died');
  const files = await store.create(id, STARTED);
  await files.markOpen({ callId: `call-${id}`, sampleRate: 8000, channels: 2 });
  await files.appendMetadata(fixture('metadata-initial.xml'));
  await files.appendMetadata(fixture('spec-example-partial.xml'));
  const audio = Buffer.alloc(frames * FRAME + tail);
  for (let i = 0; i < frames; i++) audio.writeInt16LE(1234, i * FRAME);
  writeFileSync(files.wavPath, Buffer.concat([encodeWavHeader({ format: 'pcm16', channels: 2, sampleRate: 8000, dataBytes: 0 }), audio]));
  return files;
}

describe('repairOpenRecordings', () => {
  it('MUST fix the header of a WAV cut mid-frame from its size (whole frames only) and write the summary with endReason recovered-after-crash', async () => {
    const dir = join(root, 'a');
    const files = await crashedRecording(dir, 'rec-cut', 28_000, 3); // 3.5 s and 3 bytes of a frame
    const lastWrite = Math.round(statSync(files.wavPath).mtimeMs);
    const { logger, lines } = captureLogger();
    const report = await repairOpenRecordings({ recordingsDir: dir, owner: 'this-process', logger, now: () => STARTED + 60_000 });

    expect(report.failed).toBe(0);
    expect(report.repaired.map((s) => s.recordingId)).toEqual(['rec-cut']);
    const wav = readFileSync(files.wavPath);
    expect(wav.length, 'the partial frame is cut off').toBe(44 + 28_000 * FRAME);
    const info = decodeWav(wav);
    expect(info).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(info.data.length / FRAME / 8000).toBe(3.5);
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(info.data.readInt16LE((28_000 - 1) * FRAME)).toBe(1234);

    const summary = JSON.parse(readFileSync(files.summaryPath, 'utf8')) as RecordingSummary;
    expect(summary).toMatchObject({
      recordingId: 'rec-cut',
      callId: 'call-rec-cut',
      endReason: 'recovered-after-crash',
      startedAt: '2026-01-05T09:30:00.000Z',
      metadataDocuments: 2,
      streams: [],
      wav: { file: 'rec-cut.wav', frames: 28_000, durationMs: 3500, channels: 2, sampleRate: 8000 },
      recovery: { repairedAt: '2026-01-05T09:31:00.000Z', headerDataBytes: 0, dataBytes: 28_000 * FRAME, droppedBytes: 3 },
    });
    // what the stored metadata said: the call and its participants, the partial document merged
    expect(summary.call?.tenant).toBe('acme');
    expect(summary.participants.map((p) => p.aor)).toContain('sip:alice@pbx.acme.example');
    expect(summary.participants.find((p) => p.aor === 'sip:+4930123456@trunk.carrier.example')?.disassociatedAt).toBe('2025-03-04T10:21:40.000Z');
    expect(summary.stoppedAt, "the WAV's last write before the repair").toBe(new Date(lastWrite).toISOString());

    expect(existsSync(join(files.dir, 'rec-cut.open')), 'the journal is removed').toBe(false);
    const warns = lines.filter((l) => l.msg === 'recording left open by a crash repaired');
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ level: 40, srsRecordingId: 'rec-cut', audioSeconds: 3.5, droppedBytes: 3 });

    // a second start finds nothing left open
    const again = await repairOpenRecordings({ recordingsDir: dir, owner: 'this-process', logger });
    expect(again).toEqual({ repaired: [], failed: 0 });
  });

  it('MUST repair what the WAV writer leaves when the process dies before close (audio beyond the last header update)', async () => {
    const dir = join(root, 'b');
    const store = new RecordingStore(dir, 'the-process-that-died');
    const files = await store.create('rec-live', STARTED);
    await files.markOpen({ callId: 'c', sampleRate: 8000, channels: 2 });
    const w = await StereoWavWriter.create(files.wavPath, { windowSamples: 800, headerUpdateMs: 5000 });
    for (let t = 0; t < 2600; t += 20) w.put(0, t * 8, new Int16Array(160).fill(500));
    await sleep(200); // the writes land; the writer is never closed
    const onDisk = statSync(files.wavPath).size - 44;
    const stated = readFileSync(files.wavPath).readUInt32LE(40);
    expect(stated).toBeLessThan(onDisk);

    const report = await repairOpenRecordings({ recordingsDir: dir, owner: 'this-process', logger: captureLogger().logger });
    expect(report.repaired[0]!.recovery).toMatchObject({ headerDataBytes: stated, dataBytes: onDisk, droppedBytes: 0 });
    expect(decodeWav(readFileSync(files.wavPath)).data.length).toBe(onDisk);
    await w.close().catch(() => undefined);
  });

  it('MUST leave the open recordings of the running process alone, and only clear a journal whose summary was already written', async () => {
    const dir = join(root, 'c');
    const live = await new RecordingStore(dir, 'this-process').create('rec-mine', STARTED);
    await live.markOpen({ callId: 'c', sampleRate: 8000, channels: 2 });
    writeFileSync(live.wavPath, encodeWavHeader({ format: 'pcm16', channels: 2, sampleRate: 8000, dataBytes: 0 }));
    const done = await crashedRecording(dir, 'rec-done', 800, 0);
    writeFileSync(done.summaryPath, '{"endReason":"bye-from-src"}\n');

    const report = await repairOpenRecordings({ recordingsDir: dir, owner: 'this-process', logger: captureLogger().logger });
    expect(report).toEqual({ repaired: [], failed: 0 });
    expect(existsSync(join(live.dir, 'rec-mine.open'))).toBe(true);
    expect(existsSync(live.summaryPath)).toBe(false);
    expect(existsSync(join(done.dir, 'rec-done.open'))).toBe(false);
    expect(readFileSync(done.summaryPath, 'utf8')).toBe('{"endReason":"bye-from-src"}\n');
  });

  it('MUST still repair a recording whose journal a power loss left empty, and one whose WAV is missing', async () => {
    const dir = join(root, 'd');
    const empty = await crashedRecording(dir, 'rec-empty-journal', 8000, 1);
    writeFileSync(join(empty.dir, 'rec-empty-journal.open'), '');
    const noWav = await crashedRecording(dir, 'rec-no-wav', 0, 0);
    rmSync(noWav.wavPath);

    const report = await repairOpenRecordings({ recordingsDir: dir, owner: 'this-process', logger: captureLogger().logger });
    expect(report.failed).toBe(0);
    const byId = new Map(report.repaired.map((s) => [s.recordingId, s]));
    expect(byId.get('rec-empty-journal')).toMatchObject({ endReason: 'recovered-after-crash', callId: '', wav: { frames: 8000, durationMs: 1000 } });
    expect(byId.get('rec-empty-journal')!.durationMs).toBe(1000); // start worked back from the audio's length
    expect(byId.get('rec-no-wav')).toMatchObject({ endReason: 'recovered-after-crash', callId: 'call-rec-no-wav', wav: undefined, metadataDocuments: 2 });
    expect(existsSync(noWav.summaryPath)).toBe(true);
  });

  it('MUST count and log at error a recording it cannot repair, and keep going with the others', async () => {
    const dir = join(root, 'e');
    const bad = await crashedRecording(dir, 'rec-bad', 800, 0);
    rmSync(join(bad.dir, 'rec-bad.open'));
    mkdirSync(join(bad.dir, 'rec-bad.open')); // unreadable as a file
    await crashedRecording(dir, 'rec-good', 800, 0);
    const { logger, lines } = captureLogger();
    const report = await repairOpenRecordings({ recordingsDir: dir, owner: 'this-process', logger });
    expect(report.failed).toBe(1);
    expect(report.repaired.map((s) => s.recordingId)).toEqual(['rec-good']);
    expect(lines.filter((l) => l.level === 50).map((l) => l.srsRecordingId)).toEqual(['rec-bad']);
  });

  it('does nothing, without error, when the recordings directory does not exist yet', async () => {
    const { logger, lines } = captureLogger();
    expect(await repairOpenRecordings({ recordingsDir: join(root, 'absent'), owner: 'x', logger })).toEqual({ repaired: [], failed: 0 });
    expect(lines).toEqual([]);
  });
});
