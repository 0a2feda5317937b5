/**
 * The reference recording server run as a provider would run it (R-42): the standalone server
 * (`node --import tsx src/srs/main.ts`) whose engine listens on TLS only, and the whole product
 * (`npm start` as startProductProcess runs it, in-process recording server off) whose provider
 * profile says `transport: tls` and `srtp: true`. A PSTN call of the SIPp pack (caller 600 Hz,
 * callee 1000 Hz) is recorded: the recording INVITE can only reach the server over TLS (it has no
 * other SIP listener; the product verifies its certificate), the media is SDES-SRTP, and the WAV
 * the server writes holds both parties' tones, one per channel. The recording is then read back
 * through the server's own recordings API (srs.httpPort). Its retention flags apply at start: of
 * two seeded 40-day-old recordings, the one under --retention-days 30 goes, the one of an
 * organisation kept by --retention-org stays.
 *
 * The certificate is a throwaway self-signed pair for 127.0.0.1 made with the openssl CLI in the
 * test's temporary folder. Ports: 43750-43999.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzelPower } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import {
  exited,
  makeTestAudio,
  readWav,
  recordingFiles,
  ROOT,
  startDemoCall,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type ProductProcess,
} from '../../support/product-process.js';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { makeSelfSignedCertificate, type CertificateFiles } from '../../support/tls-certificate.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 43500, to: 43999 }, 1, 250);
const [mediaMin] = block.take(40) as [number]; // even: the block starts at 43750
const P = {
  mediaMin,
  mediaMax: mediaMin + 39,
  sip: block.next(),
  sipTls: block.next(),
  drachtio: block.next(),
  admin: block.next(),
  srs: block.next(), // the in-process recording server's port: unused (SRS_ENABLED=false)
  srsRtpMin: block.take(8)[0]!,
  srsRtpMax: 0,
  callee: block.next(),
  calleeControl: block.next(),
  calleeMedia: block.take(6)[0]!,
  carrier: block.next(),
  carrierControl: block.next(),
  carrierMedia: block.take(6)[0]!,
  // the standalone recording server
  srsTls: block.next(),
  srsEngineAdmin: block.next(),
  srsHttp: block.next(),
  srsMediaMin: block.take(20)[0]!,
};
P.srsRtpMax = P.srsRtpMin + 7;
const SRS_MEDIA = { from: P.srsMediaMin + (P.srsMediaMin % 2), to: P.srsMediaMin + 19 };

const CALLER_HZ = 600; // audio/caller.ul (scripts/make-test-audio.sh)
const CALLEE_HZ = 1000; // audio/callee.ul
const TOKEN = 'srs-api-token-42';

let dir = '';
let product: ProductProcess | undefined;
let srs: ChildProcessByStdio<null, Readable, Readable> | undefined;
let srsLog = '';
const oldWavs: Record<string, string> = {};

/** The demo provisioning with its provider moved to the standalone server over TLS with SRTP. */
function writeTlsProvisioning(folder: string): string {
  const path = writeDemoProvisioning(folder, { callee: P.callee, carrier: P.carrier, srs: P.srsTls });
  const text = readFileSync(path, 'utf8');
  const server = `        recordingServers:\n          - uri: sip:srs@127.0.0.1:${P.srsTls}\n`;
  if (!text.includes(server)) throw new Error(`config/demo-provisioning.yaml no longer has its recording server as\n${server}`);
  writeFileSync(path, text.replace(server, `${server}        transport: tls\n        srtp: true\n        plan: free\n`));
  return path;
}

async function startStandaloneSrs(cert: CertificateFiles, recordingsDir: string): Promise<void> {
  const args = [
    '--import', 'tsx', 'src/srs/main.ts',
    '--engine', `sip:127.0.0.1:${P.srsTls};transport=tls`,
    '--drachtio', `127.0.0.1:${P.srsEngineAdmin}`,
    '--rtp-ports', `${SRS_MEDIA.from}-${SRS_MEDIA.to}`,
    '--recordings-dir', recordingsDir,
    '--tls-key', cert.key, '--tls-cert', cert.cert, '--tls-ca', cert.cert,
    '--http-port', String(P.srsHttp), '--http-token', TOKEN,
    '--retention-days', '30', '--retention-org', 'keep-org=0',
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  delete env.CONFIG_FILE;
  srs = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  const child = srs;
  const ready = new Promise<void>((resolve, reject) => {
    const feed = (d: Buffer): void => {
      srsLog = (srsLog + d.toString()).slice(-40_000);
      if (srsLog.includes('recording server ready')) resolve();
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    void exited(child).then((e) => reject(new Error(`the recording server exited before ready (${e.code}/${e.signal})\n${srsLog}`)));
  });
  await withTimeout(ready, 45_000, 'the standalone recording server');
}

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'srs-tls-provider-'));
  makeTestAudio(dir);
  const cert = makeSelfSignedCertificate(dir, 'srs');
  // two recordings of 40 days ago: the standalone retention (30 days; keep-org kept) deletes the first at start
  for (const [id, tenant] of [['old-demo', 'demo'], ['old-keep-org', 'keep-org']] as const) {
    const startedAtMs = Date.now() - 40 * 86_400_000;
    const files = await new RecordingStore(join(dir, 'srs-recordings')).create(id, startedAtMs);
    writeFileSync(files.wavPath, Buffer.alloc(44));
    await files.writeSummary({ recordingId: id, callId: id, startedAt: new Date(startedAtMs).toISOString(), call: { direction: 'inbound', tenant }, participants: [], streams: [] });
    oldWavs[id] = files.wavPath;
  }
  // both start at once (the product reaches the recording server only when a call is recorded)
  const productOptions = {
    dir,
    ports: P,
    provisioningFile: writeTlsProvisioning(dir),
    env: {
      SRS_ENABLED: 'false',
      SIP_CONTACTS: `sip:127.0.0.1:${P.sip};transport=udp,tcp,sips:127.0.0.1:${P.sipTls};transport=tls`,
      SIP_TLS_KEY_FILE: cert.key,
      SIP_TLS_CERT_FILE: cert.cert,
      SIP_TLS_CA_FILE: cert.cert,
      SIP_TLS_VERIFY: 'true',
    },
    readyTimeoutMs: 45_000,
  };
  const [srsStarted, productStarted] = await Promise.allSettled([startStandaloneSrs(cert, join(dir, 'srs-recordings')), startProductProcess(productOptions)]);
  if (productStarted.status === 'fulfilled') product = productStarted.value;
  if (srsStarted.status === 'rejected') throw srsStarted.reason;
  if (productStarted.status === 'rejected') throw productStarted.reason;
}, 90_000);

afterAll(async () => {
  await product?.kill();
  if (srs && srs.exitCode === null) {
    srs.kill('SIGTERM');
    await withTimeout(exited(srs), 8000, 'recording server exit').catch(() => srs?.kill('SIGKILL'));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the reference recording server as a provider runs it: TLS signalling and SRTP media (R-42)', () => {
  it('MUST apply its configured retention at start: a recording older than --retention-days is deleted and logged, an organisation kept by --retention-org stays (R-08)', async () => {
    for (let i = 0; i < 100 && !srsLog.includes('recording deleted: older than its retention'); i++) await sleep(100);
    const deleted = srsLog.split('\n').filter((l) => l.includes('recording deleted: older than its retention'));
    expect(deleted, srsLog.slice(-3000)).toHaveLength(1);
    expect(JSON.parse(deleted[0]!)).toMatchObject({ level: 30, srsRecordingId: 'old-demo', orgId: 'demo', retentionDays: 30 });
    expect(existsSync(oldWavs['old-demo']!)).toBe(false);
    expect(existsSync(oldWavs['old-keep-org']!)).toBe(true);
  });


  it('MUST record a real call sent over TLS with SRTP: both parties in the WAV, the summary says srtp, the API serves it', async () => {
    const { callee, caller } = await startDemoCall(dir, {
      sipPort: P.sip,
      callee: { port: P.callee, controlPort: P.calleeControl, mediaPort: P.calleeMedia },
      carrier: { port: P.carrier, controlPort: P.carrierControl, mediaPort: P.carrierMedia },
      pauseMs: 4000,
    });
    const c = await caller.done;
    expect(c.code, `${c.describe}\n--- product\n${product!.log().slice(-4000)}\n--- srs\n${srsLog.slice(-4000)}`).toBe(0);
    const e = await withTimeout(callee.done, 10_000, 'callee');
    expect(e.code, e.describe).toBe(0);

    const recordingsDir = join(dir, 'srs-recordings');
    let files: string[] = [];
    for (let i = 0; i < 80; i++) {
      files = recordingFiles(recordingsDir).filter((f) => !/old-[a-z-]+\.\w+$/.test(f)); // the call's, not the seeded ones
      if (files.some((f) => f.endsWith('.json'))) break;
      await sleep(100);
    }
    const summaryFile = files.find((f) => f.endsWith('.json'));
    expect(summaryFile, `no summary written\n${files.join('\n')}\n--- product\n${product!.log().slice(-4000)}\n--- srs\n${srsLog.slice(-4000)}`).toBeDefined();
    const summary = JSON.parse(readFileSync(summaryFile!, 'utf8')) as {
      recordingId: string;
      call?: { tenant?: string };
      streams: Array<{ label: string; srtp: boolean; packets: number }>;
    };
    expect(summary.call?.tenant).toBe('demo');
    expect(summary.streams.map((s) => [s.label, s.srtp]), 'both streams arrived as SRTP').toEqual([
      ['1', true],
      ['2', true],
    ]);
    expect(summary.streams.every((s) => s.packets > 50)).toBe(true);

    // the WAV: label 1 the PSTN caller, label 2 the recorded user, decrypted
    const wav = readWav(files.find((f) => f.endsWith('.wav'))!);
    expect(wav.channels).toBe(2);
    const label1 = wav.samples(0);
    const label2 = wav.samples(1);
    expect(label1.length, 'at least 2 s recorded').toBeGreaterThan(16_000);
    expect(goertzelPower(label1, CALLER_HZ)).toBeGreaterThan(10 * goertzelPower(label1, CALLEE_HZ));
    expect(goertzelPower(label2, CALLEE_HZ)).toBeGreaterThan(10 * goertzelPower(label2, CALLER_HZ));

    // the server's own recordings API lists it (srtp) and serves the same WAV
    const api = `http://127.0.0.1:${P.srsHttp}/v1`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const list = (await (await fetch(`${api}/recordings?org=demo`, { headers: auth })).json()) as { recordings: Array<{ recordingId: string; srtp: boolean }> };
    expect(list.recordings).toEqual([expect.objectContaining({ recordingId: summary.recordingId, srtp: true })]);
    const audio = await fetch(`${api}/recordings/${summary.recordingId}/audio`, { headers: { ...auth, range: 'bytes=0-43' } });
    expect(audio.status).toBe(206);
    expect(Buffer.from(await audio.arrayBuffer()).toString('ascii', 0, 4)).toBe('RIFF');
  }, 60_000);
});
