/**
 * End to end with the product as `npm start` runs it (test/support/product-process.ts): the recording
 * metadata the in-process reference recording server stored says which announcements and tones the
 * parties heard (R-31), including the reminder tone (R-19) and the user's stop (R-16, R-17).
 *
 * bob (onDemand, beeps on pause/resume, reminder tone every 10 s, the minimum) calls the PSTN from
 * the users' phone port (SIPp, sipp-scenarios/recording/user-reminder-stop.xml, feature codes as SIP
 * INFO): *1 start, *3 pause, *4 resume, 23.5 s during which the tone plays twice, *2 stop, BYE. The
 * carrier's callee is the pack's pstn-callee.xml; the compliance announcement is on for outbound PSTN
 * calls and the user-level start/stop announcement applies to inbound PSTN calls only (R-16), so the
 * start and stop entries are skipped with reason 'outboundPstn'. Ports 42000-42499.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../../src/siprec/metadata-parser.js';
import type { AnnouncementRecord } from '../../../src/siprec/metadata-types.js';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import { portBlock } from '../../support/ports.js';
import { makeTestAudio, recordingFiles, ROOT, runPackSipp, startProductProcess, withTimeout, type ProductProcess } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 42000, to: 42499 }, 0, 500);
const P = {
  // RTP ranges first: they start on even ports
  mediaMin: block.take(100)[0]!,
  srsRtpMin: block.take(100)[0]!,
  sip: block.next(),
  drachtio: block.next(),
  admin: block.next(),
  srs: block.next(),
  phone: block.next(),
  phoneControl: block.next(),
  carrier: block.next(),
  carrierControl: block.next(),
  phoneMedia: block.take(4)[0]!,
  carrierMedia: block.take(4)[0]!,
};
const ports = { ...P, mediaMax: P.mediaMin + 99, srsRtpMax: P.srsRtpMin + 99 };
const INTERVAL_S = 10;

/** bob records on demand with every notification on; the organisation plays the compliance announcement on outbound PSTN calls. */
function provisioning(): string {
  return `organisations:
  - id: tones
    name: Tones
    region: US
    customerName: Tones Inc
    defaultLanguage: en-US
    providers:
      - id: reference-srs
        profile: custom
        name: Reference recording server (in-process)
        recordingServers:
          - uri: sip:srs@127.0.0.1:${P.srs}
        failurePolicy: proceedWithoutAnnouncement
        terms:
          acceptedBy: admin@tones.example
    serviceSettings:
      providerId: reference-srs
      compliance:
        inboundPstn: true
        outboundPstn: true
        outboundDelay: false
    locations:
      - id: hq
        name: Headquarters
        timeZone: UTC
        announcementLanguage: en-US
    users:
      - id: bob
        locationId: hq
        firstName: Bob
        lastName: Test
        email: bob@tones.example
        licence: professional
        numbers: ["+15550002002"]
        extension: "2002"
        sipIdentities: ["bob@127.0.0.1:${P.phone}"]
        recording:
          enabled: true
          mode: onDemand
          pauseResumeNotification: beep
          startStopAnnouncement: { pstn: true, internal: true }
          repeatTone: { enabled: true, intervalSeconds: ${INTERVAL_S} }
    trunks:
      - id: carrier
        name: Carrier
        sourceAddresses: ["127.0.0.1:${P.carrier}"]
`;
}

let dir = '';
let app: ProductProcess | undefined;

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'announcement-metadata-'));
  makeTestAudio(dir);
  const provisioningFile = join(dir, 'provisioning.yaml');
  writeFileSync(provisioningFile, provisioning());
  // a loaded machine (other suites in parallel) can take longer than the default 15 s to start it
  app = await startProductProcess({ dir, ports, provisioningFile, env: { CALLS_TRUSTED_SOURCES: `127.0.0.1:${P.phone}` }, readyTimeoutMs: 45_000 });
}, 60_000);

afterAll(async () => {
  await app?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The metadata documents the reference server stored for the call's one recording, in arrival order. */
function metadataDocuments(files: string[]): string[] {
  const numbered = files
    .map((f) => ({ f, n: /\.metadata\.(\d+)\.xml$/.exec(f)?.[1] }))
    .filter((x): x is { f: string; n: string } => x.n !== undefined)
    .sort((a, b) => Number(a.n) - Number(b.n));
  return numbered.map((x) => readFileSync(x.f, 'utf8'));
}

const entry = (a: AnnouncementRecord): string => `${a.kind}:${a.result}`;

describe('announcements and tones in the recording metadata (npm start, in-process reference recording server)', () => {
  it('MUST carry the reminder tone as one entry with its count (R-19) and the user\'s *2 stop in the final metadata document (R-16, R-31, R-32)', async () => {
    const callee = runPackSipp(dir, 'pstn-callee', { port: P.carrier, controlPort: P.carrierControl, mediaPort: P.carrierMedia, timeoutSec: 50 });
    await sleep(300);
    const phone = runPackSipp(dir, 'user-reminder-stop', {
      scenarioFile: join(ROOT, 'sipp-scenarios', 'recording', 'user-reminder-stop.xml'),
      remote: `127.0.0.1:${P.sip}`,
      service: '+15559990000',
      port: P.phone,
      controlPort: P.phoneControl,
      mediaPort: P.phoneMedia,
      keys: { user: 'bob' },
      timeoutSec: 50,
    });
    const c = await withTimeout(phone.done, 60_000, "bob's phone");
    expect(c.code, `${c.describe}\n${app!.log().slice(-4000)}`).toBe(0);
    const e = await withTimeout(callee.done, 10_000, 'PSTN callee');
    expect(e.code, e.describe).toBe(0);

    const recordingsDir = join(dir, 'recordings');
    let files: string[] = [];
    for (let i = 0; i < 100; i++) {
      files = recordingFiles(recordingsDir);
      if (files.some((f) => f.endsWith('.json'))) break;
      await sleep(100);
    }
    expect(files.filter((f) => f.endsWith('.json')), files.join('\n')).toHaveLength(1);
    const docs = metadataDocuments(files);
    expect(docs.length, files.join('\n')).toBeGreaterThanOrEqual(3);
    for (const xml of docs) expect(validateMetadata(xml)).toEqual([]);

    // the final document: every announcement the parties heard or that was skipped, and why
    const final = parseMetadata(docs.at(-1)!);
    expect(final.sessions[0]!.stopTime).toBeDefined();
    const anns = final.sessions[0]!.announcements ?? [];
    // (the compliance prompt may still be playing to the callee when *1 starts the recording: its entry can follow the start's)
    expect(anns.map(entry).sort()).toEqual(['compliance:played', 'pause:played', 'reminder-tone:played', 'resume:played', 'start:skipped', 'stop:skipped']);
    expect(anns.map(entry).slice(-3)).toEqual(['resume:played', 'reminder-tone:played', 'stop:skipped']);
    const reminder = anns.filter((a) => a.kind === 'reminder-tone');
    expect(reminder, 'one reminder-tone entry for the recording').toHaveLength(1);
    const tone = reminder[0]!;
    expect(tone.count).toBeGreaterThanOrEqual(2);
    expect(tone.intervalSeconds).toBe(INTERVAL_S);
    expect(tone.last! - tone.start!).toBeGreaterThanOrEqual((tone.count! - 1) * INTERVAL_S * 1000 - 500);
    for (const kind of ['start', 'stop']) {
      expect(anns.find((a) => a.kind === kind), `R-16: no user-level ${kind} announcement on an outbound PSTN call`).toMatchObject({ result: 'skipped', reason: 'outboundPstn' });
    }
    const resume = anns.find((a) => a.kind === 'resume')!;
    expect(tone.start!).toBeGreaterThan(resume.start!); // the tone runs only while recording, not while paused

    // the reminder entry appeared in the update sent after its first play, with count 1
    const updates = docs.slice(0, -1).map((xml) => (parseMetadata(xml).sessions[0]!.announcements ?? []).filter((a) => a.kind === 'reminder-tone'));
    expect(updates.some((r) => r.length === 1 && r[0]!.count === 1 && r[0]!.start === tone.start), 'an update with the first play').toBe(true);
  }, 90_000);
});
