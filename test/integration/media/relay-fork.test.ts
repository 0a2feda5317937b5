import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMINDER_TONE } from '../../../src/media/audio/tones.js';
import { MediaPlane } from '../../../src/media/media-plane.js';
import type { MediaSession } from '../../../src/media/media-session.js';
import type { PromptNotice } from '../../../src/media/media-session-types.js';
import { FakeSrsMedia } from '../../fakes/fake-srs-media.js';
import { goertzelPower } from '../../support/goertzel.js';
import { MEDIA_CORE_PORTS } from '../../support/media-ports.js';
import { SOCKET_IO_PATHS, socketIoPortBlock } from '../../support/socket-io.js';
import { RtpPeer, type ReceivedPacket } from '../../support/rtp-peer.js';
import { sine } from '../../support/tone-source.js';
import { sleep } from '../../support/wait.js';

const A_HZ = 700;
const B_HZ = 1100;
const PROMPT_HZ = 2500;
const HIJACK_HZ = 3000;
const TONE_HZ = REMINDER_TONE.frequencyHz; // 1400
const PRESENT = 1e-2; // a -20 dBFS component or louder
const ABSENT = 1e-4; // below -40 dBFS

/** Per-20-ms-frame power at one frequency. */
function framePowers(packets: ReceivedPacket[], hz: number): number[] {
  return packets.map((p) => goertzelPower(RtpPeer.decode([p]), hz));
}

describe.each(SOCKET_IO_PATHS)('media relay + fork over real UDP (R-30, R-15, R-11, R-19) (%s socket I/O)', (io) => {
  const block = socketIoPortBlock(io, MEDIA_CORE_PORTS, 0, 100, 1);
  const [planeMin] = block.take(40);
  let plane: MediaPlane;
  let session: MediaSession;
  let peerA: RtpPeer;
  let peerB: RtpPeer;
  let hijacker: RtpPeer;
  let srs: FakeSrsMedia;
  const started: PromptNotice[] = [];
  const ended: Array<PromptNotice & { reason: string; framesSent: number }> = [];

  beforeAll(async () => {
    plane = await MediaPlane.start({ portMin: planeMin!, portMax: planeMin! + 39, socketIo: io, workers: 0 });
    expect(plane.socketIo).toBe(io);
    peerA = await RtpPeer.open(block.take(2)[0]!);
    peerB = await RtpPeer.open(block.take(2)[0]!, { codec: 'PCMA' });
    hijacker = await RtpPeer.open(block.take(2)[0]!);
    srs = await FakeSrsMedia.open([block.take(2)[0]!, block.take(2)[0]!]);
    session = await plane.createSession({ label: 'relay-fork' });
    session.on('promptStarted', (e) => started.push(e));
    session.on('promptEnded', (e) => ended.push(e));
    // both legs take both G.711 codecs (a codec a leg did not negotiate is not relayed to it); prompts
    // and tones go to A in PCMU, to B in PCMA (each leg's first G.711 entry)
    await session.setRemote('a', { address: '127.0.0.1', port: peerA.port, payloadTypes: [{ pt: 0, name: 'PCMU' }, { pt: 8, name: 'PCMA' }, { pt: 101, name: 'telephone-event' }] });
    await session.setRemote('b', { address: '127.0.0.1', port: peerB.port, payloadTypes: [{ pt: 8, name: 'PCMA' }, { pt: 0, name: 'PCMU' }, { pt: 101, name: 'telephone-event' }] });
    await session.startFork({ targets: srs.targets() });

    const toA = { address: '127.0.0.1', port: session.local.a.rtpPort };
    const toB = { address: '127.0.0.1', port: session.local.b.rtpPort };
    const playA = peerA.play(sine(A_HZ, 2000, -6), toA);
    const playB = peerB.play(sine(B_HZ, 2000, -6), toB);
    await sleep(300);
    const prompt = session.playPrompt('a', { pcm: sine(PROMPT_HZ, 400, -10), name: 'test-prompt' });
    await sleep(200);
    // a hijacker sends to leg A's port: it must be dropped, never relayed
    const hijack = hijacker.play(sine(HIJACK_HZ, 200, -6), toA);
    for (let i = 0; i < 5; i++) peerB.sendRaw(Buffer.from([0x12, 0x34, i]), toB);
    await sleep(500);
    await session.beep(REMINDER_TONE, 'both', 'reminder');
    await Promise.all([playA, playB, prompt, hijack]);
    await sleep(150);
  });

  afterAll(async () => {
    await session?.close();
    await plane?.close();
    for (const p of [peerA, peerB, hijacker]) p?.close();
    srs?.close();
  });

  it('MUST send what A says, and only that, to recording stream 1 (R-30, R-15)', () => {
    const pk = srs.packets(0);
    expect(pk.length).toBeGreaterThan(80);
    expect(Math.min(...framePowers(pk.slice(2, -2), A_HZ))).toBeGreaterThan(PRESENT);
    for (const hz of [B_HZ, PROMPT_HZ, TONE_HZ, HIJACK_HZ]) expect(Math.max(...framePowers(pk, hz))).toBeLessThan(ABSENT);
  });

  it('MUST send what B says, and only that, to recording stream 2 (R-30, R-15)', () => {
    const pk = srs.packets(1);
    expect(pk.length).toBeGreaterThan(80);
    expect(Math.min(...framePowers(pk.slice(2, -2), B_HZ))).toBeGreaterThan(PRESENT);
    for (const hz of [A_HZ, PROMPT_HZ, TONE_HZ]) expect(Math.max(...framePowers(pk, hz))).toBeLessThan(ABSENT);
  });

  it('forked streams have their own SSRCs and continuous seq/timestamps', () => {
    const s0 = srs.packets(0);
    const s1 = srs.packets(1);
    expect(RtpPeer.continuityProblems(s0)).toEqual([]);
    expect(RtpPeer.continuityProblems(s1)).toEqual([]);
    expect(s0[0]!.ssrc).not.toBe(s1[0]!.ssrc);
    expect(s0[0]!.ssrc).not.toBe(peerA.ssrc);
  });

  it('A hears the prompt instead of B while it plays, then B again; B never hears the prompt', () => {
    const heard = peerA.packets();
    const prompt = framePowers(heard, PROMPT_HZ);
    const bSpeech = framePowers(heard, B_HZ);
    const promptFrames = prompt.map((p, i) => ({ p, b: bSpeech[i]! })).filter((x) => x.p > PRESENT);
    expect(promptFrames.length).toBeGreaterThanOrEqual(18);
    expect(promptFrames.length).toBeLessThanOrEqual(21);
    for (const f of promptFrames) expect(f.b).toBeLessThan(ABSENT);
    expect(bSpeech.filter((p) => p > PRESENT).length).toBeGreaterThan(50);
    expect(Math.max(...framePowers(peerB.packets(), PROMPT_HZ))).toBeLessThan(ABSENT);
  });

  it('reports promptStarted/promptEnded with times 400 ms apart (R-31)', () => {
    expect(started).toHaveLength(1);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.reason).toBe('completed');
    expect(ended[0]!.framesSent).toBe(20);
    expect(ended[0]!.at - started[0]!.at).toBeGreaterThanOrEqual(390);
    expect(ended[0]!.at - started[0]!.at).toBeLessThan(480);
  });

  it('both parties hear the reminder tone mixed over the other party (R-19)', () => {
    for (const [peer, other] of [
      [peerA, B_HZ],
      [peerB, A_HZ],
    ] as const) {
      const heard = peer.packets();
      const tone = framePowers(heard, TONE_HZ);
      const speech = framePowers(heard, other);
      const toneFrames = tone.map((p, i) => ({ p, s: speech[i]! })).filter((x) => x.p > 1e-3);
      expect(toneFrames.length).toBeGreaterThanOrEqual(8);
      // mixed, not replaced: the other party is still audible under the tone
      expect(toneFrames.filter((f) => f.s > PRESENT).length).toBeGreaterThanOrEqual(8);
    }
  });

  it('what each party receives is one continuous stream across prompt and tone (no jump, no duplicate)', () => {
    expect(RtpPeer.continuityProblems(peerA.packets())).toEqual([]);
    expect(RtpPeer.continuityProblems(peerB.packets())).toEqual([]);
  });

  it('MUST drop and count packets from a hijacking source, and count malformed packets', async () => {
    expect(Math.max(...framePowers(peerB.packets(), HIJACK_HZ))).toBeLessThan(ABSENT);
    expect(Math.max(...framePowers(srs.packets(0), HIJACK_HZ))).toBeLessThan(ABSENT);
    const stats = await session.getStats();
    expect(stats.a.hijackDropped).toBeGreaterThanOrEqual(9);
    expect(stats.b.malformed).toBe(5);
    // B's speech towards A was replaced for the prompt's 20 frames; nothing towards B was
    expect(stats.a.replacedByPrompt).toBeGreaterThanOrEqual(18);
    expect(stats.b.replacedByPrompt).toBe(0);
    expect(stats.a.injectCodec).toBe('PCMU');
    expect(stats.b.injectCodec).toBe('PCMA');
    expect(stats.fork.state).toBe('active');
    expect(stats.fork.streams[0]!.sent).toBe(srs.packets(0).length);
  });
});
