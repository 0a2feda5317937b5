/**
 * End to end, R-40: ordered failover to the second recording server when the first never answers,
 * and each failure policy when no recording server takes the call (reference SRS in `reject` mode).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailurePolicy, PolicySnapshot } from '../../../src/policy/policy-types.js';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import type { CallHarness } from '../../support/call-harness.js';
import {
  OTHER_HZ,
  USER_HZ,
  e2eBlock,
  e2eSnapshot,
  fullWindows,
  metadataHistory,
  placeCall,
  readStereoWav,
  startProduct,
  startSrs,
  heard,
  toneShare,
  waitFor,
  wavFile,
  wallOf,
  windows,
  type SrsInstance,
} from './e2e-harness.js';

const block = e2eBlock(2);
const trunkPort = block.next();
const pbxPort = block.next();
const dir = mkdtempSync(join(tmpdir(), 'e2e-failover-'));
let silent: SrsInstance;
let good: SrsInstance;
let refusing: SrsInstance;
let h: CallHarness;
let snapshot: PolicySnapshot;

function configure(servers: SrsInstance[], failurePolicy: FailurePolicy): void {
  snapshot = e2eSnapshot({
    trunkPort,
    provider: { recordingServers: servers.map((s) => ({ uri: s.uri, transport: 'udp' as const })), failurePolicy },
    policy: { alice: { enabled: true, mode: 'always' } },
  });
}

beforeAll(async () => {
  const srs = async (name: string, faults: Parameters<typeof startSrs>[0]['faults']): Promise<SrsInstance> => {
    const [rtpFrom] = block.take(20);
    return startSrs({ sipPort: block.next(), rtpFrom: rtpFrom!, rtpTo: rtpFrom! + 19, dir: join(dir, name), faults });
  };
  silent = await srs('silent', { mode: 'no-answer' });
  good = await srs('good', { mode: 'none' });
  refusing = await srs('refusing', { mode: 'reject', status: 503 });
  configure([good], 'proceedWithoutAnnouncement');
  h = await startProduct({ block, pbxPort, snapshot: () => snapshot, session: { attemptTimeoutMs: 1200, startDeadlineMs: 5000 } });
});

afterAll(async () => {
  await h?.close();
  for (const s of [silent, good, refusing]) await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('R-40 failover and failure policies end to end', () => {
  it('R-40: the second recording server records the call when the first is silent (attempt timeout, CANCEL)', async () => {
    configure([silent, good], 'endCallWithAnnouncement');
    const run = await placeCall(h, block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 5000 });
    let connectedAt = 0;
    try {
      connectedAt = await run.connected();
      const [caller, callee] = await run.done;
      expect(caller.exitCode, caller.describe()).toBe(0);
      expect(callee.exitCode, callee.describe()).toBe(0);
      await waitFor(() => good.summaries.length === 1, 5000, 'the recording on the second server');
    } finally {
      run.close();
    }
    expect(silent.started).toBe(0);
    // the policy was never applied: nothing was announced, the call ran to the caller's BYE
    expect(run.trace.prompts.some((p) => p.name === 'recording-stopped')).toBe(false);
    const summary = good.summaries[0]!;
    expect(summary.endReason).toBe('bye-from-src');
    // R-40 recording required: the caller was connected only once the second server (tried after the
    // first one's 1200 ms attempt timeout) had answered 200
    expect(wallOf(connectedAt)).toBeGreaterThanOrEqual(Date.parse(summary.startedAt) - 20);
    expect(connectedAt - run.trace.createdAt).toBeGreaterThan(1000);
    const wav = readStereoWav(wavFile(good, summary));
    expect(Math.abs(wav.durationMs - summary.durationMs)).toBeLessThanOrEqual(100);
    const ch1 = fullWindows(windows(wav.ch1, OTHER_HZ));
    const ch2 = fullWindows(windows(wav.ch2, USER_HZ));
    expect(ch1.length).toBeGreaterThan(10);
    expect(ch2.length).toBeGreaterThan(10);
    for (const w of [...ch1, ...ch2]) expect(w.share).toBeGreaterThan(0.97);
    for (const doc of metadataHistory(good, summary)) expect(validateMetadata(doc.xml)).toEqual([]);
  }, 30_000);

  it('R-40 proceedWithoutAnnouncement: the call goes on, unrecorded and silently, when the server refuses', async () => {
    configure([refusing], 'proceedWithoutAnnouncement');
    const before = refusing.rejected.length;
    const run = await placeCall(h, block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 3000 });
    try {
      const [caller, callee] = await run.done;
      expect(caller.exitCode, caller.describe()).toBe(0);
      expect(callee.exitCode, callee.describe()).toBe(0);
    } finally {
      run.close();
    }
    expect(refusing.rejected.slice(before).map((r) => r.status)).toEqual([503]);
    expect(run.trace.prompts).toEqual([]);
    // the parties still heard each other the whole time
    const all = heard(run.pstn, 0, Infinity);
    expect(all.length).toBeGreaterThan(8000 * 2);
    expect(toneShare(all, USER_HZ)).toBeGreaterThan(0.9);
  }, 20_000);

  it('R-40 proceedWithAnnouncement: both parties hear "recording stopped", the call goes on', async () => {
    configure([refusing], 'proceedWithAnnouncement');
    const run = await placeCall(h, block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 4500 });
    try {
      const [caller, callee] = await run.done;
      expect(caller.exitCode, caller.describe()).toBe(0);
      expect(callee.exitCode, callee.describe()).toBe(0);
    } finally {
      run.close();
    }
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
    configure([refusing], 'endCallWithAnnouncement');
    const run = await placeCall(h, block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 0, callerExpectsRefusal: true, timeoutSec: 15 });
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
    await waitFor(() => h.manager.list().length === 0, 3000, 'the call to be gone');
  }, 25_000);
});
