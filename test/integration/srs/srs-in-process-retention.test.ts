/**
 * The in-process recording server's retention and read API, in the whole product (`npm start` as
 * startProductProcess runs it): the demo organisation's provider is on the free plan (R-08: 30
 * days), so at start the clean-up deletes its 40-day-old recording and keeps its 5-day-old one; a
 * 40-day-old recording of an organisation the settings do not know falls back to srs.retentionDays
 * (0 = keep). The admin API lists what is left. Ports: 43600-43699.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import { portBlock } from '../../support/ports.js';
import { startProductProcess, writeDemoProvisioning, type ProductProcess } from '../../support/product-process.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 43500, to: 43999 }, 1, 100);
const [mediaMin] = block.take(20) as [number]; // 43600: even
const P = {
  mediaMin,
  mediaMax: mediaMin + 19,
  sip: block.next(),
  drachtio: block.next(),
  admin: block.next(),
  srs: block.next(),
  srsRtpMin: block.take(8)[0]!,
  srsRtpMax: 0,
};
P.srsRtpMax = P.srsRtpMin + 7;
const DAY = 86_400_000;

let dir = '';
let product: ProductProcess | undefined;
const lines: Array<Record<string, unknown>> = [];
const paths: Record<string, string> = {};

async function seed(recordingsDir: string, id: string, ageDays: number, tenant: string): Promise<void> {
  const startedAtMs = Date.now() - ageDays * DAY;
  const files = await new RecordingStore(recordingsDir).create(id, startedAtMs);
  await files.appendMetadata('<recording xmlns="urn:ietf:params:xml:ns:recording:1"/>');
  writeFileSync(files.wavPath, Buffer.alloc(44));
  await files.writeSummary({
    recordingId: id,
    callId: `call-${id}`,
    startedAt: new Date(startedAtMs).toISOString(),
    stoppedAt: new Date(startedAtMs + 60_000).toISOString(),
    durationMs: 60_000,
    endReason: 'bye-from-src',
    call: { direction: 'inbound', tenant },
    participants: [],
    streams: [],
    metadataDocuments: 1,
  });
  paths[id] = files.wavPath;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'srs-in-process-retention-'));
  const recordingsDir = join(dir, 'recordings');
  await seed(recordingsDir, 'demo-40-days', 40, 'demo');
  await seed(recordingsDir, 'demo-5-days', 5, 'demo');
  await seed(recordingsDir, 'unknown-org-40-days', 40, 'no-such-org');
  const provisioningFile = writeDemoProvisioning(dir, { callee: block.next(), carrier: block.next(), srs: P.srs });
  const text = readFileSync(provisioningFile, 'utf8');
  const provider = '        profile: custom\n';
  if (!text.includes(provider)) throw new Error('config/demo-provisioning.yaml no longer has a custom provider');
  writeFileSync(provisioningFile, text.replace(provider, `${provider}        plan: free\n`));
  product = await startProductProcess({
    dir,
    ports: P,
    provisioningFile,
    onLine: (line) => {
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    },
    readyTimeoutMs: 45_000,
  });
}, 60_000);

afterAll(async () => {
  await product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('in-process recording server: retention by the provider plan (R-08) and the admin API', () => {
  it('MUST delete at start a free-plan recording older than 30 days (logged at info with id and age) and keep the others', async () => {
    for (let i = 0; i < 100 && !lines.some((l) => l.msg === 'recording deleted: older than its retention'); i++) await sleep(100);
    const deleted = lines.filter((l) => l.msg === 'recording deleted: older than its retention');
    expect(deleted, product!.log().slice(-3000)).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ level: 30, srsRecordingId: 'demo-40-days', orgId: 'demo', retentionDays: 30 });
    expect(deleted[0]!.ageDays).toBeGreaterThanOrEqual(40);
    expect(existsSync(paths['demo-40-days']!)).toBe(false);
    expect(existsSync(paths['demo-5-days']!)).toBe(true);
    expect(existsSync(paths['unknown-org-40-days']!), 'no plan known: srs.retentionDays 0 keeps it').toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${P.admin}/v1/metrics`)).text();
    expect(metrics).toMatch(/^siprec_b2bua_srs_retention_deleted_total 1$/m);
    expect(metrics).toMatch(/^siprec_b2bua_srs_retention_failures_total 0$/m);
  });

  it('MUST list the recordings left through the admin API and serve their WAV', async () => {
    const res = await fetch(`http://127.0.0.1:${P.admin}/v1/recordings`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { recordings: Array<{ recordingId: string }> };
    expect(body.recordings.map((r) => r.recordingId)).toEqual(['demo-5-days', 'unknown-org-40-days']);
    const wav = await fetch(`http://127.0.0.1:${P.admin}/v1/recordings/demo-5-days/audio`);
    expect(wav.status).toBe(200);
    expect(wav.headers.get('content-type')).toBe('audio/wav');
    expect(wav.headers.get('content-length')).toBe('44');
    expect((await fetch(`http://127.0.0.1:${P.admin}/v1/recordings/demo-40-days`)).status).toBe(404);
  });
});
