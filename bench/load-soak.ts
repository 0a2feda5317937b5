/**
 * Soak mode of the whole-product load benchmark (`npm run bench:load -- --soak-minutes N`): a
 * bounded run at one steady call rate, then a check that the product returns to its idle figures
 * once the calls have ended (no leaked calls, dialogs, transactions, media sessions, sockets,
 * file descriptors or timers; memory back within a stated tolerance).
 *
 *   1. start the product (bench/load-setup.ts) and take the idle figures;
 *   2. warm-up: --warmup-seconds of new calls at --soak-rate, wait for them to end and the product
 *      to go idle, full GC, then the post-warm-up baseline (lazy initialisation excluded: JIT,
 *      pools, V8 new-space growth, the first connections);
 *   3. steady: --soak-minutes of new calls at --soak-rate (calls of --call-seconds after answer),
 *      a sample row every --sample-seconds;
 *   4. after the last call, wait up to --idle-wait-seconds for every figure to come back (UDP
 *      transactions linger 32 s after a BYE, RFC 3261 17.2.2 Timer J = 64 x T1), full GC, the end
 *      figures, and a PASS/FAIL verdict per figure against the post-warm-up baseline.
 *
 * Exact figures (end must equal the baseline): active calls, call-layer recordings, B2BUA engine
 * dialogs and transactions, media sessions, media port pairs and forks, the reference recording
 * server's recordings, dialogs and transactions, open file descriptors and sockets among them
 * (/proc/<pid>/fd: every thread, so the media worker's RTP sockets count), ref'd Timeout handles
 * and every active libuv resource of the main thread (prom-client nodejs_active_resources, from
 * process.getActiveResourcesInfo(); the media worker's own handles are not in it, its sockets are
 * in the fd count). Plus: every SIPp call ok, 0 recording failures, 0 rejected INVITEs, one WAV
 * per call ok.
 *
 * Memory (ratio end / post-warm-up baseline): V8 heap used of the main thread after a forced full
 * GC, limit --heap-tolerance (default x1.10: what a full GC leaves is the retained set, so growth
 * beyond JIT code and bounded caches is a leak; 6,000 calls leaking 0.5 kB each already exceed
 * 10 % of a ~28 MB heap), and RSS, limit --rss-tolerance (default x1.20: glibc keeps freed memory
 * in its arenas, one per thread, and V8 does not hand back grown spaces at once, so RSS only
 * approaches the baseline; the warm-up runs at the same rate so the high-water mark is mostly
 * reached before the baseline). The forced GC needs node --expose-gc: the product is started with
 * it and a preload (bench/gc-on-signal.mjs) that collects on SIGUSR2; benchmark only, `--gc no`
 * turns it off (the memory figures are then noisier).
 *
 * Bounded: a hard limit (every phase's length plus 3 minutes) kills SIPp and the product and exits
 * 2; Ctrl-C does the same (bench/load-setup.ts). Exit 0 on PASS, 1 on FAIL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSippStats, type SippProcess, type SippResult } from '../test/support/sipp.js';
import { collectFinishedRecordings, cpuSeconds, mainThreadCpuSeconds, metric, openFds, rssMb, scrape, type Scrape } from './load-probes.js';
import { forceGc, killChildren, P, prepare, startCallee, startCarrier, startProduct, stopProduct, type BenchFiles, type Product, type ProductOptions } from './load-setup.js';
import { sleep } from '../test/support/wait.js';

export const SOAK_DEFAULTS = Object.freeze({
  rate: 10,
  callSeconds: 20,
  warmupSeconds: 30,
  sampleSeconds: 30,
  idleWaitSeconds: 90,
  rssTolerance: 1.2,
  heapTolerance: 1.1,
});

export interface SoakOptions {
  /** Minutes of new calls in the steady phase. */
  minutes: number;
  /** New calls per second (SIPp -r). Default 10. */
  rate: number;
  /** Talk time after answer (SIPp -d), seconds. Default 20. */
  callSeconds: number;
  /** Seconds of new calls in the warm-up (same rate). Default 30. */
  warmupSeconds: number;
  /** Seconds between sample rows in the steady phase. Default 30. */
  sampleSeconds: number;
  /** Longest wait for the product to go idle after the calls end, seconds. Default 90 (> Timer J 32 s). */
  idleWaitSeconds: number;
  /** Largest accepted RSS end / baseline ratio. Default 1.2. */
  rssTolerance: number;
  /** Largest accepted V8 heap used end / baseline ratio (after a full GC). Default 1.1. */
  heapTolerance: number;
  /** Start the product with --expose-gc and force a full GC before the baselines and the end. Default true. */
  gc: boolean;
  /** Product log level and file (ProductOptions). Default 'warn', no file. */
  productLogLevel?: string;
  productLogFile?: string;
  /** More node options for the product (--product-node-args). */
  productNodeArgs?: string[];
}

/** One reading of the product: /proc figures and the scrape. */
interface Figures {
  at: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  sockets: number;
  timeouts: number;
  resources: number;
  resourcesByType: Record<string, number>;
  activeCalls: number;
  recordings: number;
  dialogs: number;
  transactions: number;
  mediaSessions: number;
  mediaPorts: number;
  forks: number;
  srsRecordings: number;
  srsDialogs: number;
  srsTransactions: number;
  recFailed: number;
  rejected: number;
  lagP99Ms: number;
  cpuS: number;
  mainCpuS: number;
}

/** The figures that must be back exactly at their baseline when the product is idle. */
const EXACT: ReadonlyArray<[keyof Figures, string]> = [
  ['activeCalls', 'active calls'],
  ['recordings', 'call-layer recordings'],
  ['dialogs', 'SIP dialogs (B2BUA engine)'],
  ['transactions', 'SIP transactions (B2BUA engine)'],
  ['mediaSessions', 'media sessions'],
  ['mediaPorts', 'media port pairs in use'],
  ['forks', 'media recording forks'],
  ['srsRecordings', 'recording server: recordings'],
  ['srsDialogs', 'recording server: SIP dialogs'],
  ['srsTransactions', 'recording server: SIP transactions'],
  ['fds', 'open file descriptors'],
  ['sockets', 'open sockets'],
  ['timeouts', 'Timeout handles (ref\'d, main thread)'],
  ['resources', 'active resources (main thread, all types)'],
];

/** The protocol-state subset: what "the calls have ended" means. */
const STATE: ReadonlyArray<keyof Figures> = ['activeCalls', 'recordings', 'dialogs', 'transactions', 'mediaSessions', 'mediaPorts', 'forks', 'srsRecordings', 'srsDialogs', 'srsTransactions'];

async function read(product: Product): Promise<Figures | undefined> {
  // /proc first, then the scrape (whose own connection would count as one more socket)
  const { fds, sockets } = openFds(product.pid);
  const rss = rssMb(product.pid);
  const cpuS = cpuSeconds(product.pid);
  const mainCpuS = mainThreadCpuSeconds(product.pid);
  const s: Scrape | undefined = await scrape(P.admin);
  if (!s) return undefined;
  const m = (name: string, labels?: Record<string, string>): number => metric(s, `siprec_b2bua_${name}`, labels);
  const resourcesByType: Record<string, number> = {};
  for (const [key, value] of s) {
    const t = /^siprec_b2bua_nodejs_active_resources\{type="([^"]+)"\}$/.exec(key);
    if (t) resourcesByType[t[1]!] = value;
  }
  return {
    at: Date.now(),
    rssMb: rss,
    heapMb: m('nodejs_heap_size_used_bytes') / 2 ** 20,
    fds,
    sockets,
    timeouts: resourcesByType.Timeout ?? 0,
    // the scrape's own connection is in every reading alike
    resources: m('nodejs_active_resources_total'),
    resourcesByType,
    activeCalls: m('active_calls'),
    recordings: m('recordings'),
    dialogs: m('sip_dialogs'),
    transactions: m('sip_transactions'),
    mediaSessions: m('media_sessions'),
    mediaPorts: m('media_ports_in_use'),
    forks: m('media_forks'),
    srsRecordings: m('srs_recordings'),
    srsDialogs: m('srs_sip_dialogs'),
    srsTransactions: m('srs_sip_transactions'),
    recFailed: m('recording_events_total', { event: 'failed' }),
    rejected: m('calls_rejected_total'),
    lagP99Ms: m('eventloop_delay_seconds', { quantile: '0.99' }) * 1000,
    cpuS,
    mainCpuS,
  };
}

async function mustRead(product: Product): Promise<Figures> {
  for (let i = 0; i < 3; i++) {
    const f = await read(product);
    if (f) return f;
    await sleep(1000);
  }
  throw new Error(`GET /v1/metrics failed 3 times (product ${product.child.exitCode === null ? 'running' : `exited ${product.child.exitCode}`})`);
}

/** Calls SIPp has counted so far, read from its -trace_stat file while it runs (written every second). */
function sippSoFar(uac: SippProcess): { created: number; ok: number; failed: number } {
  const i = uac.args.indexOf('-stf');
  const path = i >= 0 ? uac.args[i + 1] : undefined;
  if (!path) return { created: 0, ok: 0, failed: 0 };
  try {
    const st = parseSippStats(readFileSync(path, 'utf8'));
    return { created: st.created, ok: st.successful, failed: st.failed };
  } catch {
    return { created: 0, ok: 0, failed: 0 };
  }
}

const pad = (v: string | number, n: number): string => String(v).padStart(n);

const HEADER =
  '| t (s) | phase | active calls | SIPp created / ok / failed | rec. failed (since start) | dialogs B2BUA / SRS | transactions B2BUA / SRS | media sessions / forks | fds (sockets) | Timeouts / resources | RSS MB | heap MB | CPU % (main) | lag p99 ms |';

function row(t0: number, phase: string, f: Figures, prev: Figures | undefined, sipp: { created: number; ok: number; failed: number } | undefined, start: Figures): string {
  const dt = prev ? (f.at - prev.at) / 1000 : 0;
  const cpu = prev && dt > 0 ? `${((100 * (f.cpuS - prev.cpuS)) / dt).toFixed(0)} (${((100 * (f.mainCpuS - prev.mainCpuS)) / dt).toFixed(0)})` : '-';
  return (
    `| ${pad(((f.at - t0) / 1000).toFixed(0), 5)} | ${phase} | ${f.activeCalls} | ${sipp ? `${sipp.created} / ${sipp.ok} / ${sipp.failed}` : '-'} | ${f.recFailed - start.recFailed} | ` +
    `${f.dialogs} / ${f.srsDialogs} | ${f.transactions} / ${f.srsTransactions} | ${f.mediaSessions} / ${f.forks} | ${f.fds} (${f.sockets}) | ${f.timeouts} / ${f.resources} | ` +
    `${f.rssMb.toFixed(1)} | ${f.heapMb.toFixed(1)} | ${cpu} | ${f.lagP99Ms.toFixed(1)} |`
  );
}

/**
 * Polls each second until every state figure equals `target` and fds, sockets and Timeout handles
 * have equalled their `target` (or, without one, stayed unchanged) for 3 polls; gives up after `boundS`.
 */
async function waitIdle(product: Product, target: Figures, boundS: number, matchHandles: boolean): Promise<{ idle: boolean; waitedS: number; last: Figures }> {
  const t0 = Date.now();
  let last = await mustRead(product);
  let stable = 0;
  let prev: Figures | undefined;
  while (Date.now() - t0 < boundS * 1000) {
    const stateBack = STATE.every((k) => last[k] === target[k]);
    const handlesBack = matchHandles
      ? last.fds === target.fds && last.sockets === target.sockets && last.timeouts === target.timeouts && last.resources === target.resources
      : prev !== undefined && last.fds === prev.fds && last.sockets === prev.sockets && last.timeouts === prev.timeouts;
    stable = stateBack && handlesBack ? stable + 1 : 0;
    if (stable >= 3) return { idle: true, waitedS: (Date.now() - t0) / 1000, last };
    await sleep(1000);
    prev = last;
    last = await mustRead(product);
  }
  return { idle: false, waitedS: (Date.now() - t0) / 1000, last };
}

interface Verdict {
  pass: boolean;
  line: string;
}

function exact(label: string, base: number, end: number): Verdict {
  const pass = end === base;
  return { pass, line: `${pass ? 'PASS' : 'FAIL'}  ${label.padEnd(44)} ${base} -> ${end}${pass ? '' : ` (${end > base ? '+' : ''}${end - base})`}` };
}

function ratio(label: string, unit: string, base: number, end: number, limit: number, why: string): Verdict {
  const r = base > 0 ? end / base : 1;
  const pass = r <= limit;
  return {
    pass,
    line: `${pass ? 'PASS' : 'FAIL'}  ${label.padEnd(44)} ${base.toFixed(1)} -> ${end.toFixed(1)} ${unit} (x${r.toFixed(3)}, limit x${limit.toFixed(2)}: ${why})`,
  };
}

function count(label: string, pass: boolean, text: string): Verdict {
  return { pass, line: `${pass ? 'PASS' : 'FAIL'}  ${label.padEnd(44)} ${text}` };
}

/** Runs the soak; resolves true on PASS. */
export async function runSoak(o: SoakOptions): Promise<boolean> {
  const steadyCalls = Math.max(1, Math.round(o.rate * o.minutes * 60));
  const warmupCalls = Math.max(1, Math.round(o.rate * o.warmupSeconds));
  const plannedS = 30 + (o.warmupSeconds + o.callSeconds + o.idleWaitSeconds) + (o.minutes * 60 + o.callSeconds + o.idleWaitSeconds) + 30;
  const hardLimitS = plannedS + 180;
  const hard = setTimeout(() => {
    console.error(`\nhard time limit (${(hardLimitS / 60).toFixed(1)} min) reached: killing SIPp and the product`);
    killChildren();
    process.exit(2);
  }, hardLimitS * 1000);
  hard.unref();

  const dir = mkdtempSync(join(tmpdir(), 'load-soak-'));
  const recordingsDir = join(dir, 'recordings');
  const gcOpts: ProductOptions = { exposeGc: o.gc, logLevel: o.productLogLevel, logFile: o.productLogFile, nodeArgs: o.productNodeArgs };
  let product: Product | undefined;
  let uas: SippProcess | undefined;
  const wavs = { count: 0, seconds: 0 };
  const collect = (): void => {
    const c = collectFinishedRecordings(recordingsDir);
    wavs.count += c.count;
    wavs.seconds += c.seconds;
  };
  try {
    const files: BenchFiles = prepare(dir);
    console.log(
      `soak: ${o.minutes} min of new calls at ${o.rate} calls/s (${steadyCalls} calls of ${o.callSeconds} s after answer, about ${Math.round(o.rate * o.callSeconds)} concurrent), ` +
        `after a ${o.warmupSeconds} s warm-up (${warmupCalls} calls); sample every ${o.sampleSeconds} s; idle wait up to ${o.idleWaitSeconds} s; ` +
        `forced GC ${o.gc ? 'on (--expose-gc)' : 'off'}; at most about ${(plannedS / 60).toFixed(1)} min ` +
        `(each idle wait usually ends after ~35 s), hard limit ${(hardLimitS / 60).toFixed(1)} min`,
    );
    product = await startProduct(dir, files.provisioning, gcOpts);
    uas = await startCallee(files, hardLimitS);
    await sleep(2000);
    await forceGc(product, gcOpts);
    const idle0 = await mustRead(product);
    const tStart = idle0.at;
    console.log('');
    console.log(HEADER);
    console.log(`|${'---|'.repeat(14)}`);
    console.log(row(tStart, 'idle (start, after GC)', idle0, undefined, undefined, idle0));

    // ---------------------------------------------------------------- warm-up
    const warm = startCarrier(files, { rate: o.rate, calls: warmupCalls, callSeconds: o.callSeconds, timeoutSec: o.warmupSeconds + o.callSeconds + 60 });
    const warmResult = await warm.done;
    const warmDone = await mustRead(product);
    console.log(row(tStart, 'warm-up calls ended', warmDone, idle0, { created: warmResult.stats.created, ok: warmResult.stats.successful, failed: warmResult.stats.failed }, idle0));
    const warmIdle = await waitIdle(product, idle0, o.idleWaitSeconds, false);
    if (!warmIdle.idle) console.log(`(warm-up: not idle after ${o.idleWaitSeconds} s; baseline taken anyway)`);
    collect();
    await forceGc(product, gcOpts);
    const base = await mustRead(product);
    console.log(row(tStart, 'baseline (post-warm-up, after GC)', base, warmDone, undefined, idle0));

    // ---------------------------------------------------------------- steady
    const tSteady = Date.now();
    const steadyEndsAt = tSteady + o.minutes * 60_000;
    const uac = startCarrier(files, { rate: o.rate, calls: steadyCalls, callSeconds: o.callSeconds, timeoutSec: o.minutes * 60 + o.callSeconds + 60 });
    const running = { done: false };
    void uac.done.then(() => (running.done = true));
    let prev = base;
    let next = tSteady + o.sampleSeconds * 1000;
    let peakCalls = 0;
    const steadyRows: Figures[] = [];
    while (!running.done) {
      await sleep(Math.max(50, Math.min(1000, next - Date.now())));
      if (Date.now() < next || running.done) continue;
      next += o.sampleSeconds * 1000;
      const f = await read(product);
      if (!f) {
        console.log(`| ${pad(((Date.now() - tStart) / 1000).toFixed(0), 5)} | (scrape failed) |`);
        continue;
      }
      collect();
      peakCalls = Math.max(peakCalls, f.activeCalls);
      steadyRows.push(f);
      console.log(row(tStart, Date.now() < steadyEndsAt ? 'steady' : 'last calls ending', f, prev, sippSoFar(uac), idle0));
      prev = f;
    }
    const steadyResult: SippResult = await uac.done;
    const sipp = steadyResult.stats;
    const ended = await mustRead(product);
    console.log(row(tStart, 'SIPp done', ended, prev, { created: sipp.created, ok: sipp.successful, failed: sipp.failed }, idle0));

    // ---------------------------------------------------------------- back to idle?
    const endIdle = await waitIdle(product, base, o.idleWaitSeconds, true);
    collect();
    await forceGc(product, gcOpts);
    const end = await mustRead(product);
    collect();
    console.log(row(tStart, `end (${endIdle.idle ? `idle after ${endIdle.waitedS.toFixed(0)} s` : `NOT idle after ${o.idleWaitSeconds} s`}, after GC)`, end, ended, undefined, idle0));
    const alive = product.child.exitCode === null && product.child.signalCode === null;

    // ---------------------------------------------------------------- verdict
    const okCalls = warmResult.stats.successful + sipp.successful;
    const recFailed = end.recFailed - idle0.recFailed;
    const steadyRss = steadyRows.map((f) => f.rssMb);
    const third = Math.max(1, Math.floor(steadyRss.length / 3));
    const avg = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    const verdicts: Verdict[] = [
      count('product still running', alive, alive ? 'yes' : `exited (code ${product.child.exitCode}, signal ${product.child.signalCode})`),
      count(
        'calls: every SIPp call ok',
        warmResult.stats.failed === 0 && warmResult.stats.successful === warmupCalls && sipp.failed === 0 && sipp.successful === steadyCalls,
        `warm-up ${warmResult.stats.successful}/${warmupCalls} ok, ${warmResult.stats.failed} failed; steady ${sipp.successful}/${steadyCalls} ok, ${sipp.failed} failed`,
      ),
      count('recording failures', recFailed === 0, `${recFailed} (warm-up ${base.recFailed - idle0.recFailed}, steady ${end.recFailed - base.recFailed})`),
      count('INVITEs rejected', end.rejected - idle0.rejected === 0, String(end.rejected - idle0.rejected)),
      count(
        'one WAV per recorded call',
        wavs.count === okCalls - recFailed,
        `${wavs.count} WAVs (${(wavs.seconds / 3600).toFixed(2)} h of audio) for ${okCalls} calls ok${recFailed ? ` less ${recFailed} recording failures` : ''}`,
      ),
      ...EXACT.map(([k, label]) => exact(label, base[k] as number, end[k] as number)),
      ratio('V8 heap used (main thread, after full GC)', 'MB', base.heapMb, end.heapMb, o.heapTolerance, 'retained set: JIT code and bounded caches only'),
      ratio('RSS (all threads)', 'MB', base.rssMb, end.rssMb, o.rssTolerance, 'allocator arenas and V8 spaces are not returned at once'),
    ];
    console.log('');
    console.log(`idle at start: RSS ${idle0.rssMb.toFixed(1)} MB, heap ${idle0.heapMb.toFixed(1)} MB, ${idle0.fds} fds (${idle0.sockets} sockets), ${idle0.resources} resources`);
    console.log(`peak concurrent calls (at samples) ${peakCalls}; steady RSS first third ${avg(steadyRss.slice(0, third)).toFixed(1)} MB, last third ${avg(steadyRss.slice(-third)).toFixed(1)} MB (information: a leak shows as a steady rise)`);
    const types = [...new Set([...Object.keys(base.resourcesByType), ...Object.keys(end.resourcesByType)])].sort();
    console.log(`active resources by type, baseline -> end: ${types.map((t) => `${t} ${base.resourcesByType[t] ?? 0} -> ${end.resourcesByType[t] ?? 0}`).join(', ')}`);
    console.log('\nverdict (end vs post-warm-up baseline; exact unless a limit is given):');
    for (const v of verdicts) console.log(v.line);
    const failed = verdicts.filter((v) => !v.pass);
    if (failed.length > 0) {
      if (sipp.failed > 0 || sipp.successful !== steadyCalls) console.log(`\n${steadyResult.describe()}`);
      const problems = product.problems();
      if (problems.length) console.log(`\nproduct warnings/errors (last 20 of ${problems.length}):\n${problems.slice(-20).join('\n')}`);
    }
    console.log(`\nSOAK ${failed.length === 0 ? 'PASS' : 'FAIL'}: ${verdicts.length - failed.length}/${verdicts.length} figures pass (${((Date.now() - tStart) / 60_000).toFixed(1)} min)`);
    return failed.length === 0;
  } finally {
    clearTimeout(hard);
    if (uas) await uas.stop(2000).catch(() => undefined);
    if (product) await stopProduct(product);
    rmSync(dir, { recursive: true, force: true });
  }
}
