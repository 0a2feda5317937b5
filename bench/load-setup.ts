/**
 * Set-up shared by the whole-product load benchmark's modes (bench/load-bench.ts ramp,
 * bench/load-soak.ts soak) and the heap-growth check (bench/load-heap.ts): the fixed ports, the
 * temporary directory with tone files, scenario and provisioning copies, starting/stopping the
 * product (test/support/product-process.ts spawnProduct: the build, `node dist/app/main.js` with
 * CONFIG_FILE=config/embedded.yaml and environment overrides only), and the two SIPp roles.
 *
 * Ports: SIP/admin/engine-link/recording-server/SIPp in 9120-9191 (outside the engine tests'
 * 16xxx range, 5xxx, 8080 and 9022, so neither a running `npm start` nor the test suite clashes);
 * media 20000-27999, recording server RTP 28000-31999, SIPp RTP 10000 (carrier) and 12000 (callee).
 *
 * Every child process started here is tracked and killed (SIGKILL, by pid) when the benchmark
 * process exits or is interrupted, and the temporary directories are removed, so nothing outlives
 * a run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createWriteStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProduct, spawnProduct } from '../test/support/product-process.js';
import { startSipp, type SippProcess } from '../test/support/sipp.js';
import { scrape } from './load-probes.js';
import { sleep } from '../test/support/wait.js';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const PACK = join(ROOT, 'sipp-scenarios', 'pack');

/** Fixed ports of the load benchmark (one run at a time). */
export const P = {
  sip: 9160,
  drachtio: 9122,
  admin: 9180,
  mediaMin: 20000,
  mediaMax: 27999,
  srs: 9190,
  srsRtpMin: 28000,
  srsRtpMax: 31999,
  carrier: 9150,
  carrierControl: 9151,
  carrierMedia: 10000,
  callee: 9170,
  calleeControl: 9171,
  calleeMedia: 12000,
} as const;

/** The user the carrier calls (alice in config/demo-provisioning.yaml). */
export const USER_NUMBER = '+15550002001';

export interface BenchFiles {
  /** SIPp carrier scenario (pack/pstn-caller.xml reading the tone by absolute path). */
  caller: string;
  /** SIPp callee scenario (pack/user-callee.xml). */
  callee: string;
  /** Copy of config/demo-provisioning.yaml with the ports above. */
  provisioning: string;
}

/** Temp dir with tone files, scenario copies reading them by absolute path, and a provisioning copy; `dir` is removed on exit. */
export function prepare(dir: string): BenchFiles {
  removeOnExit(dir);
  const audio = spawnSync('bash', [join(ROOT, 'scripts', 'make-test-audio.sh'), join(dir, 'audio')], { encoding: 'utf8', timeout: 20_000 });
  if (audio.status !== 0) throw new Error(`make-test-audio.sh failed: ${audio.stderr}`);
  const copy = (name: string): string => {
    const xml = readFileSync(join(PACK, `${name}.xml`), 'utf8').replaceAll('"audio/', `"${join(dir, 'audio')}/`);
    const out = join(dir, `${name}.xml`);
    writeFileSync(out, xml);
    return out;
  };
  const provisioning = join(dir, 'provisioning.yaml');
  writeFileSync(
    provisioning,
    readFileSync(join(ROOT, 'config', 'demo-provisioning.yaml'), 'utf8')
      .replaceAll('127.0.0.1:5070', `127.0.0.1:${P.callee}`)
      .replaceAll('127.0.0.1:5080', `127.0.0.1:${P.carrier}`)
      .replaceAll('127.0.0.1:5090', `127.0.0.1:${P.srs}`),
  );
  return { caller: copy('pstn-caller'), callee: copy('user-callee'), provisioning };
}

// ------------------------------------------------------------------ child process tracking
const children = new Set<number>();
const dirs = new Set<string>();
let hooked = false;

const exitHooks: (() => void)[] = [];

/**
 * Runs `fn` (synchronous: the process is exiting) when the benchmark process exits, however it
 * exits, after the tracked children were killed and before the directories are removed, e.g.
 * deleting network namespaces or stopping a database the benchmark started.
 */
export function atExit(fn: () => void): void {
  exitHooks.push(fn);
  hook();
}

/** Kills every tracked child still running (SIGKILL by pid); safe to call more than once. */
export function killChildren(): void {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

/** On exit (also after a signal or the hard limit): kill the children, remove the temporary directories. */
function onExit(): void {
  killChildren();
  for (const fn of exitHooks.splice(0)) {
    try {
      fn();
    } catch (err) {
      console.error(err);
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', onExit);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping SIPp and the product`);
      process.exit(130);
    });
  }
}

/** Removes `dir` when the benchmark process exits, however it exits. */
export function removeOnExit(dir: string): void {
  dirs.add(dir);
  hook();
}

/** Kills `pid` (SIGKILL) when the benchmark process exits, unless untracked first. */
export function track(pid: number | undefined): void {
  if (pid === undefined) return;
  children.add(pid);
  hook();
}

/** Tracks a SIPp run: its pid, and its trace directory (SippProcess removes it only when it sees SIPp exit). */
function trackSipp(sipp: SippProcess): void {
  track(sipp.pid);
  const stat = sipp.args[sipp.args.indexOf('-stf') + 1];
  if (stat) dirs.add(dirname(stat));
  void sipp.done.then(() => untrack(sipp.pid));
}

export function untrack(pid: number | undefined): void {
  if (pid !== undefined) children.delete(pid);
}

// ------------------------------------------------------------------ the product
export interface Product {
  child: ChildProcess;
  pid: number;
  /** The last 50 kB of the product's stdout + stderr. */
  log: () => string;
  /** Warnings and errors (pino level >= 40) in the kept log. */
  problems: () => string[];
}

export interface ProductOptions {
  /**
   * Start node with --expose-gc and preload bench/gc-on-signal.mjs, so that SIGUSR2 runs a full
   * garbage collection in the product (forceGc below). Benchmark only. Default false.
   */
  exposeGc?: boolean;
  /** The product's LOG_LEVEL. Default 'warn' (info logs several lines per call). */
  logLevel?: string | undefined;
  /** Also write the product's whole stdout + stderr to this file. Default: none (only the last 50 kB are kept). */
  logFile?: string | undefined;
  /**
   * Start node with --heapsnapshot-signal=SIGUSR1 and --diagnostic-dir=<this directory>: SIGUSR1
   * makes the product write a V8 heap snapshot there (bench/load-heap.ts). Benchmark only. Default: none.
   */
  heapSnapshotDir?: string | undefined;
  /** More node options for the product (`--product-node-args`, e.g. --trace-gc), before the entry point. */
  nodeArgs?: string[] | undefined;
  /** More environment overrides (SRS_ENABLED=false with an external recording server). */
  env?: Record<string, string> | undefined;
}

let built = false;

export async function startProduct(dir: string, provisioning: string, options: ProductOptions = {}): Promise<Product> {
  // the product runs from its build, as npm start runs it: built once per benchmark run
  if (!built) buildProduct();
  built = true;
  const gcArgs = options.exposeGc ? ['--expose-gc', '--import', join(ROOT, 'bench', 'gc-on-signal.mjs')] : [];
  const snapshotArgs = options.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${options.heapSnapshotDir}`] : [];
  const child = spawnProduct({ dir, ports: P, provisioningFile: provisioning, logLevel: options.logLevel ?? 'warn', nodeArgs: [...gcArgs, ...snapshotArgs, ...(options.nodeArgs ?? [])], ...(options.env ? { env: options.env } : {}) });
  track(child.pid);
  child.once('exit', () => untrack(child.pid));
  let log = '';
  const file = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  if (file) child.once('exit', () => file.end());
  const onData = (d: Buffer): void => {
    log = (log + d.toString()).slice(-50_000);
    file?.write(d);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const product: Product = {
    child,
    pid: child.pid!,
    log: () => log,
    problems: () =>
      log
        .split('\n')
        .filter((l) => /"level":(40|50|60)/.test(l)),
  };
  // LOG_LEVEL=warn hides the "ready" line, so readiness is the admin API answering a scrape
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`product exited before ready\n${log.slice(-5000)}`);
    if (await scrape(P.admin)) return product;
    await sleep(200);
  }
  throw new Error(`product not ready within 20 s\n${log.slice(-5000)}`);
}

/**
 * The reference recording server as a process of its own, the shape production has (an external
 * recording server; the product then runs with SRS_ENABLED=false): `node --import tsx
 * src/srs/main.ts` with its own embedded engine on the recording server's SIP port and RTP range
 * (P.srs, P.srsRtpMin-Max), WAVs into `recordingsDir`, LOG_LEVEL `logLevel`. Ready once its SIP
 * port answers an OPTIONS (any status).
 */
export async function startExternalSrs(recordingsDir: string, logLevel = 'warn'): Promise<Product> {
  const argv = ['--import', 'tsx', 'src/srs/main.ts', '--engine', `sip:127.0.0.1:${P.srs};transport=udp,tcp`, '--drachtio', '127.0.0.1:0',
    '--rtp-ports', `${P.srsRtpMin}-${P.srsRtpMax}`, '--recordings-dir', recordingsDir];
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONFIG_FILE: 'config/embedded.yaml', LOG_LEVEL: logLevel } });
  track(child.pid);
  child.once('exit', () => untrack(child.pid));
  let log = '';
  const onData = (d: Buffer): void => {
    log = (log + d.toString()).slice(-50_000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const srs: Product = { child, pid: child.pid!, log: () => log, problems: () => log.split('\n').filter((l) => /"level":(40|50|60)/.test(l)) };
  const probe = createSocket('udp4');
  let answered = false;
  probe.on('message', () => (answered = true));
  try {
    const end = Date.now() + 20_000;
    for (let n = 1; Date.now() < end; n++) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`recording server exited before ready\n${log.slice(-5000)}`);
      const options =
        `OPTIONS sip:srs@127.0.0.1:${P.srs} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-bench-${n}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:bench@127.0.0.1>;tag=bench\r\nTo: <sip:srs@127.0.0.1>\r\nCall-ID: bench-srs-ready-${n}\r\nCSeq: ${n} OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      probe.send(options, P.srs, '127.0.0.1');
      await sleep(300);
      if (answered) return srs;
    }
    throw new Error(`recording server not ready within 20 s\n${log.slice(-5000)}`);
  } finally {
    probe.close();
  }
}

/** SIGTERM (the product drains, then closes), SIGKILL after 30 s (a product started with --cpu-prof writes its threads' profiles at exit). */
export async function stopProduct(p: Product): Promise<void> {
  const c = p.child;
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

/**
 * Two full garbage collections in the product (SIGUSR2 to a product started with exposeGc), then
 * waits `settleMs` so the collector's work and any freed pages settle. No-op without exposeGc.
 */
export async function forceGc(p: Product, options: ProductOptions, settleMs = 1000): Promise<void> {
  if (!options.exposeGc) return;
  for (let i = 0; i < 2; i++) {
    try {
      process.kill(p.pid, 'SIGUSR2');
    } catch {
      return;
    }
    await sleep(300);
  }
  await sleep(settleMs);
}

// ------------------------------------------------------------------ SIPp roles
/** Alice's phone (pack/user-callee.xml): answers every call until stopped. */
export async function startCallee(files: BenchFiles, timeoutSec: number): Promise<SippProcess> {
  const uas = startSipp({
    scenario: files.callee,
    port: P.callee,
    controlPort: P.calleeControl,
    mediaPort: P.calleeMedia,
    calls: 10_000_000, // never reached: stopped at the end
    timeoutSec,
    timeoutError: false,
    maxSocket: 4096,
    traceMessages: false,
  });
  trackSipp(uas);
  await uas.ready();
  return uas;
}

export interface CarrierRun {
  /** New calls per second (-r). */
  rate: number;
  /** Calls to place (-m). */
  calls: number;
  /** Talk time after answer (-d), seconds. */
  callSeconds: number;
  /** SIPp's own -timeout; the run is killed 10 s later. */
  timeoutSec: number;
}

/** The carrier (pack/pstn-caller.xml) placing `calls` calls at `rate` to alice. */
export function startCarrier(files: BenchFiles, run: CarrierRun): SippProcess {
  const uac = startSipp({
    scenario: files.caller,
    remote: `127.0.0.1:${P.sip}`,
    service: USER_NUMBER,
    port: P.carrier,
    controlPort: P.carrierControl,
    mediaPort: P.carrierMedia,
    calls: run.calls,
    rate: run.rate,
    limit: Math.ceil(run.rate * (run.callSeconds + 15)) + 10,
    pauseMs: run.callSeconds * 1000,
    timeoutSec: run.timeoutSec,
    recvTimeoutMs: 20_000,
    maxSocket: 4096,
    traceMessages: false,
  });
  trackSipp(uac);
  return uac;
}
