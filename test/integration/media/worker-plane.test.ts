import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptLibrary } from '../../../src/media/audio/prompt-library.js';
import { MediaPlane } from '../../../src/media/media-plane.js';
import type { MediaSession } from '../../../src/media/media-session.js';
import { FakeSrsMedia } from '../../fakes/fake-srs-media.js';
import { captureLogger } from '../../support/capture-logger.js';
import { withoutIoUring } from '../../support/seccomp.js';
import { goertzelPower } from '../../support/goertzel.js';
import { MEDIA_CORE_PORTS } from '../../support/media-ports.js';
import { SOCKET_IO_PATHS, socketIoPortBlock } from '../../support/socket-io.js';
import { RtpPeer } from '../../support/rtp-peer.js';
import { sine } from '../../support/tone-source.js';
import { sleep } from '../../support/wait.js';

const LOCAL = '127.0.0.1';

describe.each(SOCKET_IO_PATHS)('media plane with a worker thread (sockets off the signalling loop) (%s socket I/O)', (io) => {
  const block = socketIoPortBlock(io, MEDIA_CORE_PORTS, 3, 100, 6);
  const [planeMin] = block.take(20);
  let plane: MediaPlane;
  let library: PromptLibrary;
  let session: MediaSession;
  let a: RtpPeer;
  let b: RtpPeer;
  let srs: FakeSrsMedia;

  beforeAll(async () => {
    library = PromptLibrary.load('prompts', { languages: ['en'] });
    plane = await MediaPlane.start({ portMin: planeMin!, portMax: planeMin! + 19, socketIo: io, workers: 1, prompts: library });
    expect(plane.socketIo).toBe(io);
    a = await RtpPeer.open(block.take(2)[0]!);
    b = await RtpPeer.open(block.take(2)[0]!);
    srs = await FakeSrsMedia.open([block.take(2)[0]!, block.take(2)[0]!]);
    session = await plane.createSession();
    await session.setRemote('a', { address: LOCAL, port: a.port });
    await session.setRemote('b', { address: LOCAL, port: b.port });
  });

  afterAll(async () => {
    await plane?.close();
    a?.close();
    b?.close();
    srs?.close();
  });

  it('allocates local RTP addresses from the configured range before any remote SDP (even RTP, RTCP + 1)', () => {
    for (const l of [session.local.a, session.local.b]) {
      expect(l.address).toBe(LOCAL);
      expect(l.rtpPort % 2).toBe(0);
      expect(l.rtcpPort).toBe(l.rtpPort + 1);
      expect(l.rtpPort).toBeGreaterThanOrEqual(planeMin!);
      expect(l.rtpPort).toBeLessThanOrEqual(planeMin! + 19);
    }
  });

  it('plays a library prompt to both legs sample-exact, with start/end events (R-11, R-31)', async () => {
    const prompt = library.get('recording-paused', 'en');
    const frames = prompt.frames('PCMU');
    const result = await session.playPrompt('both', prompt);
    await sleep(50);
    expect(result.legs.map((l) => l.leg).sort()).toEqual(['a', 'b']);
    for (const leg of result.legs) {
      expect(leg.reason).toBe('completed');
      expect(leg.framesSent).toBe(frames.length);
      expect(leg.endedAt - leg.startedAt).toBeGreaterThanOrEqual(frames.length * 20 - 10);
      expect(leg.endedAt - leg.startedAt).toBeLessThan(frames.length * 20 + 100);
    }
    for (const peer of [a, b]) {
      const got = peer.packets();
      expect(got).toHaveLength(frames.length);
      got.forEach((p, i) => expect(p.payload.equals(frames[i]!)).toBe(true));
      expect(RtpPeer.continuityProblems(got)).toEqual([]);
      expect(got[0]!.marker).toBe(true);
    }
  });

  it('relays and forks through the worker: each recording stream holds only its party', async () => {
    a.clear();
    b.clear();
    await session.startFork({ targets: srs.targets() });
    await Promise.all([
      a.play(sine(700, 500, -6), { address: LOCAL, port: session.local.a.rtpPort }),
      b.play(sine(1100, 500, -6), { address: LOCAL, port: session.local.b.rtpPort }),
    ]);
    await sleep(80);
    const s1 = srs.audio(0);
    const s2 = srs.audio(1);
    expect(s1.length).toBeGreaterThanOrEqual(24 * 160);
    expect(goertzelPower(s1, 700)).toBeGreaterThan(0.1);
    expect(goertzelPower(s1, 1100)).toBeLessThan(1e-4);
    expect(goertzelPower(s2, 1100)).toBeGreaterThan(0.1);
    expect(goertzelPower(s2, 700)).toBeLessThan(1e-4);
    expect(b.packets().length).toBeGreaterThanOrEqual(24);
    // the prompt's stream to B continues seamlessly into the relayed audio
    const stats = await session.getStats();
    expect(stats.fork.streams[0]!.sent).toBe(srs.packets(0).length);
  });

  it('closing the plane closes its sessions and frees the ports', async () => {
    const s2 = await plane.createSession();
    expect(plane.portUsage.inUse).toBe(6); // 2 legs + 2 fork streams of the first session, 2 legs here
    await s2.close();
    expect(plane.portUsage.inUse).toBe(4);
    await plane.close();
    expect(session.state).toBe('closed');
    expect(plane.portUsage.inUse).toBe(0);
  });
});

/** Nice value of every thread of this process, by thread id (/proc/self/task/<tid>/stat field 19). */
function threadNices(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      out.set(tid, Number(fields[16]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * Starts and closes a plane of 2 workers (extra options `options`, a source literal) in a child
 * process run through `wrapper` (a command that execs the rest: setpriv, a seccomp filter), and
 * returns its `kernelIo` and the log lines whose message matches `said`.
 */
function planeInChildProcess(wrapper: string[], options: string, said: RegExp): { kernelIo: string | undefined; lines: Array<Record<string, unknown>> } {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const code = `
    import { MediaPlane } from '${root}src/media/media-plane.ts';
    import { captureLogger } from '${root}test/support/capture-logger.ts';
    const { logger, lines } = captureLogger('info');
    const plane = await MediaPlane.start({ portMin: 9000, portMax: 9009, workers: 2, logger, ...${options} });
    await plane.close();
    console.log(JSON.stringify({ kernelIo: plane.kernelIo, lines: lines.filter((l) => ${said.toString()}.test(String(l.msg))) }));`;
  const [cmd, ...args] = [...wrapper, process.execPath, '--import', 'tsx', '--input-type=module', '-e', code];
  const run = spawnSync(cmd!, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { kernelIo: string | undefined; lines: Array<Record<string, unknown>> };
}

describe('media.workerNice (docs/media.md "Worker priority")', () => {
  it('each media worker thread takes the nice value; the signalling thread and the others keep theirs', async () => {
    const before = threadNices();
    const { logger, lines } = captureLogger('info');
    // no session is created: no port of the range is bound
    const plane = await MediaPlane.start({ portMin: 9000, portMax: 9009, workers: 2, workerNice: 7, logger });
    try {
      const after = threadNices();
      const changed = [...after].filter(([tid, nice]) => nice === 7 && before.get(tid) !== 7);
      expect(changed).toHaveLength(2);
      expect(after.get(String(process.pid))).toBe(before.get(String(process.pid)));
      for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid), `thread ${tid}`).toBe(nice);
      expect(lines.find((l) => l.msg === 'media workers run at nice 7')).toMatchObject({ level: 30, nice: 7, workers: 2 });
    } finally {
      await plane.close();
    }
  });

  it('a refused value (below 0 without CAP_SYS_NICE) leaves the workers at normal priority and says so once at warn', () => {
    // the same process without the capability to raise priority (setpriv, util-linux)
    const { lines } = planeInChildProcess(['setpriv', '--inh-caps=-sys_nice', '--bounding-set=-sys_nice'], '{ workerNice: -5 }', /nice|priority/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, nice: -5, code: 'EACCES', msg: 'media workers run at normal priority: nice -5 was refused (EACCES); a negative value needs CAP_SYS_NICE' });
  }, 60_000);
});

describe('media.ioUring (docs/media.md "Batched socket I/O")', () => {
  it('native workers read and send through io_uring by default, with recvmmsg/sendmmsg when it is off, and say which once', async () => {
    for (const [ioUring, kernelIo] of [
      ['auto', 'io_uring'],
      ['off', 'recvmmsg/sendmmsg'],
    ] as const) {
      const { logger, lines } = captureLogger('info');
      // no session is created: no port of the range is bound
      const plane = await MediaPlane.start({ portMin: 9000, portMax: 9009, workers: 2, socketIo: 'native', ioUring, logger });
      try {
        expect(plane.kernelIo).toBe(kernelIo);
        const said = lines.filter((l) => l.ioUring !== undefined);
        expect(said).toHaveLength(1);
        expect(said[0]).toMatchObject({ level: 30, ioUring: ioUring === 'auto' ? 'on' : 'off', msg: `media workers use ${kernelIo}` });
      } finally {
        await plane.close();
      }
    }
  });

  it('a kernel or container that refuses io_uring (seccomp, as in a default Docker container) leaves recvmmsg/sendmmsg, said once with the error', () => {
    const out = planeInChildProcess(withoutIoUring([]), "{ socketIo: 'native' }", /io_uring/);
    expect(out.kernelIo).toBe('recvmmsg/sendmmsg');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ level: 30, ioUring: 'EPERM', msg: 'media workers use recvmmsg/sendmmsg: the kernel refused io_uring (EPERM)' });
  }, 60_000);
});
