/**
 * End to end with the product as `npm start` runs it (test/support/product-process.ts): an internal
 * call between two recorded users makes two recordings at the in-process reference recording
 * server, one per user, each with both voices, each summary naming its user (label 2, R-30); `*3`
 * keyed by one user pauses that user's recording only.
 *
 * Parties: bob's phone (SIPp, user-caller-pause.xml, streaming audio/caller.ul, 600 Hz) calls alice's
 * phone (SIPp, the pack's user-callee.xml, audio/callee.ul, 1000 Hz). Ports 45000-45499.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzelPower } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import { makeTestAudio, readWav, recordingFiles, ROOT, runPackSipp, startProductProcess, withTimeout, type ProductProcess } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 45000, to: 45499 }, 0, 500);
const P = {
  // RTP ranges first: they start on even ports
  mediaMin: block.take(100)[0]!,
  srsRtpMin: block.take(100)[0]!,
  sip: block.next(),
  drachtio: block.next(),
  admin: block.next(),
  srs: block.next(),
  alice: block.next(),
  aliceControl: block.next(),
  bob: block.next(),
  bobControl: block.next(),
  carrier: block.next(),
  aliceMedia: block.take(4)[0]!,
  bobMedia: block.take(4)[0]!,
};
const ports = { ...P, mediaMax: P.mediaMin + 99, srsRtpMax: P.srsRtpMin + 99 };

const BOB_HZ = 600; // audio/caller.ul (scripts/make-test-audio.sh)
const ALICE_HZ = 1000; // audio/callee.ul
const ALICE = `sip:alice@127.0.0.1:${P.alice}`;
const BOB = `sip:bob@127.0.0.1:${P.bob}`;
/** Each phase of bob's scenario (talk, paused, talk again), ms. */
const PHASE_MS = 3000;

/** Both users record every call with pause/resume, on the in-process reference recording server. */
function provisioning(): string {
  const user = (id: string, n: string, port: number): string => `
      - id: ${id}
        locationId: hq
        firstName: ${id[0]!.toUpperCase()}${id.slice(1)}
        lastName: Test
        email: ${id}@two.example
        licence: professional
        numbers: ["+1555000${n}"]
        extension: "${n}"
        sipIdentities: ["${id}@127.0.0.1:${port}"]
        recording:
          enabled: true
          mode: alwaysWithPauseResume
          pauseResumeNotification: beep`;
  return `organisations:
  - id: two
    name: Two recorded users
    region: US
    customerName: Two Inc
    defaultLanguage: en-US
    providers:
      - id: reference-srs
        profile: custom
        name: Reference recording server (in-process)
        recordingServers:
          - uri: sip:srs@127.0.0.1:${P.srs}
        failurePolicy: proceedWithoutAnnouncement
        terms:
          acceptedBy: admin@two.example
    serviceSettings:
      providerId: reference-srs
    locations:
      - id: hq
        name: Headquarters
        timeZone: UTC
    users:${user('alice', '2001', P.alice)}${user('bob', '2002', P.bob)}
    trunks:
      - id: carrier
        name: Carrier
        sourceAddresses: ["127.0.0.1:${P.carrier}"]
`;
}

interface SummaryFile {
  recordingId: string;
  startedAt: string;
  participants: Array<{ id: string; aor?: string }>;
  streams: Array<{ label: string; senders: string[]; empty: boolean }>;
  pauses: Array<{ start: string; end?: string }>;
  call?: { direction?: string };
}

let dir = '';
let app: ProductProcess | undefined;

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'two-recordings-'));
  makeTestAudio(dir);
  const provisioningFile = join(dir, 'provisioning.yaml');
  writeFileSync(provisioningFile, provisioning());
  app = await startProductProcess({ dir, ports, provisioningFile, env: { CALLS_TRUSTED_SOURCES: `127.0.0.1:${P.bob}` } });
}, 30_000);

afterAll(async () => {
  await app?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Mean power of `hz` in the samples [fromMs, toMs) of a channel. */
function power(samples: Int16Array, hz: number, fromMs: number, toMs: number): number {
  const part = samples.subarray(Math.max(0, Math.round(fromMs * 8)), Math.max(0, Math.round(toMs * 8)));
  return part.length > 0 ? goertzelPower(part, hz) : 0;
}

describe('an internal call between two recorded users (npm start, in-process reference recording server)', () => {
  it('MUST make two recordings, one per recorded user, each with both voices and naming its user as label 2; *3 pauses only the keying user\'s recording (R-10, R-17, R-18, R-30)', async () => {
    const callee = runPackSipp(dir, 'user-callee', { port: P.alice, controlPort: P.aliceControl, mediaPort: P.aliceMedia, timeoutSec: 30 });
    await sleep(300);
    const caller = runPackSipp(dir, 'user-caller-pause', {
      scenarioFile: join(ROOT, 'sipp-scenarios', 'calls', 'user-caller-pause.xml'),
      remote: `127.0.0.1:${P.sip}`,
      service: '+15550002001',
      port: P.bob,
      controlPort: P.bobControl,
      mediaPort: P.bobMedia,
      pauseMs: PHASE_MS,
      keys: { user: 'bob' },
      timeoutSec: 30,
    });

    // while the call runs: the admin API must be told which of the two recordings a control is for
    let refused: { status: number; code?: string } | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const calls = (await (await fetch(`http://127.0.0.1:${P.admin}/v1/calls`)).json()) as { calls: Array<{ id: string; state: string; recording: { state: string } }> };
      const call = calls.calls.find((c) => c.state === 'connected' && c.recording.state === 'recording');
      if (call) {
        const res = await fetch(`http://127.0.0.1:${P.admin}/v1/calls/${call.id}/recording`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"action":"stop"}' });
        refused = { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
      } else await sleep(100);
    }
    expect(refused).toEqual({ status: 409, code: 'CALL_CONTROL_REFUSED' });

    const c = await withTimeout(caller.done, 40_000, 'caller');
    expect(c.code, c.describe).toBe(0);
    const e = await withTimeout(callee.done, 10_000, 'callee');
    expect(e.code, e.describe).toBe(0);

    const recordingsDir = join(dir, 'recordings');
    let files: string[] = [];
    for (let i = 0; i < 100; i++) {
      files = recordingFiles(recordingsDir);
      if (files.filter((f) => f.endsWith('.json')).length >= 2 && files.filter((f) => f.endsWith('.wav')).length >= 2) break;
      await sleep(100);
    }
    const wavs = files.filter((f) => f.endsWith('.wav'));
    const jsons = files.filter((f) => f.endsWith('.json'));
    expect(wavs, files.join('\n')).toHaveLength(2);
    expect(jsons, files.join('\n')).toHaveLength(2);

    // each summary names its user as the sender of label 2, the other user as label 1
    const byUser = new Map<string, { summary: SummaryFile; wav: string }>();
    for (const file of jsons) {
      const summary = JSON.parse(readFileSync(file, 'utf8')) as SummaryFile;
      const senderOf = (label: string): string | undefined => {
        const id = summary.streams.find((s) => s.label === label)?.senders[0];
        return summary.participants.find((p) => p.id === id)?.aor;
      };
      expect(summary.call?.direction).toBe('internal');
      const user = senderOf('2')!;
      expect([ALICE, BOB]).toContain(user);
      expect(senderOf('1')).not.toBe(user);
      byUser.set(user, { summary, wav: wavs.find((w) => w.includes(summary.recordingId))! });
    }
    expect([...byUser.keys()].sort()).toEqual([ALICE, BOB].sort());
    const alice = byUser.get(ALICE)!;
    const bob = byUser.get(BOB)!;

    // *3 was bob's: his recording has the pause, alice's none
    expect(bob.summary.pauses).toHaveLength(1);
    expect(alice.summary.pauses).toEqual([]);

    // both voices in each recording, each user on channel 2 of their own
    const aliceWav = readWav(alice.wav);
    const bobWav = readWav(bob.wav);
    for (const [who, wav, own, other] of [
      ['alice', aliceWav, ALICE_HZ, BOB_HZ],
      ['bob', bobWav, BOB_HZ, ALICE_HZ],
    ] as const) {
      // on failure: whose recording, and what its summary says of each stream
      const said = `${who}'s recording, summary streams ${JSON.stringify(byUser.get(who === 'alice' ? ALICE : BOB)!.summary.streams)}`;
      expect(wav.channels).toBe(2);
      const label1 = wav.samples(0);
      const label2 = wav.samples(1);
      expect(label2.length, 'at least 6 s recorded').toBeGreaterThan(6 * 8000);
      expect(goertzelPower(label2, own), `label 2 of ${said}`).toBeGreaterThan(10 * goertzelPower(label2, other));
      expect(goertzelPower(label1, other), `label 1 of ${said}`).toBeGreaterThan(10 * goertzelPower(label1, own));
    }

    // bob's pause window: silence in his recording, both voices in alice's
    const pause = bob.summary.pauses[0]!;
    const from = Date.parse(pause.start) + 300;
    const to = Date.parse(pause.end!) - 300;
    expect(to - from).toBeGreaterThan(1000);
    const inBob = (ms: number): number => ms - Date.parse(bob.summary.startedAt);
    const inAlice = (ms: number): number => ms - Date.parse(alice.summary.startedAt);
    const talking = power(aliceWav.samples(1), ALICE_HZ, inAlice(from), inAlice(to));
    expect(talking).toBeGreaterThan(1e-3);
    expect(power(aliceWav.samples(0), BOB_HZ, inAlice(from), inAlice(to))).toBeGreaterThan(1e-3);
    expect(power(bobWav.samples(0), ALICE_HZ, inBob(from), inBob(to))).toBeLessThan(talking / 1000);
    expect(power(bobWav.samples(1), BOB_HZ, inBob(from), inBob(to))).toBeLessThan(talking / 1000);
  }, 60_000);
});
