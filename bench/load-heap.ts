/**
 * Heap-growth check of the whole product (a companion of the soak, bench/load-soak.ts): are the
 * objects a call leaves behind proportional to the calls? Same product, SIPp roles and ports as
 * the load benchmark (bench/load-setup.ts); run it in a network namespace of its own, alone:
 *
 *   node --max-old-space-size=8192 --import tsx bench/load-heap.ts --calls 1500 --rounds 2 --rate 10 --call-seconds 4
 *
 *   1. start the product with --heapsnapshot-signal=SIGUSR1 (heap snapshots into a temporary
 *      directory) and --expose-gc;
 *   2. warm-up: --warmup-calls calls (300) at --rate, wait until every protocol gauge is back at its
 *      idle value (calls, recordings, dialogs and transactions of both engines, media sessions, port
 *      pairs, forks: about 35 s after the last BYE, RFC 3261 Timer J), snapshot S0;
 *   3. --rounds rounds (2) of --calls calls (1500) each, the same wait, snapshot S1, S2, ...
 *      (V8 runs a full GC before writing a snapshot);
 *   4. stop the product and compare the snapshots (bench/heap-snapshot-diff.ts): per-kind count
 *      and self-size deltas against S0, and the objects allocated after S0 that are still alive in
 *      the last snapshot, by the round that allocated them, with sample retainer paths. A per-call
 *      leak grows with every round alike; warm-up (JIT code, caches) does not.
 *
 * Snapshots are written to a temporary directory and deleted at the end (each is about 5x the heap)
 * unless --keep-snapshots DIR is given (they are then moved there). Bounded: every wait is bounded
 * and a hard limit (the planned phases plus 3 minutes) kills SIPp and the product (exit 2).
 * Exit 0 once the report is printed, whatever it shows (it is a measurement, not a verdict).
 *
 * With --at-peak (bench/heap-at-peak.ts), instead of the rounds: after the warm-up snapshot, --calls
 * calls at --rate, each --call-seconds long, and a snapshot once they are all up; the report is what
 * one live call holds, by kind:
 *
 *   node --max-old-space-size=8192 --import tsx bench/load-heap.ts --at-peak --calls 300 --rate 20 --call-seconds 30
 */
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { peakReport } from './heap-at-peak.js';
import { diffSnapshots } from './heap-snapshot-diff.js';
import { collectFinishedRecordings, metric, scrape, type Scrape } from './load-probes.js';
import { forceGc, killChildren, P, prepare, startCallee, startCarrier, startProduct, stopProduct, type BenchFiles, type Product, type ProductOptions } from './load-setup.js';
import type { SippProcess } from '../test/support/sipp.js';
import { sleep } from '../test/support/wait.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1500' },
    rounds: { type: 'string', default: '2' },
    rate: { type: 'string', default: '10' },
    'call-seconds': { type: 'string', default: '4' },
    'warmup-calls': { type: 'string', default: '300' },
    'idle-wait-seconds': { type: 'string', default: '90' },
    'keep-snapshots': { type: 'string' },
    'at-peak': { type: 'boolean', default: false },
  },
  strict: true,
});

function num(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${flag}: expected a positive number, got '${text}'`);
    process.exit(2);
  }
  return n;
}

const calls = Math.round(num('calls', values.calls));
const rounds = Math.round(num('rounds', values.rounds));
const rate = num('rate', values.rate);
const callSeconds = num('call-seconds', values['call-seconds']);
const warmupCalls = Math.round(num('warmup-calls', values['warmup-calls']));
const idleWaitSeconds = num('idle-wait-seconds', values['idle-wait-seconds']);

/** The protocol gauges that are back at their idle value once every call has ended. */
const STATE = ['active_calls', 'recordings', 'sip_dialogs', 'sip_transactions', 'media_sessions', 'media_ports_in_use', 'media_forks', 'srs_recordings', 'srs_sip_dialogs', 'srs_sip_transactions'];

const stateOf = (s: Scrape): number[] => STATE.map((name) => metric(s, `siprec_b2bua_${name}`));

/** Polls each second until every STATE gauge equals `idle` for 3 polls; false after `boundS`. */
async function waitIdle(idle: number[], boundS: number): Promise<boolean> {
  const end = Date.now() + boundS * 1000;
  let stable = 0;
  while (Date.now() < end) {
    const s = await scrape(P.admin);
    stable = s && stateOf(s).every((v, i) => v === idle[i]) ? stable + 1 : 0;
    if (stable >= 3) return true;
    await sleep(1000);
  }
  return false;
}

/** SIGUSR1, then waits until a new snapshot file is there and the product answers again (it writes synchronously). */
async function snapshot(product: Product, dir: string, label: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(product.pid, 'SIGUSR1');
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    await sleep(1000);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file && (await scrape(P.admin))) {
      const path = join(dir, `${label}.heapsnapshot`);
      renameSync(join(dir, file), path);
      const s = await scrape(P.admin);
      const heapMb = s ? metric(s, 'siprec_b2bua_nodejs_heap_size_used_bytes') / 2 ** 20 : NaN;
      console.log(`${label}: ${(statSync(path).size / 2 ** 20).toFixed(0)} MB snapshot; heap used after it ${heapMb.toFixed(1)} MB`);
      return path;
    }
  }
  throw new Error(`no heap snapshot within 120 s for ${label}`);
}

/** Warm-up, idle snapshot, then the calls and a snapshot with all of them up (see --at-peak above). */
async function atPeak(product: Product, uas: SippProcess, files: BenchFiles, snapshots: string, recordings: string): Promise<string[]> {
  const warm = startCarrier(files, { rate, calls: warmupCalls, callSeconds: 2, timeoutSec: warmupCalls / rate + 60 });
  await warm.done;
  const s0 = await scrape(P.admin);
  if (!s0 || !(await waitIdle(stateOf(s0).map(() => 0), idleWaitSeconds))) console.log('warm-up: the product is not idle yet');
  const idle = await snapshot(product, snapshots, 'idle');
  const uac = startCarrier(files, { rate, calls, callSeconds, timeoutSec: calls / rate + callSeconds + 60 });
  // every call placed, and the last one through its announcement: all of them up
  await sleep((calls / rate + 4) * 1000);
  const s1 = await scrape(P.admin);
  const up = s1 ? metric(s1, 'siprec_b2bua_active_calls') : 0;
  const recordingsUp = s1 ? metric(s1, 'siprec_b2bua_srs_recordings') : 0;
  console.log(`${up} calls up (${recordingsUp} recordings open) of ${calls} placed`);
  const peak = await snapshot(product, snapshots, 'peak');
  const result = await uac.done;
  console.log(`${result.stats.successful}/${calls} calls ok, ${result.stats.failed} failed; ${collectFinishedRecordings(recordings).count} WAVs\n`);
  await uas.stop(2000).catch(() => undefined);
  await stopProduct(product);
  console.log(peakReport(idle, peak, up));
  return [idle, peak];
}

/** --keep-snapshots DIR: moves the snapshots there (they are deleted with the temporary directory otherwise). */
function keepSnapshots(paths: string[], snapshots: string): void {
  const keep = values['keep-snapshots'];
  if (!keep) return;
  mkdirSync(keep, { recursive: true });
  for (const p of paths) renameSync(p, join(keep, p.slice(snapshots.length + 1)));
  console.log(`\nsnapshots kept in ${keep}`);
}

async function main(): Promise<void> {
  const roundS = calls / rate + callSeconds + 60;
  const plannedS = 30 + (warmupCalls / rate + callSeconds + 60) + rounds * roundS + (rounds + 1) * 60;
  const hard = setTimeout(() => {
    console.error(`\nhard time limit (${((plannedS + 180) / 60).toFixed(1)} min) reached: killing SIPp and the product`);
    killChildren();
    process.exit(2);
  }, (plannedS + 180) * 1000);
  hard.unref();
  const dir = mkdtempSync(join(tmpdir(), 'load-heap-'));
  const snapshots = join(dir, 'snapshots');
  mkdirSync(snapshots);
  const options: ProductOptions = { exposeGc: true, heapSnapshotDir: snapshots };
  const recordings = join(dir, 'recordings');
  console.log(
    `heap growth: ${warmupCalls} warm-up calls, then ${rounds} x ${calls} calls at ${rate} calls/s, ${callSeconds} s each; ` +
      `a heap snapshot after the warm-up and after each round (product idle); at most about ${(plannedS / 60).toFixed(1)} min`,
  );
  let product: Product | undefined;
  const files = prepare(dir);
  try {
    product = await startProduct(dir, files.provisioning, options);
    const uas = await startCallee(files, plannedS + 180);
    await sleep(2000);
    await forceGc(product, options);
    const s0 = await scrape(P.admin);
    if (!s0) throw new Error('no scrape at idle');
    const idle = stateOf(s0);
    const paths: string[] = [];
    let ok = 0;
    let failed = 0;
    let wavs = 0;
    if (values['at-peak']) {
      keepSnapshots(await atPeak(product, uas, files, snapshots, recordings), snapshots);
      product = undefined;
      return;
    }
    for (let round = 0; round <= rounds; round++) {
      const n = round === 0 ? warmupCalls : calls;
      const uac = startCarrier(files, { rate, calls: n, callSeconds, timeoutSec: n / rate + callSeconds + 60 });
      const result = await uac.done;
      ok += result.stats.successful;
      failed += result.stats.failed;
      const back = await waitIdle(idle, idleWaitSeconds);
      wavs += collectFinishedRecordings(recordings).count;
      console.log(
        `${round === 0 ? 'warm-up' : `round ${round}`}: ${result.stats.successful}/${n} calls ok, ${result.stats.failed} failed; ` +
          `${back ? 'idle' : `NOT idle after ${idleWaitSeconds} s`}; ${wavs} WAVs so far`,
      );
      paths.push(await snapshot(product, snapshots, `S${round}`));
    }
    await uas.stop(2000).catch(() => undefined);
    await stopProduct(product);
    product = undefined;
    console.log(`calls ok ${ok}, failed ${failed}; WAVs ${wavs}\n`);
    console.log(diffSnapshots(paths, { labels: paths.map((_, k) => (k === 0 ? 'S0 (warm-up)' : `S${k} (+${k * calls} calls)`)) }));
    keepSnapshots(paths, snapshots);
  } finally {
    clearTimeout(hard);
    if (product) await stopProduct(product);
    killChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
