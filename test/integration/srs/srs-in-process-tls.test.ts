/**
 * The in-process recording server on TLS: the whole product (`npm start` as
 * startProductProcess runs it) with SRS_SIP_URI `sips:`, so the recording server's engine listens on
 * TLS only, and the demo provider pointed at that `sips:` URI with SRTP required. A PSTN call of the
 * SIPp pack (caller 600 Hz, callee 1000 Hz) is recorded over TLS + SDES-SRTP; the WAV holds both
 * tones, the summary marks both streams srtp, and the admin API lists the recording. The
 * certificate is a throwaway self-signed pair made with openssl. Ports: 43700-43749.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzelPower } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import { makeTestAudio, readWav, recordingFiles, runPackSipp, startProductProcess, withTimeout, writeDemoProvisioning, type ProductProcess } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { makeSelfSignedCertificate } from '../../support/tls-certificate.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 43700, to: 43749 }, 0, 50);
const [mediaMin] = block.take(16) as [number]; // 43700: even
const P = {
  mediaMin,
  mediaMax: mediaMin + 15,
  sip: block.next(),
  sipTls: block.next(),
  drachtio: block.next(),
  admin: block.next(),
  srs: block.next(),
  srsRtpMin: block.take(8)[0]!,
  srsRtpMax: 0,
  callee: block.next(),
  calleeControl: block.next(),
  calleeMedia: block.take(4)[0]!,
  carrier: block.next(),
  carrierControl: block.next(),
  carrierMedia: block.take(4)[0]!,
};
P.srsRtpMax = P.srsRtpMin + 7;
const CALLER_HZ = 600;
const CALLEE_HZ = 1000;

let dir = '';
let product: ProductProcess | undefined;

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'srs-in-process-tls-'));
  makeTestAudio(dir);
  const cert = makeSelfSignedCertificate(dir);
  const provisioningFile = writeDemoProvisioning(dir, { callee: P.callee, carrier: P.carrier, srs: P.srs });
  const text = readFileSync(provisioningFile, 'utf8');
  const server = `          - uri: sip:srs@127.0.0.1:${P.srs}\n`;
  if (!text.includes(server)) throw new Error(`config/demo-provisioning.yaml no longer has its recording server as ${server}`);
  writeFileSync(provisioningFile, text.replace(server, `          - uri: sips:srs@127.0.0.1:${P.srs}\n        srtp: true\n`));
  product = await startProductProcess({
    dir,
    ports: P,
    provisioningFile,
    env: {
      SRS_SIP_URI: `sips:srs@127.0.0.1:${P.srs}`,
      SIP_CONTACTS: `sip:127.0.0.1:${P.sip};transport=udp,tcp,sips:127.0.0.1:${P.sipTls};transport=tls`,
      SIP_TLS_KEY_FILE: cert.key,
      SIP_TLS_CERT_FILE: cert.cert,
      SIP_TLS_CA_FILE: cert.cert,
    },
    readyTimeoutMs: 45_000,
  });
}, 60_000);

afterAll(async () => {
  await product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('in-process recording server on TLS (R-42)', () => {
  it('MUST record a call sent to a sips: recording server over TLS with SRTP: both parties in the WAV, srtp in the summary and the admin API', async () => {
    const callee = runPackSipp(dir, 'user-callee', { port: P.callee, controlPort: P.calleeControl, mediaPort: P.calleeMedia });
    await sleep(300);
    const caller = runPackSipp(dir, 'pstn-caller', { remote: `127.0.0.1:${P.sip}`, service: '+15550002001', port: P.carrier, controlPort: P.carrierControl, mediaPort: P.carrierMedia, pauseMs: 4000 });
    const c = await caller.done;
    expect(c.code, `${c.describe}\n${product!.log().slice(-4000)}`).toBe(0);
    expect((await withTimeout(callee.done, 10_000, 'callee')).code).toBe(0);

    const recordingsDir = join(dir, 'recordings');
    let files: string[] = [];
    for (let i = 0; i < 80 && !files.some((f) => f.endsWith('.json')); i++) {
      await sleep(100);
      files = recordingFiles(recordingsDir);
    }
    const summaryFile = files.find((f) => f.endsWith('.json'));
    expect(summaryFile, `no summary\n${product!.log().slice(-4000)}`).toBeDefined();
    const summary = JSON.parse(readFileSync(summaryFile!, 'utf8')) as { recordingId: string; streams: Array<{ label: string; srtp: boolean }> };
    expect(summary.streams.map((s) => [s.label, s.srtp])).toEqual([
      ['1', true],
      ['2', true],
    ]);
    const wav = readWav(files.find((f) => f.endsWith('.wav'))!);
    const label1 = wav.samples(0);
    const label2 = wav.samples(1);
    expect(label1.length).toBeGreaterThan(16_000);
    expect(goertzelPower(label1, CALLER_HZ)).toBeGreaterThan(10 * goertzelPower(label1, CALLEE_HZ));
    expect(goertzelPower(label2, CALLEE_HZ)).toBeGreaterThan(10 * goertzelPower(label2, CALLER_HZ));

    const list = (await (await fetch(`http://127.0.0.1:${P.admin}/v1/recordings?org=demo`)).json()) as { recordings: Array<{ recordingId: string; srtp: boolean }> };
    expect(list.recordings).toEqual([expect.objectContaining({ recordingId: summary.recordingId, srtp: true })]);
  }, 60_000);
});
