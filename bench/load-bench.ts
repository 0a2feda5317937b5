/**
 * Whole-product load benchmark (`npm run bench:load`): SIPp places recorded inbound PSTN calls with
 * RTP through everything `npm start` runs (embedded engine + call app + media plane + in-process
 * reference recording server), one process: the build, node dist/app/main.js, with
 * CONFIG_FILE=config/embedded.yaml and environment overrides only (as the run-command test does).
 *
 *   SIPp UAC (pack/pstn-caller.xml, the carrier, rtp_stream 600 Hz) -> product -> SIPp UAS
 *   (pack/user-callee.xml, alice, rtp_stream 1000 Hz); the product forks both streams to its
 *   recording server, which writes a 2-channel WAV per call.
 *
 * The call rate ramps in steps (-r rate, -m rate x step seconds, -l bound, -d call length). Per step
 * it prints calls attempted/ok/failed, achieved CPS, peak concurrent calls (active_calls gauge),
 * product CPU % (/proc/<pid>/stat, all threads; 100 % = one core; in brackets the main thread,
 * which runs the engine, the call app, the admin API and the reference recording server, while
 * the media plane relays in its worker threads, and the share of the step it waited on the run
 * queue, /proc/<pid>/task/<pid>/schedstat), recorded calls per core (WAV audio seconds per product
 * CPU-second), SIPp's CPU %, peak RSS and RSS per concurrent call (split, at the peak, into the
 * main thread's V8 heap with its headroom, the media workers' V8 heaps, the main thread's external
 * memory such as Buffers, the recording server's media worker's V8 heap and its ArrayBuffers, and
 * the rest: malloc, code, thread stacks, pages V8 keeps for reuse), the worst event-loop delay p99 over the step's scrapes (siprec_b2bua_eventloop_delay_seconds:
 * the delay beyond the 10 ms sampling timer, reset at each scrape, so each value covers about one
 * poll period; prom-client's lag p99, which the anchor's 36.6 ms was, reads 10 ms more), RTP counters from GET /v1/metrics and
 * the WAV files written. A step is clean with 0 failed calls, every call ok, no recording failure,
 * no leg without audio, no recording with an empty channel or lost audio, one WAV per call, an estimated RTP loss < 0.01 % and calls admitted at >= 90 % of the offered
 * rate (below it the product's set-up falls behind: calls wait, last longer and pile up, so the
 * concurrent calls overstate what it carries). The ramp stops at the first unclean step.
 *
 * RTP loss estimate from the product's counters (it cannot see packets the kernel dropped before
 * it read them): relay loss = 1 - (out - generated) / (in - withheld - dropped), judged against
 * 0.01 %. "Not forked" = 1 - forked / (in - dropped): received audio that never reached the
 * recording server, which is mostly the gap between the answer and the recording server's answer
 * (the fork is prepared but not active yet, engine-session.ts); judged against --fork-gap-limit.
 *
 * Flags: --rates 2,5,10,... (calls/s), --call-seconds N (8; the carrier's talk time after answer),
 *        --step-seconds N (20; how long new calls are placed), --max-minutes N (10; hard bound),
 *        --fork-gap-limit PCT (1; a step is unclean when this share of received audio was not forked).
 * Soak mode (bench/load-soak.ts) instead of the ramp when --soak-minutes is given:
 *        --soak-minutes N, --soak-rate R (10), --call-seconds N (20 in soak mode), --warmup-seconds N (30),
 *        --sample-seconds N (30), --idle-wait-seconds N (90), --rss-tolerance X (1.2),
 *        --heap-tolerance X (1.1), --gc yes|no (yes: product started with --expose-gc).
 * Multi-node mode (bench/load-multi-node.ts) instead when --nodes is given: --nodes 1,2,3 (node counts,
 *        in order), with --rates, --call-seconds, --step-seconds, --max-minutes, --fork-gap-limit and
 *        --product-log-level as in the ramp: PostgreSQL + Kamailio + N nodes in network namespaces (root).
 * Ramp only: --srs in-process|external (in-process): external runs the reference recording server as
 *        a process of its own (src/srs/main.ts with its own engine on the same ports) and the product
 *        with SRS_ENABLED=false, production's shape; its CPU is added to the product's, its RSS is not.
 * Both modes: --product-log FILE (the product's whole output, appended), --product-log-level L (warn),
 *        --product-node-args="..." (more node options for the product, split at spaces, e.g. =--trace-gc).
 * Besides the product, the two SIPp instances (with rtp_stream) run on the same 2 cores.
 * Ports (bench/load-setup.ts; outside 5xxx, 8080, 9022 and the engine tests' 16xxx): SIP 9160,
 * admin 9180, engine link 9122, media 20000-27999, recording server 9190 + RTP 28000-31999, SIPp
 * carrier 9150 (control 9151, RTP from 10000), SIPp callee 9170 (control 9171, RTP from 12000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SippProcess, SippResult } from '../test/support/sipp.js';
import { counters, cpuSeconds, diff, mainThreadCpuSeconds, mainThreadWaitSeconds, loopDelayP99, mediaLosses, metric, rssMb, scrape, wavFiles, type Counters, type Scrape } from './load-probes.js';
import { P, prepare, startCallee, startCarrier, startExternalSrs, startProduct, stopProduct, type BenchFiles, type Product } from './load-setup.js';
import { runMultiNode } from './load-multi-node.js';
import { runSoak, SOAK_DEFAULTS } from './load-soak.js';
import { sleep } from '../test/support/wait.js';

const LOSS_LIMIT = 0.0001; // 0.01 %
/** A step is unclean when the product admitted calls slower than this share of the offered rate. */
const ADMIT_LIMIT = 0.9;
/** The parts the RSS per call is split into (gauges of GET /v1/metrics; an absent one reads 0). */
const MEMORY_PARTS = [
  'siprec_b2bua_nodejs_heap_size_total_bytes',
  'siprec_b2bua_media_worker_heap_bytes',
  'siprec_b2bua_nodejs_external_memory_bytes',
  'siprec_b2bua_srs_worker_heap_bytes',
  'siprec_b2bua_srs_worker_array_buffer_bytes',
];

/**
 * What the whole product carried before the media and recording-server work of the efficiency
 * issue (docs/benchmarks.md "Whole product"): the highest clean step of the ramp on this machine class.
 */
const ANCHOR = { what: '30 calls/s of 8 s: 29.5 calls/s admitted, 295 concurrent recorded calls, 511 kB RSS per call', admittedCps: 29.5, concurrentCalls: 295, rssPerCallKb: 511 };

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '2,5,10,15,20,25,30,40' },
    'call-seconds': { type: 'string' },
    'step-seconds': { type: 'string', default: '20' },
    'max-minutes': { type: 'string', default: '10' },
    'fork-gap-limit': { type: 'string', default: '1' },
    // soak mode (bench/load-soak.ts): chosen by --soak-minutes
    'soak-minutes': { type: 'string' },
    'soak-rate': { type: 'string', default: String(SOAK_DEFAULTS.rate) },
    'warmup-seconds': { type: 'string', default: String(SOAK_DEFAULTS.warmupSeconds) },
    'sample-seconds': { type: 'string', default: String(SOAK_DEFAULTS.sampleSeconds) },
    'idle-wait-seconds': { type: 'string', default: String(SOAK_DEFAULTS.idleWaitSeconds) },
    'rss-tolerance': { type: 'string', default: String(SOAK_DEFAULTS.rssTolerance) },
    'heap-tolerance': { type: 'string', default: String(SOAK_DEFAULTS.heapTolerance) },
    gc: { type: 'string', default: 'yes' },
    // multi-node mode (bench/load-multi-node.ts): chosen by --nodes
    nodes: { type: 'string' },
    // both modes
    'product-log': { type: 'string' },
    'product-log-level': { type: 'string', default: 'warn' },
    'product-node-args': { type: 'string' },
    srs: { type: 'string', default: 'in-process' },
  },
  strict: true,
});

/** A positive finite number from a flag, or exit 2 with the flag named. */
function num(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${flag}: expected a positive number, got '${text}'`);
    process.exit(2);
  }
  return n;
}

if (values.gc !== 'yes' && values.gc !== 'no') {
  console.error(`--gc: expected yes or no, got '${values.gc}'`);
  process.exit(2);
}
const rates = values.rates.split(',').map(Number).filter((n) => n > 0);
const soakMode = values['soak-minutes'] !== undefined;
const callSeconds = num('call-seconds', values['call-seconds'], soakMode ? SOAK_DEFAULTS.callSeconds : 8);
const stepSeconds = num('step-seconds', values['step-seconds'], 20);
const deadline = Date.now() + num('max-minutes', values['max-minutes'], 10) * 60_000;
const productNodeArgs = values['product-node-args']?.split(' ').filter(Boolean);
if (values.srs !== 'in-process' && values.srs !== 'external') {
  console.error(`--srs: expected in-process or external, got '${values.srs}'`);
  process.exit(2);
}
const externalSrs = values.srs === 'external';
const forkGapLimit = num('fork-gap-limit', values['fork-gap-limit'], 1) / 100;

/** Calls admitted per second between the first scrape that saw an admitted call and the first that saw them all. */
function admissionRate(samples: { t: number; n: number }[]): number {
  const last = samples.at(-1)?.n ?? 0;
  const a = samples.find((x) => x.n > 0);
  const b = samples.find((x) => x.n === last);
  if (!a || !b || b.t <= a.t) return last;
  return (b.n - a.n) / ((b.t - a.t) / 1000);
}

interface Step {
  rate: number;
  attempted: number;
  ok: number;
  failed: number;
  cps: number;
  peakCalls: number;
  cpuPct: number;
  /** Recorded call-seconds (WAV audio) per product CPU-second: the concurrent recorded calls one busy core carries. */
  callsPerCore: number;
  mainCpuPct: number;
  /** Share of the step's wall time the main thread spent runnable but not running (run-queue wait). */
  mainWaitPct: number;
  sippCpuPct: number;
  peakRssMb: number;
  rssPerCallKb: number;
  /**
   * Of the RSS per call, at the peak: the main thread's V8 heap (live and headroom), the media
   * workers' heaps, the main thread's external memory (Buffers, ArrayBuffers), the recording
   * server's media workers' heaps and their ArrayBuffers (MEMORY_PARTS order).
   */
  memoryPartsPerCallKb: number[];
  lagP99Ms: number;
  rtp: Counters;
  relayLossPct: number;
  forkGapPct: number;
  wavs: number;
  wavSeconds: number;
  clean: boolean;
  why: string[];
  sipp?: SippResult;
}

/** The memory parts (MEMORY_PARTS order) in a scrape. */
const partsOf = (x: Scrape): number[] => MEMORY_PARTS.map((name) => metric(x, name));

/** The idle process every step's memory is counted above: its RSS and its memory parts, read once before the first step. */
interface Idle {
  rssMb: number;
  parts: number[];
}

async function runStep(rate: number, product: Product, srs: Product | undefined, files: BenchFiles, recordingsDir: string, idle: Idle, uasPid: number): Promise<Step> {
  const calls = Math.max(1, Math.round(rate * stepSeconds));
  const before = await scrape(P.admin);
  if (!before) throw new Error('metrics scrape failed before the step');
  const wav0 = wavFiles(recordingsDir);
  // with --srs external, the recording server process's CPU counts with the product's (recorded calls per core)
  const productCpu = (): number => cpuSeconds(product.pid) + (srs ? cpuSeconds(srs.pid) : 0);
  const cpu0 = productCpu();
  const main0 = mainThreadCpuSeconds(product.pid);
  const wait0 = mainThreadWaitSeconds(product.pid);
  const uasCpu0 = cpuSeconds(uasPid);
  let uacCpu = 0;
  let uasCpu = uasCpu0;
  const t0 = Date.now();
  const uac = startCarrier(files, { rate, calls, callSeconds, timeoutSec: stepSeconds + callSeconds + 60 });
  let finished = false;
  const done = uac.done.finally(() => (finished = true));
  let peakCalls = 0;
  let peakRss = 0;
  // the memory parts at the sample with the peak RSS, counted above the idle process as the RSS is
  let partsAtPeak = idle.parts;
  let lagP99 = 0;
  const calls0 = metric(before, 'siprec_b2bua_calls_total');
  const admitted: { t: number; n: number }[] = [];
  while (!finished) {
    const s = await scrape(P.admin);
    if (s) {
      admitted.push({ t: Date.now(), n: metric(s, 'siprec_b2bua_calls_total') - calls0 });
      peakCalls = Math.max(peakCalls, metric(s, 'siprec_b2bua_active_calls'));
      lagP99 = Math.max(lagP99, loopDelayP99(s));
    }
    const rss = rssMb(product.pid);
    if (rss > peakRss && s) partsAtPeak = partsOf(s);
    peakRss = Math.max(peakRss, rss);
    if (uac.pid !== undefined) uacCpu = Math.max(uacCpu, cpuSeconds(uac.pid));
    uasCpu = Math.max(uasCpu, cpuSeconds(uasPid));
    await sleep(1000);
  }
  const sipp = await done;
  const wallS = (Date.now() - t0) / 1000;
  const cpuPct = (100 * (productCpu() - cpu0)) / wallS;
  const mainCpuPct = (100 * (mainThreadCpuSeconds(product.pid) - main0)) / wallS;
  const mainWaitPct = (100 * (mainThreadWaitSeconds(product.pid) - wait0)) / wallS;
  // both sampled while running (a process that has exited has no /proc entry): a floor
  const sippCpuPct = (100 * (uacCpu + Math.max(uasCpu, cpuSeconds(uasPid)) - uasCpu0)) / wallS;
  // let the product finish the last BYEs and the recording server close its files
  let after: Scrape | undefined;
  for (let i = 0; i < 20; i++) {
    after = await scrape(P.admin);
    if (after && metric(after, 'siprec_b2bua_active_calls') === 0 && wavFiles(recordingsDir).count - wav0.count >= sipp.stats.successful) break;
    await sleep(500);
  }
  if (!after) throw new Error('metrics scrape failed after the step');
  const rtp = diff(counters(before), counters(after));
  const wav1 = wavFiles(recordingsDir);
  const { relayLoss, forkGap } = mediaLosses(rtp);
  const ok = sipp.stats.successful;
  const failed = sipp.stats.failed;
  const why: string[] = [];
  if (failed > 0) why.push(`${failed} failed calls`);
  if (ok !== calls) why.push(`${ok}/${calls} calls ok (sipp exit ${sipp.exitCode}${sipp.killed ? ', killed' : ''})`);
  if (rtp.recFailed > 0) why.push(`${rtp.recFailed} recording failures`);
  if (rtp.rejected > 0) why.push(`${rtp.rejected} INVITEs rejected`);
  if (rtp.silentLegs > 0) why.push(`${rtp.silentLegs} legs without audio`);
  if (rtp.emptyChannel > 0) why.push(`${rtp.emptyChannel} recordings with an empty channel`);
  if (rtp.lostAudio > 0) why.push(`${rtp.lostAudio} recordings that lost audio`);
  if (wav1.count - wav0.count !== ok) why.push(`${wav1.count - wav0.count} WAVs for ${ok} calls`);
  if (relayLoss >= LOSS_LIMIT) why.push(`relay loss ${(relayLoss * 100).toFixed(4)} %`);
  if (forkGap >= forkGapLimit) why.push(`${(forkGap * 100).toFixed(2)} % of received audio not forked to the recording server`);
  if (rtp.sendErrors > 0) why.push(`${rtp.sendErrors} RTP send errors`);
  const cps = admissionRate(admitted);
  if (cps < rate * ADMIT_LIMIT) why.push(`${cps.toFixed(1)} calls/s admitted of ${rate} offered (set-up fell behind)`);
  return {
    rate,
    attempted: sipp.stats.created,
    ok,
    failed,
    cps,
    peakCalls,
    cpuPct,
    callsPerCore: cpuPct > 0 ? (wav1.seconds - wav0.seconds) / ((cpuPct / 100) * wallS) : 0,
    mainCpuPct,
    mainWaitPct,
    sippCpuPct,
    peakRssMb: peakRss,
    rssPerCallKb: peakCalls > 0 ? ((peakRss - idle.rssMb) * 1024) / peakCalls : 0,
    memoryPartsPerCallKb: idle.parts.map((base, i) => (peakCalls > 0 ? (partsAtPeak[i]! - base) / 1024 / peakCalls : 0)),
    lagP99Ms: lagP99 * 1000,
    rtp,
    relayLossPct: relayLoss * 100,
    forkGapPct: forkGap * 100,
    wavs: wav1.count - wav0.count,
    wavSeconds: wav1.seconds - wav0.seconds,
    clean: why.length === 0,
    why,
    sipp,
  };
}

const HEADER =
  '| rate (calls/s) | attempted / ok / failed | CPS | peak concurrent calls | product CPU % (main thread, its run-queue wait) | recorded calls per core | SIPp CPU % | peak RSS | RSS per call (above idle: main heap, media worker heaps, main external memory, recording server worker heap, its ArrayBuffers, the rest) | event-loop delay p99 (worst) | RTP in / out / forked / dropped | relay loss % | not forked % | WAVs (audio s) | clean |';

function row(s: Step): string {
  const r = s.rtp;
  return (
    `| ${s.rate} | ${s.attempted} / ${s.ok} / ${s.failed} | ${s.cps.toFixed(1)} | ${s.peakCalls} | ${s.cpuPct.toFixed(0)} (${s.mainCpuPct.toFixed(0)}, ${s.mainWaitPct.toFixed(0)}) | ${s.callsPerCore.toFixed(0)} | ${s.sippCpuPct.toFixed(0)} | ${s.peakRssMb.toFixed(0)} MB | ` +
    `${s.rssPerCallKb.toFixed(0)} kB (${[...s.memoryPartsPerCallKb, s.rssPerCallKb - s.memoryPartsPerCallKb.reduce((a, b) => a + b, 0)].map((kb) => kb.toFixed(0)).join(', ')}) | ${s.lagP99Ms.toFixed(1)} ms | ${r.in} / ${r.out} / ${r.forked} / ${r.dropped} | ${s.relayLossPct.toFixed(4)} | ` +
    `${s.forkGapPct.toFixed(2)} | ${s.wavs} (${s.wavSeconds.toFixed(0)}) | ${s.clean ? 'yes' : `no: ${s.why.join('; ')}`} |`
  );
}

async function ramp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'load-bench-'));
  const files = prepare(dir);
  const recordingsDir = join(dir, 'recordings');
  let product: Product | undefined;
  let srs: Product | undefined;
  let uas: SippProcess | undefined;
  const steps: Step[] = [];
  const hard = setTimeout(() => {
    console.error('max-minutes reached: stopping');
    uas?.stop(1000).catch(() => undefined);
    product?.child.kill('SIGKILL');
    srs?.child.kill('SIGKILL');
    process.exit(2);
  }, deadline - Date.now() + 60_000);
  hard.unref();
  try {
    if (externalSrs) srs = await startExternalSrs(recordingsDir, values['product-log-level']);
    product = await startProduct(dir, files.provisioning, {
      logLevel: values['product-log-level'],
      logFile: values['product-log'],
      nodeArgs: productNodeArgs,
      env: externalSrs ? { SRS_ENABLED: 'false' } : undefined,
    });
    await sleep(1000);
    const idleScrape = await scrape(P.admin);
    if (!idleScrape) throw new Error('metrics scrape of the idle product failed');
    const idle: Idle = { rssMb: rssMb(product.pid), parts: partsOf(idleScrape) };
    uas = await startCallee(files, Math.ceil((deadline - Date.now()) / 1000) + 30);
    console.log(
      `whole product: calls of ${callSeconds} s after answer, ${stepSeconds} s of new calls per step, idle RSS ${idle.rssMb.toFixed(0)} MB` +
        (srs ? `; recording server in a process of its own (pid ${srs.pid}): its CPU counts in product CPU %, not its RSS` : ''),
    );
    console.log(HEADER);
    console.log(`|${'---|'.repeat(15)}`);
    for (const rate of rates) {
      if (Date.now() + (stepSeconds + callSeconds + 15) * 1000 > deadline) {
        console.log(`(max-minutes: rate ${rate} not run)`);
        break;
      }
      const s = await runStep(rate, product, srs, files, recordingsDir, idle, uas.pid ?? 0);
      steps.push(s);
      console.log(row(s));
      if (!s.clean) {
        console.log(`\nfirst unclean step at ${rate} calls/s:\n${s.sipp?.describe() ?? ''}`);
        const errs = [...product.problems(), ...(srs?.problems() ?? [])];
        if (errs.length) console.log(`product warnings/errors (last 20 of ${errs.length}):\n${errs.slice(-20).join('\n')}`);
        break;
      }
      await sleep(2000);
    }
    const best = steps.filter((s) => s.clean).at(-1);
    console.log(
      best
        ? `\nhighest clean step: ${best.rate} calls/s (${best.cps.toFixed(1)} CPS achieved), ${best.peakCalls} concurrent recorded calls, ` +
            `product CPU ${best.cpuPct.toFixed(0)} %, ${best.callsPerCore.toFixed(0)} recorded calls per core, ${best.rssPerCallKb.toFixed(0)} kB RSS per call, event-loop delay p99 ${best.lagP99Ms.toFixed(1)} ms\n` +
            `against the anchor (${ANCHOR.what}): concurrent recorded calls x${(best.peakCalls / ANCHOR.concurrentCalls).toFixed(2)}, ` +
            `calls admitted per second x${(best.cps / ANCHOR.admittedCps).toFixed(2)}, ` +
            `RSS per call x${(best.rssPerCallKb / ANCHOR.rssPerCallKb).toFixed(2)} (goals: >= x2 and <= 100 kB)`
        : '\nno clean step',
    );
  } finally {
    clearTimeout(hard);
    if (uas) await uas.stop(2000).catch(() => undefined);
    if (product) await stopProduct(product);
    if (srs) await stopProduct(srs);
    rmSync(dir, { recursive: true, force: true });
  }
}

const nodeCounts = values.nodes?.split(',').map(Number) ?? [];
if (values.nodes !== undefined && (nodeCounts.length === 0 || nodeCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 16))) {
  console.error(`--nodes: expected node counts from 1 to 16 separated by commas, got '${values.nodes}'`);
  process.exit(2);
}
if (values.nodes !== undefined && soakMode) {
  console.error('--nodes and --soak-minutes cannot be combined');
  process.exit(2);
}

const run = values.nodes !== undefined
  ? runMultiNode({
      nodeCounts,
      rates,
      callSeconds,
      stepSeconds,
      deadline,
      forkGapLimit,
      productLogLevel: values['product-log-level'],
    }).then((allClean) => {
      process.exitCode = allClean ? 0 : 1;
    })
  : soakMode
  ? runSoak({
      minutes: num('soak-minutes', values['soak-minutes'], 10),
      rate: num('soak-rate', values['soak-rate'], SOAK_DEFAULTS.rate),
      callSeconds,
      warmupSeconds: num('warmup-seconds', values['warmup-seconds'], SOAK_DEFAULTS.warmupSeconds),
      sampleSeconds: num('sample-seconds', values['sample-seconds'], SOAK_DEFAULTS.sampleSeconds),
      idleWaitSeconds: num('idle-wait-seconds', values['idle-wait-seconds'], SOAK_DEFAULTS.idleWaitSeconds),
      rssTolerance: num('rss-tolerance', values['rss-tolerance'], SOAK_DEFAULTS.rssTolerance),
      heapTolerance: num('heap-tolerance', values['heap-tolerance'], SOAK_DEFAULTS.heapTolerance),
      gc: values.gc !== 'no',
      productLogLevel: values['product-log-level'],
      productLogFile: values['product-log'],
      productNodeArgs,
    }).then((pass) => {
      process.exitCode = pass ? 0 : 1;
    })
  : ramp();
run.catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
