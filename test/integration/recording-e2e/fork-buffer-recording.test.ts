/**
 * From the answer, nothing lost (docs/media.md "Fork start buffer"): a recording server that answers
 * the SIPREC INVITE 700 ms after the call's answer still receives the first second of the call.
 * The media plane kept each party's audio from prepareFork (the answer) and sent it when the fork
 * started, so the WAV holds the whole conversation, not the conversation minus the server's delay.
 *
 * The reference server places a stream by RTP timestamp from its first packet's arrival and
 * re-anchors on arrival when the two disagree by more than its jitter window (default 500 ms): the
 * burst of 700 ms of buffered audio needs a window above that, as a recording server that places
 * audio by timestamp has. With the default window it keeps bursts of up to 500 ms whole.
 *
 * Real product call layer, real SIPREC client, the reference recording server with the fault mode
 * `slow-answer`, SIPp parties and RTP peers sending a tone each. Ports: 18200-18499 (this file's own
 * range, not the folder's e2e blocks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallHarness } from '../../support/call-harness.js';
import { portBlock } from '../../support/ports.js';
import {
  OTHER_HZ,
  USER_HZ,
  e2eSnapshot,
  fullWindows,
  placeCall,
  readStereoWav,
  recordingOn,
  startProduct,
  startSrs,
  wavFile,
  windows,
  type SrsInstance,
} from './e2e-harness.js';
import { sleep, until } from '../../support/wait.js';

/** How late the recording server answers; under its 1 s re-anchoring bound (docs/media.md). */
const SLOW_MS = 700;
const TALK_MS = 3000;
const WINDOW_MS = 200;

const block = portBlock({ from: 18200, to: 18499 }, 0, 300);
const trunkPort = block.next();
const pbxPort = block.next();
const dir = mkdtempSync(join(tmpdir(), 'e2e-fork-buffer-'));
let srs: SrsInstance;
let harness: CallHarness;

beforeAll(async () => {
  const rtpFrom = block.take(20)[0]!;
  srs = await startSrs({ sipPort: block.next(), rtpFrom, rtpTo: rtpFrom + 19, dir, faults: { mode: 'slow-answer', delayMs: SLOW_MS }, jitterWindowMs: 1500 });
  const snapshot = e2eSnapshot({ trunkPort, ...recordingOn([srs], 'proceedWithoutAnnouncement') });
  harness = await startProduct({ block, pbxPort, snapshot: () => snapshot });
});

afterAll(async () => {
  await harness?.close();
  await srs?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fork start buffer end to end', () => {
  it('MUST record the audio between the call answer and a slow recording server answer: the WAV holds the whole talk time', async () => {
    const run = await placeCall(harness, block, { trunkPort, pbxPort, direction: 'inbound', talkMs: TALK_MS });
    let buffered: number[] = [];
    try {
      await run.connected();
      // once the recording server answered, the fork has sent what it kept since the answer
      await until(() => srs.started === 1, 'the recording server to answer', SLOW_MS + 3000);
      const deadline = performance.now() + 1000;
      while (performance.now() < deadline) {
        const stats = await run.trace.session.getStats();
        buffered = stats.fork.streams.map((s) => s.bufferSent);
        if (stats.fork.state === 'active' && buffered.every((n) => n > 0)) break;
        await sleep(20);
      }
      await run.partiesOk();
    } finally {
      run.close();
    }
    // about SLOW_MS of 20 ms packets per stream came from the buffer
    for (const n of buffered) {
      expect(n).toBeGreaterThanOrEqual((SLOW_MS - 200) / 20);
      expect(n).toBeLessThanOrEqual((SLOW_MS + 400) / 20);
    }
    await until(() => srs.summaries.length === 1, 'the recording summary', 5000);
    const wav = readStereoWav(wavFile(srs, srs.summaries[0]!));
    const ch1 = fullWindows(windows(wav.ch1, OTHER_HZ, WINDOW_MS));
    const ch2 = fullWindows(windows(wav.ch2, USER_HZ, WINDOW_MS));
    for (const w of [...ch1, ...ch2]) expect(w.share).toBeGreaterThan(0.97);
    // the whole talk time is there (less the edges of two windows); without the buffer it would be
    // TALK_MS - SLOW_MS at most
    for (const ch of [ch1, ch2]) {
      expect(ch.length * WINDOW_MS).toBeGreaterThanOrEqual(TALK_MS - 2 * WINDOW_MS);
      expect(ch.length * WINDOW_MS).toBeGreaterThan(TALK_MS - SLOW_MS + WINDOW_MS);
    }
    // and it is one stretch: the buffered first second and the live audio after it, no hole between
    const starts = ch1.map((w) => w.startMs);
    expect(starts.at(-1)! - starts[0]!).toBe((ch1.length - 1) * WINDOW_MS);
  }, 30_000);
});
