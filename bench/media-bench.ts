/**
 * `npm run bench:media`: recorded calls per core through this media plane versus rtpengine.
 *
 * A load generator in its own process (bench/media-loadgen.ts) drives N recorded calls: per call
 * two inbound streams at 50 packets/s (the parties), two relayed and two forked outbound streams
 * (the other party, the recording server's two streams). N ramps up; each step runs for a few
 * seconds and reports loss, added latency (p50/p99/p99.9, send -> receive inside the generator) and
 * the CPU of the relay under test. The same ramp then runs through Debian's rtpengine-daemon
 * (userspace, one thread, started here on 127.0.0.1; forks via subscribe requests).
 *
 * Options: --steps 100,200,400 (calls per step) --duration 5000 (ms per step) --no-rtpengine
 * --warmup 3000 (ms of the first step's load before the first measured step, unmeasured: each
 * relay is measured warm, our JIT-compiled packet path like rtpengine's machine code)
 * --repeat 1 (attempts per step: a step passes when one attempt passes, and its figures are those of
 * its best attempt, the lowest p99.9 without loss; on a shared virtual machine a neighbour's burst
 * can fail one attempt of either relay, and the same attempts are given to both)
 * --trace-marks (writes a line into the kernel's trace, tracefs trace_marker, as each attempt starts)
 * --workers 1 --socket-io auto (media.socketIo: auto, native or dgram; a list such as
 * native,dgram runs the ramp once per path, side by side) --io-uring auto (media.ioUring on the
 * native path: auto or off; auto,off runs the native ramp once each way, side by side) --generator-io native|dgram (the
 * generator's own sockets; native when the addon is built) --p999-limit 5 (ms) --pin yes|no
 * --relay-nice 0 (the relays' nice value: ours as media.workerNice on its worker threads, every
 * thread of rtpengine's alike) --generator-nice -20 (the generator's nice value, so that the
 * machine's other processes do not delay its sends and the latency measures the relay; a value the
 * system refuses leaves it at 0, with a line saying so).
 * Ports: relay 40000-47999, generator 10000-17999, rtpengine 52000-59899 and ng 59990.
 * Pass criteria of a step: loss < 0.01 % and p99.9 < --p999-limit ms. The ramp goes on past a step
 * over the latency limit (it still measures CPU at that load) and stops at the first loss; the
 * largest passing N is the last step before the first failure. The ratio lines compare the largest
 * passing N, N / CPU there, and CPU per call at the largest load both relays carried without loss.
 *
 * Pinning (--pin yes, the default on a machine with 2 cores or more and taskset): the relay under
 * test (this process and its media worker, or rtpengine with all its threads) runs on CPU 0 and the
 * generator on CPU 1, so the relay has one core of its own and the generator never takes it:
 * the largest passing N is then the recorded calls one core carries, for each relay alike.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';
import { MediaPlane } from '../src/media/media-plane.js';
import type { MediaSession } from '../src/media/media-session.js';
import { IO_URING_MODES, SOCKET_IO_MODES, type IoUringMode, type SocketIoMode } from '../src/media/transport/socket-io.js';
import { nativeSocketIoError } from '../src/media/transport/batch-udp-endpoint.js';
import { Loadgen } from './media-loadgen-driver.js';
import type { CallPorts, CallTargets, GeneratorIo, StepReport } from './media-loadgen.js';
import { ensureRtpengine, RtpengineUnderTest } from './media-rtpengine.js';
import { sleep } from '../test/support/wait.js';

const args = process.argv.slice(2);
function arg(name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
}
const STEPS = arg('steps', '100,200,300,400,500,600,700,800,900,1000').split(',').map(Number);
const DURATION = Number(arg('duration', '5000'));
const WARMUP = Number(arg('warmup', '3000'));
const REPEAT = Number(arg('repeat', '1'));
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat: ${String(REPEAT)} is not a whole number of attempts`);
const TRACE_MARKS = args.includes('--trace-marks');

/**
 * A line in the kernel's trace (tracefs trace_marker), to read a scheduler trace (sched_switch and
 * sched_wakeup events) against a step's worst windows, which are timed from the step's start.
 */
function markTrace(text: string): void {
  try {
    writeFileSync('/sys/kernel/tracing/trace_marker', text);
  } catch (err) {
    log(`--trace-marks: no trace marker written (${(err as Error).message}); is tracefs mounted on /sys/kernel/tracing?`);
  }
}
const WORKERS = Number(arg('workers', '1'));
const WITH_RTPENGINE = !args.includes('--no-rtpengine');
const SOCKET_IO = arg('socket-io', 'auto').split(',') as SocketIoMode[];
for (const io of SOCKET_IO) if (!SOCKET_IO_MODES.includes(io)) throw new Error(`--socket-io: ${io} is not one of ${SOCKET_IO_MODES.join(', ')}`);
const IO_URING = arg('io-uring', 'auto').split(',') as IoUringMode[];
for (const m of IO_URING) if (!IO_URING_MODES.includes(m)) throw new Error(`--io-uring: ${m} is not one of ${IO_URING_MODES.join(', ')}`);
/** Our relays, one ramp each: every socket I/O, and on the native path every io_uring mode. */
interface OurRelay {
  socketIo: SocketIoMode;
  ioUring: IoUringMode;
}
const OUR_RELAYS: OurRelay[] = SOCKET_IO.flatMap((socketIo): OurRelay[] =>
  socketIo === 'dgram' ? [{ socketIo, ioUring: 'auto' }] : IO_URING.map((ioUring) => ({ socketIo, ioUring })),
);
const GENERATOR_IO = arg('generator-io', nativeSocketIoError() === undefined ? 'native' : 'dgram') as GeneratorIo;
if (GENERATOR_IO !== 'native' && GENERATOR_IO !== 'dgram') throw new Error(`--generator-io: ${String(GENERATOR_IO)} is not native or dgram`);
const P999_LIMIT_MS = Number(arg('p999-limit', '5'));
/** A step loses packets at this share or more (0.01 %). */
const LOSS_LIMIT = 0.0001;
const PIN = arg('pin', 'yes') === 'yes' && availableParallelism() >= 2;
const RELAY_NICE = Number(arg('relay-nice', '0'));
if (!Number.isInteger(RELAY_NICE) || RELAY_NICE < -20 || RELAY_NICE > 19) throw new Error(`--relay-nice: ${String(RELAY_NICE)} is not a nice value from -20 to 19`);
const GENERATOR_NICE = Number(arg('generator-nice', '-20'));
if (!Number.isInteger(GENERATOR_NICE) || GENERATOR_NICE < -20 || GENERATOR_NICE > 19) throw new Error(`--generator-nice: ${String(GENERATOR_NICE)} is not a nice value from -20 to 19`);

/** Every thread of `pid` to nice `nice` (Linux: the nice value is per thread). */
function reniceAll(pid: number, nice: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), nice);
}

/** taskset every thread of `pid` onto one CPU; false when taskset is missing or refused. */
function pinTo(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Below the kernel's ephemeral range (32768-60999), so outgoing sockets of other processes never take them.
const LOADGEN_BASE = 10000;
const MAX_CALLS = 1000;

const log = (s: string): void => console.log(s);

interface StepResult extends StepReport {
  relayCpuPercent: number;
  loss: number;
  pass: boolean;
}

interface RelayUnderTest {
  name: string;
  setupCall(index: number, ports: CallPorts): Promise<CallTargets>;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function ourRelay(socketIo: SocketIoMode, ioUring: IoUringMode): Promise<RelayUnderTest> {
  const plane = await MediaPlane.start({ portMin: 40000, portMax: 47999, workers: WORKERS, socketIo, ioUring, workerNice: RELAY_NICE });
  if (PIN && !pinTo(process.pid, 0)) log('taskset failed: this media plane runs unpinned');
  const sessions: MediaSession[] = [];
  const io = plane.socketIo === 'native' ? `native socket I/O, ${plane.kernelIo ?? 'in-thread'}` : 'dgram socket I/O';
  return {
    name: `this media plane (${WORKERS} worker${WORKERS === 1 ? '' : 's'}, ${io}${RELAY_NICE === 0 ? '' : `, nice ${RELAY_NICE}`})`,
    async setupCall(_index, ports) {
      const s = await plane.createSession({ label: `bench-${_index}` });
      sessions.push(s);
      await s.setRemote('a', { address: '127.0.0.1', port: ports.a });
      await s.setRemote('b', { address: '127.0.0.1', port: ports.b });
      await s.startFork({ targets: [{ address: '127.0.0.1', port: ports.f1 }, { address: '127.0.0.1', port: ports.f2 }] });
      return { toA: s.local.a.rtpPort, toB: s.local.b.rtpPort };
    },
    cpuSeconds() {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    },
    async stop() {
      await plane.close();
    },
  };
}

async function rtpengineRelay(): Promise<RelayUnderTest | undefined> {
  const bin = ensureRtpengine(log);
  if (!bin) return undefined;
  const r = await RtpengineUnderTest.start(bin, { ngPort: 59990, portMin: 52000, portMax: 59899 });
  if (PIN && !pinTo(r.pid, 0)) log('taskset failed: rtpengine runs unpinned');
  if (RELAY_NICE !== 0) reniceAll(r.pid, RELAY_NICE);
  return {
    name: 'rtpengine-daemon (userspace, 1 thread)',
    setupCall: (i, p) => r.setupCall(i, p),
    cpuSeconds: () => r.cpuSeconds(),
    stop: () => r.stop(),
  };
}

async function ramp(relay: RelayUnderTest, loadgen: Loadgen): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const targets: CallTargets[] = [];
  for (const n of STEPS) {
    if (n > MAX_CALLS) break;
    const ports = await loadgen.bind(n);
    while (targets.length < n) targets.push(await relay.setupCall(targets.length, ports[targets.length]!));
    await sleep(300);
    if (n === STEPS[0] && WARMUP > 0) await loadgen.run(targets.slice(0, n), WARMUP, P999_LIMIT_MS);
    let r: StepResult | undefined;
    for (let attempt = 1; attempt <= REPEAT; attempt++) {
      if (TRACE_MARKS) markTrace(`bench:media ${relay.name} ${n} calls attempt ${attempt} start`);
      const cpu0 = relay.cpuSeconds();
      const report = await loadgen.run(targets.slice(0, n), DURATION, P999_LIMIT_MS);
      const relayCpuPercent = ((relay.cpuSeconds() - cpu0) / (DURATION / 1000)) * 100;
      const loss = 1 - (report.relayed + report.forked) / (2 * report.sent);
      const pass = loss < LOSS_LIMIT && report.latencyMs.p999 < P999_LIMIT_MS;
      const tried: StepResult = { ...report, relayCpuPercent, loss, pass };
      log(
        `  ${relay.name}: ${n} calls (${n * 2} in, ${n * 4} out streams)${REPEAT > 1 ? ` [${attempt}/${REPEAT}]` : ''}: loss ${(loss * 100).toFixed(4)} %, ` +
          `p50/p99/p99.9 ${fmt(report.latencyMs.p50)}/${fmt(report.latencyMs.p99)}/${fmt(report.latencyMs.p999)} ms, ` +
          `relay CPU ${relayCpuPercent.toFixed(0)} %, generator CPU ${report.cpuPercent.toFixed(0)} % (sent ${report.sent}, relayed ${report.relayed}, forked ${report.forked}, dup ${report.duplicates}, other ${report.unknown}) ${pass ? 'PASS' : 'FAIL'}`,
      );
      if (!pass) {
        const worst = report.worstWindows.filter((w) => w.maxMs >= P999_LIMIT_MS);
        if (worst.length > 0) log(`    worst 100 ms windows (send time into the step: max latency, packets over ${P999_LIMIT_MS} ms): ${worst.map((w) => `${(w.atMs / 1000).toFixed(1)} s: ${fmt(w.maxMs)} ms, ${w.overLimit}`).join('; ')}`);
      }
      // the step's result is its best attempt: the lowest p99.9 among those without loss
      if (r === undefined || (tried.loss < LOSS_LIMIT && (r.loss >= LOSS_LIMIT || tried.latencyMs.p999 < r.latencyMs.p999))) r = tried;
      if (tried.pass) break;
    }
    results.push(r!);
    const loss = r!.loss;
    // a step over the latency limit still measures CPU at that load: go on until the relay loses packets
    if (loss >= LOSS_LIMIT) break;
  }
  return results;
}

const fmt = (x: number): string => x.toFixed(2);

interface Summary {
  best: StepResult | undefined;
  /** N / relay CPU share at the largest passing N. */
  perCore: number | undefined;
}

function summary(name: string, results: StepResult[]): Summary {
  // the steps up to the first that failed
  const firstFail = results.findIndex((r) => !r.pass);
  const passing = firstFail < 0 ? results : results.slice(0, firstFail);
  const best = passing[passing.length - 1];
  const perCore = best && best.relayCpuPercent > 0 ? best.calls / (best.relayCpuPercent / 100) : undefined;
  log(
    best
      ? `${name}: largest N passing = ${best.calls} recorded calls${PIN ? ' on its one pinned core' : ''}; CPU ${best.relayCpuPercent.toFixed(0)} %; ` +
          `p50/p99/p99.9 ${fmt(best.latencyMs.p50)}/${fmt(best.latencyMs.p99)}/${fmt(best.latencyMs.p999)} ms; ` +
          `~${perCore?.toFixed(0)} recorded calls per core (N / CPU)`
      : `${name}: no step passed`,
  );
  return { best, perCore };
}

/** Below this CPU share a relay keeps up with its load (no queue builds): CPU per call means something. */
const UNSATURATED = 90;

/**
 * Two comparisons the latency limit does not enter: CPU per call at the largest load both relays
 * carried without loss and below UNSATURATED % CPU, and the largest load each carried without loss
 * (its throughput on one core, however late the packets).
 */
function equalLoadLines(name: string, ours: StepResult[], rtpengine: StepResult[]): string[] {
  const ok = (r: StepResult): boolean => r.loss < LOSS_LIMIT && r.relayCpuPercent < UNSATURATED;
  const common = ours.filter((r) => ok(r) && rtpengine.some((x) => x.calls === r.calls && ok(x))).at(-1);
  const lines: string[] = [];
  if (common === undefined || common.relayCpuPercent <= 0) lines.push(`at equal load (${name} / rtpengine): no common step without loss below ${UNSATURATED} % CPU`);
  else {
    const theirs = rtpengine.find((x) => x.calls === common.calls)!;
    lines.push(
      `at equal load, ${common.calls} recorded calls (no loss, both below ${UNSATURATED} % CPU): ${name} ${common.relayCpuPercent.toFixed(0)} % CPU ` +
        `(p99.9 ${fmt(common.latencyMs.p999)} ms), rtpengine ${theirs.relayCpuPercent.toFixed(0)} % (p99.9 ${fmt(theirs.latencyMs.p999)} ms): ` +
        `recorded calls per CPU x${(theirs.relayCpuPercent / common.relayCpuPercent).toFixed(2)} rtpengine's (above 1: ours spends less CPU per call)`,
    );
  }
  const most = (rs: StepResult[]): number => rs.filter((r) => r.loss < LOSS_LIMIT).at(-1)?.calls ?? 0;
  const [a, b] = [most(ours), most(rtpengine)];
  lines.push(`largest load without loss${PIN ? ' on one pinned core' : ''}: ${name} ${a} recorded calls, rtpengine ${b}: x${b > 0 ? (a / b).toFixed(2) : 'n/a'} (step ${STEPS[1]! - STEPS[0]!} calls)`);
  return lines;
}

/** Ours against rtpengine, from the same run: largest passing N (per pinned core) and N / CPU. */
function ratioLine(name: string, ours: Summary, rtpengine: Summary): string {
  const n = ours.best && rtpengine.best ? (ours.best.calls / rtpengine.best.calls).toFixed(2) : 'n/a';
  const perCpu = ours.perCore && rtpengine.perCore ? (ours.perCore / rtpengine.perCore).toFixed(2) : 'n/a';
  const capped = ours.best !== undefined && ours.best.calls === STEPS.filter((x) => x <= MAX_CALLS).at(-1) ? ' (ours passed the last step: the ratio is a floor)' : '';
  return `ratio (${name} / rtpengine) in this run: largest passing N x${n}${capped}; recorded calls per core (N / CPU) x${perCpu} (goal: >= 1.2)`;
}

async function main(): Promise<void> {
  log(
    `bench:media: steps ${STEPS.join(',')} calls, ${DURATION} ms each; pass = loss < 0.01 % and p99.9 < ${P999_LIMIT_MS} ms; ` +
      `generator on ${GENERATOR_IO} sockets at nice ${GENERATOR_NICE}; ${PIN ? 'relay pinned to CPU 0, generator to CPU 1' : 'nothing pinned'}`,
  );
  const loadgen = new Loadgen(LOADGEN_BASE, GENERATOR_IO);
  await loadgen.bind(0); // its threads are up once it answers
  if (PIN && !pinTo(loadgen.pid, 1)) log('taskset failed: the generator runs unpinned');
  try {
    reniceAll(loadgen.pid, GENERATOR_NICE);
  } catch (err) {
    log(`the generator runs at nice 0: nice ${GENERATOR_NICE} refused (${(err as Error).message})`);
  }
  const table: Array<[string, StepResult[]]> = [];
  try {
    for (const { socketIo, ioUring } of OUR_RELAYS) {
      const ours = await ourRelay(socketIo, ioUring);
      try {
        table.push([ours.name, await ramp(ours, loadgen)]);
      } finally {
        await ours.stop();
      }
    }
    if (WITH_RTPENGINE) {
      const rtp = await rtpengineRelay();
      if (rtp) {
        try {
          table.push([rtp.name, await ramp(rtp, loadgen)]);
        } finally {
          await rtp.stop();
        }
      } else log('rtpengine unavailable: comparison skipped');
    }
  } finally {
    loadgen.exit();
  }
  log('');
  log('| relay | calls | streams in/out | loss % | p50 ms | p99 ms | p99.9 ms | relay CPU % | generator CPU % | pass |');
  log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, rows] of table) {
    for (const r of rows) {
      log(
        `| ${name} | ${r.calls} | ${r.calls * 2}/${r.calls * 4} | ${(r.loss * 100).toFixed(4)} | ${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)} | ` +
          `${fmt(r.latencyMs.p999)} | ${r.relayCpuPercent.toFixed(0)} | ${r.cpuPercent.toFixed(0)} | ${r.pass ? 'yes' : 'no'} |`,
      );
    }
  }
  log('');
  const sums = table.map(([name, rows]) => summary(name, rows));
  const rtpengine = WITH_RTPENGINE && sums.length === OUR_RELAYS.length + 1 ? sums[sums.length - 1] : undefined;
  for (const [i, s] of sums.entries()) {
    if (rtpengine === undefined || s === rtpengine) continue;
    log(ratioLine(table[i]![0], s, rtpengine));
    for (const line of equalLoadLines(table[i]![0], table[i]![1], table[table.length - 1]![1])) log(line);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
