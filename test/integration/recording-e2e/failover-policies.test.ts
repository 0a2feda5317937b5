/**
 * End to end, R-40: ordered failover to the second recording server when the first never answers,
 * and each failure policy when no recording server takes the call (reference SRS in `reject` mode).
 */
import { describe, expect, it } from 'vitest';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import {
  OTHER_HZ,
  USER_HZ,
  fullWindows,
  heard,
  metadataHistory,
  readStereoWav,
  recordingOn,
  toneShare,
  useRecordingE2e,
  wallOf,
  wavFile,
  windows,
} from './e2e-harness.js';
import { until } from '../../support/wait.js';

const e2e = useRecordingE2e({
  block: 2,
  tmpPrefix: 'e2e-failover-',
  servers: {
    silent: { rtpPorts: 20, folder: 'silent', faults: { mode: 'no-answer' } },
    good: { rtpPorts: 20, folder: 'good', faults: { mode: 'none' } },
    refusing: { rtpPorts: 20, folder: 'refusing', faults: { mode: 'reject', status: 503 } },
  },
  policy: ({ good }) => recordingOn([good], 'proceedWithoutAnnouncement'),
  session: { attemptTimeoutMs: 1200, startDeadlineMs: 5000 },
});
const { servers } = e2e;

describe('R-40 failover and failure policies end to end', () => {
  it('R-40: the second recording server records the call when the first is silent (attempt timeout, CANCEL)', async () => {
    e2e.configure(recordingOn([servers.silent, servers.good], 'endCallWithAnnouncement'));
    const run = await e2e.placeCall({ direction: 'inbound', talkMs: 5000 });
    let connectedAt = 0;
    try {
      connectedAt = await run.connected();
      await run.partiesOk();
      await until(() => servers.good.summaries.length === 1, 'the recording on the second server', 5000);
    } finally {
      run.close();
    }
    expect(servers.silent.started).toBe(0);
    // the policy was never applied: nothing was announced, the call ran to the caller's BYE
    expect(run.trace.prompts.some((p) => p.name === 'recording-stopped')).toBe(false);
    const summary = servers.good.summaries[0]!;
    expect(summary.endReason).toBe('bye-from-src');
    // R-40 recording required: the caller was connected only once the second server (tried after the
    // first one's 1200 ms attempt timeout) had answered 200
    expect(wallOf(connectedAt)).toBeGreaterThanOrEqual(Date.parse(summary.startedAt) - 20);
    expect(connectedAt - run.trace.createdAt).toBeGreaterThan(1000);
    const wav = readStereoWav(wavFile(servers.good, summary));
    // the WAV spans the session, plus what was said between the answer and the second server's 200:
    // kept by the fork (media.forkBufferMs, default 3000 ms) and placed by its RTP timestamps
    expect(wav.durationMs).toBeGreaterThanOrEqual(summary.durationMs - 100);
    expect(wav.durationMs).toBeLessThanOrEqual(summary.durationMs + 3000 + 100);
    const ch1 = fullWindows(windows(wav.ch1, OTHER_HZ));
    const ch2 = fullWindows(windows(wav.ch2, USER_HZ));
    expect(ch1.length).toBeGreaterThan(10);
    expect(ch2.length).toBeGreaterThan(10);
    for (const w of [...ch1, ...ch2]) expect(w.share).toBeGreaterThan(0.97);
    for (const doc of metadataHistory(servers.good, summary)) expect(validateMetadata(doc.xml)).toEqual([]);
  }, 30_000);

  it('R-40 proceedWithoutAnnouncement: the call goes on, unrecorded and silently, when the server refuses', async () => {
    e2e.configure(recordingOn([servers.refusing], 'proceedWithoutAnnouncement'));
    const before = servers.refusing.rejected.length;
    const run = await e2e.placeCall({ direction: 'inbound', talkMs: 3000 });
    await run.finish();
    expect(servers.refusing.rejected.slice(before).map((r) => r.status)).toEqual([503]);
    expect(run.trace.prompts).toEqual([]);
    // the parties still heard each other the whole time
    const all = heard(run.pstn, 0, Infinity);
    expect(all.length).toBeGreaterThan(8000 * 2);
    expect(toneShare(all, USER_HZ)).toBeGreaterThan(0.9);
  }, 20_000);

  it('R-40 proceedWithAnnouncement: both parties hear "recording stopped", the call goes on', async () => {
    e2e.configure(recordingOn([servers.refusing], 'proceedWithAnnouncement'));
    const run = await e2e.placeCall({ direction: 'inbound', talkMs: 4500 });
    await run.finish();
    const stopped = run.trace.prompts.filter((p) => p.name === 'recording-stopped');
    expect(stopped.map((p) => p.leg).sort()).toEqual(['a', 'b']);
    for (const p of stopped) expect(p.reason).toBe('completed');
    // during the prompt the PSTN party heard speech, not the user's tone
    const p = stopped.find((x) => x.leg === 'a')!;
    expect(toneShare(heard(run.pstn, p.startedAt! + 100, p.endedAt! - 100), USER_HZ)).toBeLessThan(0.2);
    // afterwards the conversation continued
    expect(toneShare(heard(run.pstn, p.endedAt! + 200, p.endedAt! + 1200), USER_HZ)).toBeGreaterThan(0.9);
  }, 20_000);

  it('R-40 endCallWithAnnouncement: the PSTN caller is never answered; both parties hear "recording stopped", then 480', async () => {
    e2e.configure(recordingOn([servers.refusing], 'endCallWithAnnouncement'));
    const run = await e2e.placeCall({ direction: 'inbound', talkMs: 0, callerExpectsRefusal: true, timeoutSec: 15 });
    let endedAt = 0;
    try {
      const [caller, callee] = await run.done;
      endedAt = performance.now();
      expect(caller.exitCode, caller.describe()).toBe(0);
      expect(callee.exitCode, callee.describe()).toBe(0);
    } finally {
      run.close();
    }
    const stopped = run.trace.prompts.filter((p) => p.name === 'recording-stopped');
    expect(stopped.map((p) => p.leg).sort()).toEqual(['a', 'b']);
    // the call ended after the announcement and promptly after it
    for (const p of stopped) {
      expect(p.endedAt).toBeDefined();
      expect(endedAt).toBeGreaterThan(p.endedAt!);
    }
    expect(endedAt - stopped[0]!.endedAt!).toBeLessThan(3000);
    await until(() => e2e.harness.manager.list().length === 0, 'the call to be gone', 3000);
  }, 25_000);
});
