/**
 * The README's run command, end to end: `npm start` (the build, then node dist/app/main.js with
 * CONFIG_FILE=config/embedded.yaml) as a child process, the SIPp pack's PSTN caller and user callee
 * (sipp-scenarios/pack/, both streaming tone files with rtp_stream) through it, and the recording
 * the in-process reference recording server writes: a 2-channel WAV plus metadata.
 *
 * Only ports and directories are overridden (environment, as a user would): ports 39000-39999, a
 * temporary settings database, recordings directory, tone files, and a copy of
 * config/demo-provisioning.yaml whose 127.0.0.1 ports are moved into that range.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzelPower } from '../../support/goertzel.js';
import {
  makeTestAudio,
  readWav,
  recordingFiles,
  ROOT,
  runPackSipp as runPackSippIn,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type PackSippOptions,
  type ProductProcess,
} from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

/** Ports of this test (39000-39999). The demo's 5070 / 5080 / 5090 map to CALLEE / CARRIER / SRS. */
const P = {
  sip: 39060,
  drachtio: 39022,
  admin: 39081,
  mediaMin: 39100,
  mediaMax: 39199,
  srs: 39090,
  srsRtpMin: 39200,
  srsRtpMax: 39299,
  callee: 39070,
  calleeControl: 39071,
  calleeMedia: 39300,
  carrier: 39050,
  carrierControl: 39051,
  carrierMedia: 39310,
} as const;

const CALLER_HZ = 600; // audio/caller.ul (scripts/make-test-audio.sh)
const CALLEE_HZ = 1000; // audio/callee.ul

let dir = '';
let app: ProductProcess | undefined;

/** Runs a pack scenario as the README shows it: from the test's folder holding audio/, exact ports given. */
function runPackSipp(name: string, opts: PackSippOptions) {
  return runPackSippIn(dir, name, opts);
}

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'run-command-'));
  makeTestAudio(dir);
  const provisioningFile = writeDemoProvisioning(dir, { callee: P.callee, carrier: P.carrier, srs: P.srs });

  // exactly what `npm start` runs (package.json "start"), with environment overrides only
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.start).toContain('config/embedded.yaml');
  expect(pkg.scripts.start).toMatch(/^npm run -s build && .*exec node dist\/app\/main\.js$/);
  app = await startProductProcess({ dir, ports: P, provisioningFile, logLevel: 'info' });
}, 30_000);

afterAll(async () => {
  await app?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README run command (npm start on config/embedded.yaml)', () => {
  it('records a PSTN call to the demo user made with the SIPp pack: 2-channel WAV (caller on 1, user on 2) and metadata', async () => {
    const callee = runPackSipp('user-callee', { port: P.callee, controlPort: P.calleeControl, mediaPort: P.calleeMedia });
    await sleep(300); // the B2BUA reaches the callee only after the ~2 s compliance announcement anyway
    const caller = runPackSipp('pstn-caller', {
      remote: `127.0.0.1:${P.sip}`,
      service: '+15550002001',
      port: P.carrier,
      controlPort: P.carrierControl,
      mediaPort: P.carrierMedia,
      pauseMs: 4000,
    });

    // the live call shows in the admin API while it runs
    let sawLiveCall = false;
    let callerDone = false;
    const callerResult = caller.done.finally(() => (callerDone = true));
    while (!callerDone) {
      const res = await fetch(`http://127.0.0.1:${P.admin}/v1/calls`).catch(() => undefined);
      if (res?.ok) {
        const body = (await res.json()) as { calls: unknown[] };
        if (body.calls.length > 0) sawLiveCall = true;
      }
      await sleep(250);
    }
    const c = await callerResult;
    expect(c.code, c.describe).toBe(0);
    const e = await withTimeout(callee.done, 10_000, 'callee');
    expect(e.code, e.describe).toBe(0);
    expect(sawLiveCall, 'GET /v1/calls listed the call while it ran').toBe(true);

    // the reference recording server writes recordings/<date>/<id>.wav, .json and metadata XML
    const recordingsDir = join(dir, 'recordings');
    let files: string[] = [];
    for (let i = 0; i < 50; i++) {
      files = recordingFiles(recordingsDir);
      if (files.some((f) => f.endsWith('.wav')) && files.some((f) => f.endsWith('.json'))) break;
      await sleep(100);
    }
    const wavs = files.filter((f) => f.endsWith('.wav'));
    expect(wavs, files.join('\n')).toHaveLength(1);
    expect(files.some((f) => /\.metadata(\.\d+)?\.xml$/.test(f)), files.join('\n')).toBe(true);
    const summary = JSON.parse(readFileSync(files.find((f) => f.endsWith('.json'))!, 'utf8')) as { call?: { tenant?: string; direction?: string } };
    expect(summary.call).toMatchObject({ tenant: 'demo', direction: 'inbound' });

    const wav = readWav(wavs[0]!);
    expect(wav.channels).toBe(2);
    expect(wav.rate).toBe(8000);
    const label1 = wav.samples(0);
    const label2 = wav.samples(1);
    expect(label1.length, 'at least 2 s recorded').toBeGreaterThan(16_000);
    // label 1 is the other party (the PSTN caller, 600 Hz), label 2 the recorded user (1000 Hz), R-30
    expect(goertzelPower(label1, CALLER_HZ)).toBeGreaterThan(10 * goertzelPower(label1, CALLEE_HZ));
    expect(goertzelPower(label2, CALLEE_HZ)).toBeGreaterThan(10 * goertzelPower(label2, CALLER_HZ));
  }, 30_000);

  it('stops cleanly on SIGTERM (exit code 0)', async () => {
    expect(app).toBeDefined();
    app!.child.kill('SIGTERM');
    const exit = await withTimeout(app!.exit, 8000, 'exit after SIGTERM');
    expect(exit, app!.log().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(app!.log(), "the stop was logged").toMatch(/"signal":"SIGTERM"/);
  }, 10_000);
});
