/**
 * End to end, recording-server faults: the call hangs up while the recording INVITE is still
 * pending (the SRC must CANCEL it, the server never records), and the recording server BYEs in
 * the middle of the call (the R-40 policy applies, the call goes on).
 */
import { describe, expect, it } from 'vitest';
import {
  OTHER_HZ,
  USER_HZ,
  fullWindows,
  readStereoWav,
  recordingOn,
  useRecordingE2e,
  wallOf,
  wavFile,
  windows,
} from './e2e-harness.js';
import { sleep, until } from '../../support/wait.js';

const SLOW_MS = 3000;
const BYE_AFTER_MS = 2000;

const e2e = useRecordingE2e({
  block: 3,
  tmpPrefix: 'e2e-faults-',
  servers: {
    slow: { rtpPorts: 20, folder: 'slow', faults: { mode: 'slow-answer', delayMs: SLOW_MS } },
    quitter: { rtpPorts: 20, folder: 'quitter', faults: { mode: 'bye-after', afterMs: BYE_AFTER_MS } },
  },
  portOrder: 'ranges-first',
  policy: ({ slow }) => recordingOn([slow], 'proceedWithAnnouncement'),
  session: { attemptTimeoutMs: 6000, startDeadlineMs: 8000 },
});
const { servers } = e2e;

describe('recording-server faults end to end', () => {
  it('hang-up during the recording INVITE: the call ends at once, the INVITE is CANCELled, nothing is recorded', async () => {
    e2e.configure(recordingOn([servers.slow], 'proceedWithAnnouncement'));
    const run = await e2e.placeCall({ direction: 'inbound', talkMs: 800 });
    let hungUpAt = 0;
    try {
      const connectedAt = await run.connected();
      const [caller, callee] = await run.done;
      hungUpAt = performance.now();
      expect(caller.exitCode, caller.describe()).toBe(0);
      expect(callee.exitCode, callee.describe()).toBe(0);
      // the slow server delayed nothing: the call ended well before it would have answered
      expect(hungUpAt - connectedAt).toBeLessThan(SLOW_MS - 500);
    } finally {
      run.close();
    }
    await until(() => e2e.harness.manager.list().length === 0, 'the call to be gone', 2000);
    // had the INVITE not been CANCELled, the server would answer it after SLOW_MS
    await sleep(Math.max(0, hungUpAt + SLOW_MS + 500 - performance.now()));
    expect(servers.slow.started).toBe(0);
    expect(servers.slow.summaries).toEqual([]);
    expect(run.trace.prompts).toEqual([]);
  }, 20_000);

  it('R-40: a recording-server BYE mid-call ends the recording (WAV up to the BYE), "recording stopped" is played, the call goes on', async () => {
    e2e.configure(recordingOn([servers.quitter], 'proceedWithAnnouncement'));
    const run = await e2e.placeCall({ direction: 'inbound', talkMs: 6000 });
    await run.finish();
    await until(() => servers.quitter.summaries.length === 1, 'the recording summary', 3000);
    const summary = servers.quitter.summaries[0]!;
    expect(summary.endReason).toBe('fault-bye');
    expect(summary.durationMs).toBeGreaterThan(BYE_AFTER_MS - 100);
    expect(summary.durationMs).toBeLessThan(BYE_AFTER_MS + 600);
    const wav = readStereoWav(wavFile(servers.quitter, summary));
    // the WAV spans the session plus what the fork kept from the answer (media.forkBufferMs, 3000 ms)
    expect(wav.durationMs).toBeGreaterThanOrEqual(summary.durationMs - 100);
    expect(wav.durationMs).toBeLessThanOrEqual(summary.durationMs + 3000 + 100);
    const ch1 = fullWindows(windows(wav.ch1, OTHER_HZ));
    const ch2 = fullWindows(windows(wav.ch2, USER_HZ));
    expect(ch1.length).toBeGreaterThan(5);
    expect(ch2.length).toBeGreaterThan(5);
    for (const w of [...ch1, ...ch2]) expect(w.share).toBeGreaterThan(0.97);
    // the policy's announcement came after the server's BYE, to both parties
    const stopped = run.trace.prompts.filter((p) => p.name === 'recording-stopped');
    expect(stopped.map((p) => p.leg).sort()).toEqual(['a', 'b']);
    for (const p of stopped) expect(wallOf(p.startedAt!)).toBeGreaterThanOrEqual(Date.parse(summary.stoppedAt!) - 50);
  }, 20_000);
});
