import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeG711 } from '../../../src/media/audio/g711.js';
import { decodeWav } from '../../../src/media/audio/wav.js';
import { parseMetadata, validateMetadata } from '../../../src/siprec/index.js';
import { parseSrsAnswer } from '../../../src/siprec/srs-answer.js';
import type { RecordingSummary } from '../../../src/srs/recording-summary.js';
import { SrsApp } from '../../../src/srs/srs-app.js';
import { resolveSrsOptions } from '../../../src/srs/srs-options.js';
import type { SrsRecording } from '../../../src/srs/srs-recording.js';
import { startHarness, type EngineHarness } from '../../support/engine-harness.js';
import { goertzelPower } from '../../support/goertzel.js';
import { portBlock } from '../../support/ports.js';
import { runSipp, scenarioPath } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { RtpToneSender } from './rtp-sender.js';
import { sleep, until } from '../../support/wait.js';

// Ports (this file): SIP/SIPp/sender ports from 17000-17099, SRS RTP 17200-17299.
const ports = portBlock({ from: 17000, to: 17999 }, 0, 100);
const TONE_1 = 500;
const TONE_2 = 1300;

let harness: EngineHarness;
let srf: Srf;
let app: SrsApp;
let dir: string;

/** Copies a scenario into the temp dir with the tone file's absolute path (SIPp runs elsewhere). */
function scenario(name: string): string {
  const text = readFileSync(scenarioPath(name, 'siprec'), 'utf8').replaceAll('tone-label1.ul', join(dir, 'tone-label1.ul'));
  const path = join(dir, `${name}.xml`);
  writeFileSync(path, text);
  return path;
}

function channel(data: Buffer, ch: 0 | 1, fromMs: number, toMs: number): Int16Array {
  const from = Math.round(fromMs * 8);
  const to = Math.min(Math.round(toMs * 8), data.length / 4);
  const out = new Int16Array(Math.max(0, to - from));
  for (let i = 0; i < out.length; i++) out[i] = data.readInt16LE((from + i) * 4 + ch * 2);
  return out;
}

/** Feeds label 2 with TONE_2 for `ms`, from our own port, to the port the SRS answered. */
async function feedLabel2(rec: SrsRecording, ms: number): Promise<void> {
  const port2 = parseSrsAnswer(rec.answerSdp, ['1', '2'])[1]!.port;
  const sender = await RtpToneSender.open(ports.next(), 0x5eed, 'PCMU');
  const frame = sine(TONE_2, 20, -6);
  const t0 = Date.now();
  for (let k = 0; Date.now() - t0 < ms; k++) {
    await sender.send(sender.packet(frame), port2);
    const wait = t0 + (k + 1) * 20 - Date.now();
    if (wait > 0) await sleep(wait);
  }
  sender.close();
}

function nextEnded(): Promise<RecordingSummary> {
  return new Promise((resolve) => app.once('recording-ended', resolve));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'srs-app-'));
  // 5 s of a 500 Hz tone as raw mu-law for SIPp's rtp_stream (label 1).
  writeFileSync(join(dir, 'tone-label1.ul'), encodeG711('PCMU', sine(TONE_1, 5000, -6)));
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  srf = new Srf();
  srf.on('error', () => undefined);
  app = new SrsApp(srf, resolveSrsOptions({ rtpPorts: { from: 17200, to: 17299 }, recordingsDir: join(dir, 'recordings'), drachtio: harness.admin }), {}).attach();
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

const sippPorts = () => ({ port: ports.next(), controlPort: ports.next(), mediaPort: ports.take(4)[0]! });

describe('reference SRS behind the engine, driven by SIPp as SIPREC client', () => {
  it('records both streams into a 2-channel WAV, one tone per channel, and stores the metadata (R-30, R-31)', async () => {
    const fed: Promise<void>[] = [];
    app.once('recording-started', (rec) => fed.push(feedLabel2(rec, 2500)));
    const ended = nextEnded();
    const res = await runSipp({ scenario: scenario('srs-client-basic'), remote: harness.target, service: 'srs', timeoutSec: 15, ...sippPorts() });
    expect(res.exitCode, res.describe()).toBe(0);
    const summary = await ended;
    await Promise.all(fed);

    const answer200 = res.messages.find((m) => m.direction === 'received' && m.status === 200 && m.cseqMethod === 'INVITE')!;
    expect(answer200.text).toMatch(/a=recvonly/);
    expect(answer200.text.match(/^m=audio [1-9]\d* RTP\/AVP/gm)).toHaveLength(2);

    expect(summary.endReason).toBe('bye-from-src');
    const day = readdirSync(join(dir, 'recordings'))[0]!;
    const base = join(dir, 'recordings', day, summary.recordingId);
    const wav = decodeWav(readFileSync(`${base}.wav`));
    expect(wav.channels).toBe(2);
    expect(wav.sampleRate).toBe(8000);
    const lenMs = wav.data.length / 4 / 8;
    expect(lenMs).toBeGreaterThan(2500);
    const left = channel(wav.data, 0, 500, 2000);
    const right = channel(wav.data, 1, 500, 2000);
    expect(goertzelPower(left, TONE_1)).toBeGreaterThan(0.05);
    expect(goertzelPower(left, TONE_2)).toBeLessThan(0.005);
    expect(goertzelPower(right, TONE_2)).toBeGreaterThan(0.05);
    expect(goertzelPower(right, TONE_1)).toBeLessThan(0.005);

    expect(existsSync(`${base}.metadata.1.xml`)).toBe(true);
    const stored = readFileSync(`${base}.metadata.1.xml`, 'utf8');
    expect(validateMetadata(stored)).toEqual([]);
    const callId = res.messages.find((m) => m.direction === 'sent' && m.method === 'INVITE')!.callId!;
    expect(parseMetadata(stored).sessions[0]!.sipSessionIds).toEqual([callId]);
    expect(summary.callId).toBe(callId);
    expect(summary.metadataDocuments).toBe(1);
    expect(summary.participants.map((p) => p.aor)).toEqual(['sip:+4930123456@trunk.carrier.example', 'sip:alice@pbx.acme.example']);
    expect(summary.streams.map((s) => s.label)).toEqual(['1', '2']);
    expect(summary.streams.every((s) => s.packets > 50)).toBe(true);
  });

  it('counts a recording closed with a channel that received nothing (srs_recordings_incomplete_total), and not one with both', async () => {
    const before = { ...app.incompleteCounts };
    const ended = nextEnded();
    // SIPp sends label 1 only: label 2 stays empty
    const res = await runSipp({ scenario: scenario('srs-client-basic'), remote: harness.target, service: 'srs', timeoutSec: 15, ...sippPorts() });
    expect(res.exitCode, res.describe()).toBe(0);
    const summary = await ended;
    expect(summary.streams.map((st) => [st.label, st.empty])).toEqual([
      ['1', false],
      ['2', true],
    ]);
    expect(app.incompleteCounts).toEqual({ emptyChannel: before.emptyChannel + 1, lostAudio: before.lostAudio });

    const fed: Promise<void>[] = [];
    app.once('recording-started', (rec) => fed.push(feedLabel2(rec, 2500)));
    const bothEnded = nextEnded();
    const both = await runSipp({ scenario: scenario('srs-client-basic'), remote: harness.target, service: 'srs', timeoutSec: 15, ...sippPorts() });
    expect(both.exitCode, both.describe()).toBe(0);
    expect((await bothEnded).streams.every((st) => !st.empty)).toBe(true);
    await Promise.all(fed);
    expect(app.incompleteCounts.emptyChannel).toBe(before.emptyChannel + 1);
  });

  it('answers 420 to an INVITE without Require: siprec', async () => {
    const rejected = new Promise<number>((resolve) => app.once('rejected', (status) => resolve(status)));
    const res = await runSipp({ scenario: scenario('srs-client-no-require'), remote: harness.target, service: 'srs', timeoutSec: 10, ...sippPorts() });
    expect(res.exitCode, res.describe()).toBe(0);
    expect(await rejected).toBe(420);
  });

  it('answers 400 to metadata with hyphenated UUID ids', async () => {
    const rejected = new Promise<number>((resolve) => app.once('rejected', (status) => resolve(status)));
    const res = await runSipp({ scenario: scenario('srs-client-bad-metadata'), remote: harness.target, service: 'srs', timeoutSec: 10, ...sippPorts() });
    expect(res.exitCode, res.describe()).toBe(0);
    expect(await rejected).toBe(400);
    expect(app.recordings().size).toBe(0);
  });

  it('pause (a=inactive re-INVITE) becomes silence on both channels, resume records again, each document stored (R-18, R-32)', async () => {
    const fed: Promise<void>[] = [];
    app.once('recording-started', (rec) => fed.push(feedLabel2(rec, 4400)));
    const ended = nextEnded();
    const res = await runSipp({ scenario: scenario('srs-client-pause'), remote: harness.target, service: 'srs', timeoutSec: 20, ...sippPorts() });
    expect(res.exitCode, res.describe()).toBe(0);
    const summary = await ended;
    await Promise.all(fed);
    expect(summary.metadataDocuments).toBe(3);
    expect(summary.sdpPauses).toHaveLength(1);
    const pause = summary.sdpPauses[0]!;
    expect(pause.endMs! - pause.startMs).toBeGreaterThan(1200);
    const day = readdirSync(join(dir, 'recordings'))[0]!;
    const wav = decodeWav(readFileSync(join(dir, 'recordings', day, `${summary.recordingId}.wav`)));
    const quiet = (ch: 0 | 1) => channel(wav.data, ch, pause.startMs + 100, pause.endMs! - 100);
    expect(quiet(0).every((x) => x === 0)).toBe(true);
    expect(quiet(1).every((x) => x === 0)).toBe(true);
    expect(goertzelPower(channel(wav.data, 0, 300, pause.startMs - 100), TONE_1)).toBeGreaterThan(0.05);
    expect(goertzelPower(channel(wav.data, 0, pause.endMs! + 200, pause.endMs! + 1000), TONE_1)).toBeGreaterThan(0.05);
    expect(goertzelPower(channel(wav.data, 1, pause.endMs! + 200, pause.endMs! + 1000), TONE_2)).toBeGreaterThan(0.05);
    expect(summary.streams.every((s) => s.droppedInactive > 0 || s.label === '1')).toBe(true);
    await until(() => app.recordings().size === 0, 'the recording to be released');
  });
});
