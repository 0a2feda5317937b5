/**
 * The README's run command, end to end: `npm start` (node --import tsx src/app/main.ts with
 * CONFIG_FILE=config/embedded.yaml) as a child process, the SIPp pack's PSTN caller and user callee
 * (sipp-scenarios/pack/, both streaming tone files with rtp_stream) through it, and the recording
 * the in-process reference recording server writes: a 2-channel WAV plus metadata.
 *
 * Only ports and directories are overridden (environment, as a user would): ports 39000-39999, a
 * temporary settings database, recordings directory, tone files, and a copy of
 * config/demo-provisioning.yaml whose 127.0.0.1 ports are moved into that range.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzelPower } from '../../support/goertzel.js';
import { assertSippInstalled, buildSippArgs } from '../../support/sipp.js';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const PACK = join(ROOT, 'sipp-scenarios', 'pack');

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

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

let dir = '';
let app: ChildProcess | undefined;
let appExit: Promise<Exit>;
let appLog = '';

function exited(child: ChildProcess): Promise<Exit> {
  return new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms`)), ms).unref())]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a pack scenario as the README shows it: from a folder holding audio/, exact ports given. */
function runPackSipp(name: string, opts: { remote?: string; service?: string; port: number; controlPort: number; mediaPort: number; pauseMs?: number }) {
  const files = { stat: join(dir, `${name}.stat.csv`), messages: join(dir, `${name}.msg.log`), errors: join(dir, `${name}.err.log`) };
  const args = buildSippArgs({ scenario: join(PACK, `${name}.xml`), timeoutSec: 25, ...opts }, files);
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const kill = setTimeout(() => child.kill('SIGKILL'), 35_000);
  const done = exited(child).then((e) => {
    clearTimeout(kill);
    const log = existsSync(files.errors) ? readFileSync(files.errors, 'utf8').slice(-2000) : '';
    return { ...e, describe: `sipp ${args.join(' ')}\nexit=${e.code} signal=${e.signal}\n${stderr}\n${log}` };
  });
  return { child, done };
}

/** Channel `ch` of a 16-bit PCM WAV as samples; also the header facts. */
function readWav(path: string): { channels: number; rate: number; samples: (ch: number) => Int16Array } {
  const buf = readFileSync(path);
  expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
  let off = 12;
  let channels = 0;
  let rate = 0;
  let data = Buffer.alloc(0);
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(off + 10);
      rate = buf.readUInt32LE(off + 12);
      expect(buf.readUInt16LE(off + 22)).toBe(16);
    } else if (id === 'data') data = buf.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size % 2);
  }
  const frames = Math.floor(data.length / (2 * Math.max(channels, 1)));
  return {
    channels,
    rate,
    samples: (ch) => {
      const out = new Int16Array(frames);
      for (let i = 0; i < frames; i++) out[i] = data.readInt16LE((i * channels + ch) * 2);
      return out;
    },
  };
}

function recordingFiles(recordingsDir: string): string[] {
  if (!existsSync(recordingsDir)) return [];
  return readdirSync(recordingsDir, { recursive: true, encoding: 'utf8' }).map((f) => join(recordingsDir, f));
}

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'run-command-'));
  const audio = spawnSync('bash', [join(ROOT, 'scripts', 'make-test-audio.sh'), join(dir, 'audio')], { encoding: 'utf8', timeout: 15_000 });
  expect(audio.status, audio.stderr).toBe(0);
  const demo = readFileSync(join(ROOT, 'config', 'demo-provisioning.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'provisioning.yaml'),
    demo.replaceAll('127.0.0.1:5070', `127.0.0.1:${P.callee}`).replaceAll('127.0.0.1:5080', `127.0.0.1:${P.carrier}`).replaceAll('127.0.0.1:5090', `127.0.0.1:${P.srs}`),
  );

  // exactly what `npm start` runs (package.json "start"), with environment overrides only
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.start).toContain('config/embedded.yaml');
  expect(pkg.scripts.start).toContain('node --import tsx src/app/main.ts');
  app = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CONFIG_FILE: 'config/embedded.yaml',
      LOG_LEVEL: 'info',
      SIP_CONTACTS: `sip:127.0.0.1:${P.sip};transport=udp,tcp`,
      DRACHTIO_PORT: String(P.drachtio),
      ADMIN_PORT: String(P.admin),
      MEDIA_PORT_MIN: String(P.mediaMin),
      MEDIA_PORT_MAX: String(P.mediaMax),
      SRS_SIP_URI: `sip:srs@127.0.0.1:${P.srs}`,
      SRS_RTP_PORT_MIN: String(P.srsRtpMin),
      SRS_RTP_PORT_MAX: String(P.srsRtpMax),
      SQLITE_PATH: join(dir, 'data', 'settings.db'),
      PROVISIONING_FILE: join(dir, 'provisioning.yaml'),
      RECORDINGS_DIR: join(dir, 'recordings'),
    },
  });
  appExit = exited(app);
  const ready = new Promise<void>((res, rej) => {
    const onData = (d: Buffer): void => {
      appLog = (appLog + d.toString()).slice(-30_000);
      if (/"msg":"ready"/.test(appLog)) res();
    };
    app!.stdout!.on('data', onData);
    app!.stderr!.on('data', onData);
    void appExit.then((e) => rej(new Error(`npm start exited before ready (${e.code}/${e.signal})\n${appLog}`)));
  });
  await withTimeout(ready, 15_000, 'waiting for the "ready" log line');
}, 30_000);

afterAll(async () => {
  if (app && app.exitCode === null && app.signalCode === null) {
    app.kill('SIGKILL');
    await appExit;
  }
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
    app!.kill('SIGTERM');
    const exit = await withTimeout(appExit, 8000, 'exit after SIGTERM');
    expect(exit, appLog.slice(-3000)).toEqual({ code: 0, signal: null });
    expect(appLog, "the stop was logged").toMatch(/"signal":"SIGTERM"/);
  }, 10_000);
});
