/**
 * `npm run bench media-alloc`: what the media plane's packet path allocates, per received packet,
 * on each socket I/O path. The engine runs in this thread (`workers: 0`, the same code a worker
 * runs) under V8's sampling heap profiler, counting objects a GC already collected too; the load
 * generator (bench/media-loadgen.ts) is another process, so every sample here is the relay's.
 * N recorded calls (2 streams in, 2 relayed and 2 forked out per call) for one step.
 *
 *   npm run bench media-alloc -- --calls 100 --duration 8000 --socket-io native,dgram
 *
 * Prints, per path: bytes allocated per received packet (JavaScript frames of src/media, and
 * objects the runtime's C++ made, such as dgram's Buffer per datagram), and the top allocation
 * sites. Ports: relay 40000-41999, generator 10000-11999.
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { MediaPlane } from '../src/media/media-plane.js';
import { nativeSocketIoError } from '../src/media/transport/batch-udp-endpoint.js';
import type { SocketIoMode } from '../src/media/transport/socket-io.js';
import { Loadgen } from './media-loadgen-driver.js';
import type { CallTargets } from './media-loadgen.js';
import { sleep } from '../test/support/wait.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100' },
    duration: { type: 'string', default: '8000' },
    'socket-io': { type: 'string', default: 'native,dgram' },
  },
  strict: true,
});
const CALLS = Number(values.calls);
const DURATION = Number(values.duration);
const PATHS = values['socket-io'].split(',') as SocketIoMode[];

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

/** Sampled bytes by allocation site (the allocating frame and its caller), and by who allocated. */
function attribute(head: ProfileNode): { media: number; runtime: number; other: number; sites: Map<string, number> } {
  const out = { media: 0, runtime: 0, other: 0, sites: new Map<string, number>() };
  const name = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src\/)/, '$1')}`;
  const walk = (n: ProfileNode, stack: ProfileNode[]): void => {
    const here = [...stack, n];
    if (n.selfSize > 0) {
      const inMedia = here.some((f) => f.callFrame.url.includes('/src/media/'));
      if (inMedia) out.media += n.selfSize;
      else if (n.callFrame.functionName === '(V8 API)') out.runtime += n.selfSize;
      else out.other += n.selfSize;
      if (inMedia || n.callFrame.functionName === '(V8 API)') {
        const site = here.slice(-2).reverse().map(name).join(' < ');
        out.sites.set(site, (out.sites.get(site) ?? 0) + n.selfSize);
      }
    }
    for (const c of n.children) walk(c, here);
  };
  walk(head, []);
  return out;
}

async function measure(io: SocketIoMode, loadgen: Loadgen, session: Session): Promise<void> {
  const plane = await MediaPlane.start({ portMin: 40000, portMax: 41999, workers: 0, socketIo: io });
  try {
    const ports = await loadgen.bind(CALLS);
    const targets: CallTargets[] = [];
    for (const [i, p] of ports.entries()) {
      const s = await plane.createSession({ label: `alloc-${i}` });
      await s.setRemote('a', { address: '127.0.0.1', port: p.a });
      await s.setRemote('b', { address: '127.0.0.1', port: p.b });
      await s.startFork({ targets: [{ address: '127.0.0.1', port: p.f1 }, { address: '127.0.0.1', port: p.f2 }] });
      targets.push({ toA: s.local.a.rtpPort, toB: s.local.b.rtpPort });
    }
    await sleep(300);
    const before = await plane.stats();
    await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    const report = await loadgen.run(targets, DURATION);
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
    const after = await plane.stats();
    const packetsIn = after.rtpIn - before.rtpIn;
    const a = attribute(profile.head);
    const per = (bytes: number): string => (packetsIn > 0 ? (bytes / packetsIn).toFixed(0) : 'n/a');
    console.log(
      `${plane.socketIo} socket I/O: ${CALLS} calls, ${packetsIn} packets in (${report.relayed} relayed, ${report.forked} forked out); ` +
        `allocated per packet in: ${per(a.media)} bytes by src/media code, ${per(a.runtime)} bytes by the runtime's C++ (receive buffers), ` +
        `${per(a.other)} bytes elsewhere (timers, IPC, the profiler)`,
    );
    for (const [site, bytes] of [...a.sites].sort((x, y) => y[1] - x[1]).slice(0, 6)) console.log(`  ${per(bytes).padStart(5)} B/packet  ${site}`);
  } finally {
    await plane.close();
  }
}

async function main(): Promise<void> {
  const generatorIo = nativeSocketIoError() === undefined ? 'native' : 'dgram';
  const loadgen = new Loadgen(10000, generatorIo);
  const session = new Session();
  session.connect();
  try {
    for (const io of PATHS) await measure(io, loadgen, session);
  } finally {
    session.disconnect();
    loadgen.exit();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
