/**
 * The reference recording server takes a recording in the shape BroadWorks platforms send:
 * no `Require: siprec` but a `;src` Contact, the metadata part first with the legacy
 * `application/rs-metadata` type, a draft-era `<recording_metadata>` document. It answers 200, and its
 * summary and stored metadata read to the same model an RFC 7865 document gives. An RFC 7866
 * INVITE without `Require: siprec` is still refused (420).
 *
 * Ports: 42800-42999 (this file).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata, validateMetadata } from '../../../src/siprec/index.js';
import type { RecordingSummary } from '../../../src/srs/recording-summary.js';
import { SrsApp } from '../../../src/srs/srs-app.js';
import { resolveSrsOptions } from '../../../src/srs/srs-options.js';
import { startHarness, type EngineHarness } from '../../support/engine-harness.js';
import { portBlock } from '../../support/ports.js';
import { runSipp, scenarioPath } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

const ports = portBlock({ from: 42800, to: 42999 }, 0, 100);
const RTP = { from: 42900, to: 42999 };

let harness: EngineHarness;
let srf: Srf;
let app: SrsApp;
let dir: string;

const sippPorts = () => ({ port: ports.next(), controlPort: ports.next(), mediaPort: ports.take(4)[0]! });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'srs-broadworks-'));
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  srf = new Srf();
  srf.on('error', () => undefined);
  app = new SrsApp(srf, resolveSrsOptions({ rtpPorts: RTP, recordingsDir: join(dir, 'recordings'), drachtio: harness.admin }), {}).attach();
  const connected = new Promise<void>((resolve) => srf.on('connect', (err: Error | null) => !err && resolve()));
  void srf.connect(harness.admin);
  await connected;
  await sleep(50);
});

afterAll(async () => {
  await app?.close();
  srf?.disconnect();
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reference SRS and the BroadWorks shape (R-41)', () => {
  it('MUST accept a BroadWorks recording INVITE (;src Contact, no Require, metadata first as application/rs-metadata) and read its draft-era metadata', async () => {
    const ended = new Promise<RecordingSummary>((resolve) => app.once('recording-ended', resolve));
    const res = await runSipp({ scenario: scenarioPath('srs-client-broadworks', 'siprec'), remote: harness.target, service: 'srs', timeoutSec: 15, ...sippPorts() });
    expect(res.exitCode, res.describe()).toBe(0);
    const summary = await ended;
    expect(summary.endReason).toBe('bye-from-src');
    expect(summary.metadataDocuments).toBe(1);
    expect(summary.participants.map((p) => p.aor)).toEqual(['sip:+15550102@as.example', 'sip:4411@as.example;user=phone']);
    expect(summary.streams.map((s) => s.label)).toEqual(['1', '2']);

    const day = readdirSync(join(dir, 'recordings'))[0]!;
    const stored = readFileSync(join(dir, 'recordings', day, `${summary.recordingId}.metadata.1.xml`), 'utf8');
    expect(stored).toContain('<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">');
    expect(validateMetadata(stored, { dialect: 'broadworks' })).toEqual([]);
    const model = parseMetadata(stored);
    expect(model.sessions[0]!.startTime).toBe(Date.UTC(2025, 5, 1, 13, 0, 0));
    expect(model.participantStreamAssocs.map((a) => a.send)).toEqual([['urn:uuid:6f1c2b3a-0000-4c00-8000-0000000000a6'], ['urn:uuid:6f1c2b3a-0000-4c00-8000-0000000000a7']]);
    expect(model.broadWorks).toMatchObject({ version: '1.0', serviceProviderId: 'sp-example', userId: '2102@as.example', callType: 'origCall', recordingType: 'on' });
  }, 30_000);

  it('MUST still refuse an RFC 7866 INVITE (+sip.src Contact) without Require: siprec with 420', async () => {
    const rejected = new Promise<number>((resolve) => app.once('rejected', (status) => resolve(status)));
    const res = await runSipp({ scenario: scenarioPath('srs-client-no-require', 'siprec'), remote: harness.target, service: 'srs', timeoutSec: 10, ...sippPorts() });
    expect(res.exitCode, res.describe()).toBe(0);
    expect(await rejected).toBe(420);
  }, 20_000);
});
