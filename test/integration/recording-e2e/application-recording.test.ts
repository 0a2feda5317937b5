/**
 * End to end through the composition root: startApplication (embedded engine, media plane with its
 * worker, SQLite settings, admin API, call layer, SIPREC client, in-process reference recording
 * server) with the settings written to its repository. One inbound PSTN call with the compliance
 * announcement, paused and resumed through the admin API; the recording server's files are checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApplication, type Application } from '../../../src/app/application.js';
import { buildConfig } from '../../../src/config/load-config.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import type { RecordingSummary } from '../../../src/srs/recording-summary.js';
import {
  OTHER_HZ,
  USER_HZ,
  applicationDriver,
  e2eBlock,
  e2eSnapshot,
  fullWindows,
  metadataHistory,
  placeCall,
  readStereoWav,
  storeSnapshot,
  wavFile,
  windows,
  type CallDriver,
} from './e2e-harness.js';
import { sampleValue } from '../../support/prometheus-text.js';
import { sleep, until } from '../../support/wait.js';

const block = e2eBlock(5);
const trunkPort = block.next();
const pbxPort = block.next();
const sipPort = block.next();
const srsPort = block.next();
const drachtioPort = block.next();
block.take(1); // the RTP ranges below start on even ports
const [mediaMin] = block.take(100);
const [srsRtpMin] = block.take(40);
const dir = mkdtempSync(join(tmpdir(), 'e2e-app-'));
const recordingsDir = join(dir, 'recordings');
let app: Application;
let driver: CallDriver;
const summaries: RecordingSummary[] = [];

beforeAll(async () => {
  const config = buildConfig({
    log: { level: 'silent' },
    sip: { contacts: [`sip:127.0.0.1:${sipPort};transport=udp`] },
    drachtio: { port: drachtioPort },
    admin: { port: 0 },
    media: { portMin: mediaMin!, portMax: mediaMin! + 99 },
    store: { sqlitePath: join(dir, 'settings.db') },
    srs: { enabled: true, sipUri: `sip:srs@127.0.0.1:${srsPort}`, rtpPortMin: srsRtpMin!, rtpPortMax: srsRtpMin! + 39, recordingsDir },
    calls: { trustedSources: [`127.0.0.1:${pbxPort}`], userProxy: `sip:127.0.0.1:${pbxPort}` },
  });
  app = await startApplication(config, silentLogger);
  app.srs!.app.on('recording-ended', (s) => summaries.push(s));
  await storeSnapshot(
    app.repository,
    e2eSnapshot({
      trunkPort,
      provider: { recordingServers: [{ uri: `sip:srs@127.0.0.1:${srsPort}`, transport: 'udp' }], failurePolicy: 'proceedWithoutAnnouncement' },
      policy: { orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'alwaysWithPauseResume', pauseResumeNotification: 'beep' } },
    }),
  );
  driver = applicationDriver(app, sipPort);
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function control(callId: string, action: 'pause' | 'resume'): Promise<number> {
  const res = await fetch(`${app.adminUrl}/v1/calls/${encodeURIComponent(callId)}/recording`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action }),
  });
  return res.status;
}

describe('the application records a call end to end', () => {
  it('R-11/R-14/R-17/R-30/R-31/R-32: compliance announcement, recording on answer, admin-API pause/resume, pure channels and complete metadata', async () => {
    const run = await placeCall(driver, block, { direction: 'inbound', trunkPort, pbxPort, talkMs: 7000 });
    try {
      const connectedAt = await run.connected();
      const callId = app.calls.list()[0]!.id;
      await sleep(Math.max(0, connectedAt + 2000 - performance.now()));
      expect(await control(callId, 'pause')).toBeLessThan(300);
      await sleep(2000);
      expect(await control(callId, 'resume')).toBeLessThan(300);
      // the recording server's media worker reports its own memory: its heap, and the open recording's timeline (32 kB) among its ArrayBuffers
      const metrics = await (await fetch(`${app.adminUrl}/v1/metrics`)).text();
      expect(sampleValue(metrics, 'siprec_b2bua_srs_worker_heap_bytes')).toBeGreaterThan(2 ** 20);
      expect(sampleValue(metrics, 'siprec_b2bua_srs_worker_array_buffer_bytes')).toBeGreaterThanOrEqual(32 * 1024);
      await run.partiesOk();
      await until(() => summaries.length === 1, 'the recording to end', 5000);
    } finally {
      run.close();
    }
    const summary = summaries[0]!;
    expect(summary.endReason).toBe('bye-from-src');
    const wav = readStereoWav(wavFile({ dir: recordingsDir }, summary));
    // the WAV spans the session plus what the fork kept from the answer (media.forkBufferMs, 3000 ms)
    expect(wav.durationMs).toBeGreaterThanOrEqual(summary.durationMs - 100);
    expect(wav.durationMs).toBeLessThanOrEqual(summary.durationMs + 3000 + 100);
    const ch1 = windows(wav.ch1, OTHER_HZ);
    const ch2 = windows(wav.ch2, USER_HZ);
    for (const report of [ch1, ch2]) {
      const full = fullWindows(report);
      expect(full.length).toBeGreaterThan(15);
      for (const w of full) {
        expect(w.share, `window at ${w.startMs} ms`).toBeGreaterThan(0.97);
        expect(w.productTone).toBeLessThan(1e-4);
      }
    }
    expect(summary.pauses).toHaveLength(1);
    const pauseFrom = Date.parse(summary.pauses[0]!.start) - Date.parse(summary.wav!.startedAt);
    const pauseTo = Date.parse(summary.pauses[0]!.end!) - Date.parse(summary.wav!.startedAt);
    for (const report of [ch1, ch2]) {
      const inside = report.filter((w) => w.startMs > pauseFrom + 200 && w.startMs + 200 < pauseTo - 200);
      expect(inside.length).toBeGreaterThan(3);
      for (const w of inside) expect(w.level).toBeLessThan(1e-6);
    }
    const history = metadataHistory({ dir: recordingsDir }, summary);
    for (const doc of history) expect(validateMetadata(doc.xml)).toEqual([]);
    const session = history.at(-1)!.model.sessions[0]!;
    expect(session.stopTime).toBeDefined();
    expect((session.announcements ?? []).filter((a) => a.result === 'played').map((a) => a.kind)).toEqual(['compliance', 'pause', 'resume']);
  }, 30_000);
});
