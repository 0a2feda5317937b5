/**
 * Multi-node mode of the whole-product load benchmark (`npm run bench:load -- --nodes 1,2,3`):
 * recorded calls through Kamailio to 1, 2, 3 ... product nodes sharing one PostgreSQL database,
 * in the network namespaces of the multi-node test (test/support/multi-node-bed.ts; docs/scaling.md
 * "Kamailio in front" and "Capacity").
 *
 *   carrier SIPp (pack/pstn-caller.xml)  ->  Kamailio (deploy/kamailio/kamailio.cfg)  ->  node 1..N
 *   (carrier namespace, 10.77.0.2:5080)      (dispatcher, round robin, probes 1 s)       (each its own namespace,
 *   alice's SIPp (pack/user-callee.xml, 10.77.0.2:5070) <- each node calls alice       `npm start` + DATABASE_URL,
 *                                                                                       its own recording server)
 *
 * One throwaway PostgreSQL cluster (test/support/postgres-cluster.ts; the nodes reach it through
 * its Unix socket) holds the settings and the live-call registry for every node count. Node counts
 * run in the order given; nodes are started once and kept (node 1 runs through every count), and
 * Kamailio is restarted with a dispatcher list of the first N nodes for each count. For each count
 * the call rate ramps as in the single-node ramp (bench/load-bench.ts: same call flow, same clean
 * criteria summed over the nodes: every call ok, no recording failure or rejected INVITE, one WAV
 * per call, relay loss < 0.01 %, not-forked < --fork-gap-limit) and stops at the first unclean step.
 *
 * Per step: calls, CPS, peak concurrent calls (sum of every node's active_calls, polled each second
 * through curl in the node's namespace) and each node's share, CPU % of each node (all threads;
 * 100 % = one core) and their sum, Kamailio's CPU % (all its processes), PostgreSQL's CPU % (the
 * postmaster and its backends), SIPp's CPU % (carrier + alice), the machine's busy share of its
 * cores (/proc/stat, everything included), RSS per concurrent call (sum of the nodes' RSS above
 * their idle RSS), the worst event-loop lag p99 of any node, and PostgreSQL's transactions and rows
 * written per call (pg_stat_database of the bench database: xact_commit and tup_inserted +
 * tup_updated + tup_deleted deltas, less the idle rate of the nodes' heartbeats measured before the
 * count's first step), and the live-call registry's failed writes and full rewrites of a node's
 * calls (siprec_b2bua_live_call_registry_write_failures_total, ..._resyncs_total), which add to the
 * database's figures.
 *
 * Every process runs on the same machine: on 2 cores, N nodes share the cores with Kamailio,
 * PostgreSQL and SIPp, so the figures show the cost of the balancer and the shared database per
 * call, not how capacity scales with machines.
 *
 * Bounded: the ramp skips what does not fit in --max-minutes, a hard timer kills everything one
 * minute past it and exits 2, and on any exit (Ctrl-C included) the processes are killed, the
 * database cluster stopped and the namespaces deleted (bench/load-setup.ts atExit). Needs root,
 * iproute2, nftables, curl, sipp, Debian's kamailio and postgresql.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  assertKamailioInstalled,
  BALANCER,
  buildMultiNodeNetwork,
  CARRIER,
  clusterSocketUrl,
  killGroup,
  NODE_PORTS,
  nodeEnv,
  startBalancer,
  type Balancer,
  type MultiNodeNamespaces,
} from '../test/support/multi-node-bed.js';
import { Netns, requireNetns } from '../test/support/netns.js';
import { portBlock } from '../test/support/ports.js';
import { startPostgresCluster, type PostgresCluster } from '../test/support/postgres-cluster.js';
import { buildProduct, spawnProduct, writeDemoProvisioning } from '../test/support/product-process.js';
import { assertSippInstalled, buildSippArgs, parseSippStats, type SippOptions, type SippStats } from '../test/support/sipp.js';
import { sleep } from '../test/support/wait.js';
import { counters, cpuSeconds, diff, machineCpu, loopDelayP99, mediaLosses, metric, parseMetrics, rssMb, treeCpuSeconds, wavFiles, type Counters, type Scrape } from './load-probes.js';
import { atExit, prepare, track, untrack, USER_NUMBER, type BenchFiles } from './load-setup.js';

const execFileAsync = promisify(execFile);
const LOSS_LIMIT = 0.0001; // 0.01 %
/** Kamailio's probe interval and node timeout (as in the multi-node test). */
const PROBE_INTERVAL_S = 1;
const NODE_TIMEOUT_MS = 2000;
const DATABASE = 'bench_multi_node';
/**
 * The bed's ports with the media ranges the product's defaults give (config/embedded.yaml): the
 * test's 200-port ranges hold about 25 recorded calls per node (a call takes a port pair per leg and
 * per fork); each node has its own namespace, so nothing clashes.
 */
const PORTS = { ...NODE_PORTS, mediaMin: 40000, mediaMax: 49999, srsRtpMin: 50000, srsRtpMax: 59999 };
/** SIPp in the carrier's namespace: the carrier on 5080 (the demo trunk's source port), alice on 5070. */
const SIPP = { carrier: 5080, carrierControl: 8880, carrierMedia: 10000, callee: 5070, calleeControl: 8870, calleeMedia: 12000 } as const;

export interface MultiNodeOptions {
  nodeCounts: number[];
  rates: number[];
  callSeconds: number;
  stepSeconds: number;
  /** Epoch ms: nothing starts that would not end before it. */
  deadline: number;
  /** Share (0-1) of received audio not forked above which a step is unclean. */
  forkGapLimit: number;
  productLogLevel: string;
}

// ------------------------------------------------------------------ processes in namespaces
interface Node {
  no: number;
  pid: number;
  dir: string;
  /** RSS before the first step it takes part in (after the count's idle wait), MB. */
  idleRssMb: number;
  /** The last 50 kB of its output. */
  log: () => string;
  exited: () => boolean;
}

interface NsSipp {
  pid: number | undefined;
  done: Promise<{ code: number | null; stats: SippStats; describe: string }>;
}

/** SIPp run in namespace `ns` (startSipp cannot: it spawns sipp directly); stats read from its -stf file on exit. */
function startNsSipp(ns: string, dir: string, name: string, options: SippOptions): NsSipp {
  const files = { stat: join(dir, `${name}.stat.csv`), messages: join(dir, `${name}.msg.log`), errors: join(dir, `${name}.err.log`) };
  for (const f of Object.values(files)) rmSync(f, { force: true });
  const args = buildSippArgs(options, files);
  const child = spawn('ip', ['netns', 'exec', ns, 'sipp', ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  track(child.pid);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const hard = setTimeout(() => child.kill('SIGKILL'), ((options.timeoutSec ?? 20) + 10) * 1000);
  const done = new Promise<{ code: number | null; stats: SippStats; describe: string }>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(hard);
      untrack(child.pid);
      const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
      const stats = parseSippStats(read(files.stat));
      resolve({
        code,
        stats,
        describe: `sipp ${args.join(' ')}\nexit=${code} signal=${signal} created=${stats.created} ok=${stats.successful} failed=${stats.failed}\n${stderr}\n${read(files.errors).slice(-2000)}`,
      });
    });
  });
  return { pid: child.pid, done };
}

/** GET /v1/metrics of node `no` (127.0.0.1:8080 in its namespace) through curl; undefined when it fails. */
async function scrapeNode(netns: Netns, ns: MultiNodeNamespaces, no: number): Promise<Scrape | undefined> {
  try {
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns.node[no]!, 'curl', '-s', '-f', '-m', '3', `http://127.0.0.1:${NODE_PORTS.admin}/v1/metrics`], { timeout: 5000, maxBuffer: 8 << 20 });
    return parseMetrics(stdout);
  } catch {
    return undefined;
  }
}

async function startNode(netns: Netns, ns: MultiNodeNamespaces, dir: string, no: number, provisioningFile: string, databaseUrl: string, logLevel: string): Promise<Node> {
  const nodeDir = join(dir, `node-${no}`);
  mkdirSync(nodeDir, { recursive: true });
  const child = spawnProduct({ dir: nodeDir, ports: PORTS, provisioningFile, logLevel, commandPrefix: netns.prefixFor(ns.node[no]!), env: nodeEnv(no, databaseUrl) });
  track(child.pid);
  child.once('exit', () => untrack(child.pid));
  let log = '';
  const keep = (d: Buffer): void => void (log = (log + d.toString()).slice(-50_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  // readiness: the admin API answers a scrape (LOG_LEVEL warn hides the "ready" line)
  const end = Date.now() + 90_000;
  for (;;) {
    if (exited()) throw new Error(`node ${no} exited before ready\n${log.slice(-5000)}`);
    if (await scrapeNode(netns, ns, no)) break;
    if (Date.now() > end) throw new Error(`node ${no} not ready within 90 s\n${log.slice(-5000)}`);
    await sleep(500);
  }
  await sleep(1000);
  return { no, pid: child.pid!, dir: nodeDir, idleRssMb: rssMb(child.pid!), log: () => log, exited };
}

async function stopNode(node: Node): Promise<void> {
  if (node.exited()) return;
  try {
    process.kill(node.pid, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + 8000;
  while (!node.exited() && Date.now() < end) await sleep(100);
  if (!node.exited()) process.kill(node.pid, 'SIGKILL');
}

// ------------------------------------------------------------------ PostgreSQL figures
interface PgCounters {
  xacts: number;
  writes: number;
}

async function pgCounters(cluster: PostgresCluster): Promise<PgCounters> {
  const [row] = await cluster.query<{ xacts: string; writes: string }>(
    'SELECT xact_commit + xact_rollback AS xacts, tup_inserted + tup_updated + tup_deleted AS writes FROM pg_stat_database WHERE datname = $1',
    [DATABASE],
  );
  return { xacts: Number(row?.xacts ?? 0), writes: Number(row?.writes ?? 0) };
}

/** The postmaster's pid (first line of postmaster.pid in the data directory), or 0. */
function postmasterPid(cluster: PostgresCluster): number {
  try {
    return Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || 0;
  } catch {
    return 0;
  }
}

// ------------------------------------------------------------------ one step
interface Step {
  nodes: number;
  rate: number;
  attempted: number;
  ok: number;
  failed: number;
  cps: number;
  peakCalls: number;
  /** Peak concurrent calls of each node (not at the same instant). */
  peakPerNode: number[];
  nodeCpuPct: number[];
  kamailioCpuPct: number;
  postgresCpuPct: number;
  sippCpuPct: number;
  machineBusyPct: number;
  rssPerCallKb: number;
  lagP99Ms: number;
  pgXactsPerCall: number;
  pgWritesPerCall: number;
  /** Mean size of a live_calls row's summary (bytes), read once during the step; 0 when not read. */
  registryRowBytes: number;
  rtp: Counters;
  relayLossPct: number;
  forkGapPct: number;
  wavs: number;
  clean: boolean;
  why: string[];
  describe: string;
}

interface Bed {
  netns: Netns;
  ns: MultiNodeNamespaces;
  dir: string;
  files: BenchFiles;
  cluster: PostgresCluster;
  balancer: Balancer;
  nodes: Node[];
  calleePid: number;
  /** PostgreSQL transactions and rows written per second with the nodes idle (heartbeats). */
  idle: { xactsPerS: number; writesPerS: number };
}

function sumCounters(list: Counters[]): Counters {
  const zero = diff(list[0]!, list[0]!);
  for (const c of list) for (const k of Object.keys(zero) as (keyof Counters)[]) zero[k] += c[k];
  return zero;
}

async function runStep(bed: Bed, rate: number, o: MultiNodeOptions): Promise<Step> {
  const { netns, ns, nodes } = bed;
  const calls = Math.max(1, Math.round(rate * o.stepSeconds));
  const scrapeAll = (): Promise<(Scrape | undefined)[]> => Promise.all(nodes.map((n) => scrapeNode(netns, ns, n.no)));
  const before = await scrapeAll();
  if (before.some((s) => !s)) throw new Error('a node did not answer the metrics scrape before the step');
  const wav0 = nodes.map((n) => wavFiles(join(n.dir, 'recordings')).count);
  const cpu0 = nodes.map((n) => cpuSeconds(n.pid));
  const kamPid = bed.balancer.child.pid ?? 0;
  const pgPid = postmasterPid(bed.cluster);
  const kam0 = treeCpuSeconds(kamPid);
  const pg0 = treeCpuSeconds(pgPid);
  const callee0 = cpuSeconds(bed.calleePid);
  const machine0 = machineCpu();
  const pgBefore = await pgCounters(bed.cluster);
  const pgT0 = Date.now();
  const t0 = Date.now();
  const uac = startNsSipp(ns.carrier, bed.dir, 'carrier', {
    scenario: bed.files.caller,
    localIp: CARRIER,
    remote: `${BALANCER}:5060`,
    service: USER_NUMBER,
    port: SIPP.carrier,
    controlPort: SIPP.carrierControl,
    mediaPort: SIPP.carrierMedia,
    calls,
    rate,
    limit: Math.ceil(rate * (o.callSeconds + 15)) + 10,
    pauseMs: o.callSeconds * 1000,
    timeoutSec: o.stepSeconds + o.callSeconds + 60,
    recvTimeoutMs: 20_000,
    maxSocket: 4096,
    traceMessages: false,
  });
  let finished = false;
  const done = uac.done.finally(() => (finished = true));
  const calls0 = before.map((s) => metric(s!, 'siprec_b2bua_calls_total'));
  const admitted: { t: number; n: number }[] = [];
  const peakPerNode = nodes.map(() => 0);
  let peakCalls = 0;
  let peakRss = 0;
  let lagP99 = 0;
  let uacCpu = 0;
  let calleeCpu = callee0;
  let registryRowBytes = 0;
  while (!finished) {
    if (registryRowBytes === 0 && Date.now() - t0 > (o.stepSeconds * 1000) / 2) {
      const [r] = await bed.cluster.query<{ bytes: string | null }>('SELECT avg(pg_column_size(summary)) AS bytes FROM live_calls', [], DATABASE).catch(() => []);
      registryRowBytes = Number(r?.bytes ?? 0) || -1;
    }
    const polled = await scrapeAll();
    if (polled.every((s) => s)) {
      const active = polled.map((s) => metric(s!, 'siprec_b2bua_active_calls'));
      active.forEach((a, k) => (peakPerNode[k] = Math.max(peakPerNode[k]!, a)));
      peakCalls = Math.max(peakCalls, active.reduce((a, b) => a + b, 0));
      admitted.push({ t: Date.now(), n: polled.reduce((a, s, k) => a + metric(s!, 'siprec_b2bua_calls_total') - calls0[k]!, 0) });
      for (const s of polled) lagP99 = Math.max(lagP99, loopDelayP99(s!));
    }
    peakRss = Math.max(peakRss, nodes.reduce((a, n) => a + rssMb(n.pid), 0));
    if (uac.pid !== undefined) uacCpu = Math.max(uacCpu, cpuSeconds(uac.pid));
    calleeCpu = Math.max(calleeCpu, cpuSeconds(bed.calleePid));
    await sleep(1000);
  }
  const sipp = await done;
  const wallS = (Date.now() - t0) / 1000;
  const pct = (seconds: number): number => (100 * seconds) / wallS;
  const nodeCpuPct = nodes.map((n, k) => pct(cpuSeconds(n.pid) - cpu0[k]!));
  const kamailioCpuPct = pct(treeCpuSeconds(kamPid) - kam0);
  const postgresCpuPct = pct(treeCpuSeconds(pgPid) - pg0);
  const sippCpuPct = pct(uacCpu + Math.max(calleeCpu, cpuSeconds(bed.calleePid)) - callee0);
  const machine1 = machineCpu();
  const machineBusyPct = (100 * (machine1.busy - machine0.busy)) / Math.max(1, machine1.total - machine0.total);
  // the last BYEs, the recording servers closing their files
  let after: (Scrape | undefined)[] = [];
  for (let i = 0; i < 30; i++) {
    after = await scrapeAll();
    const wavs = nodes.reduce((a, n, k) => a + wavFiles(join(n.dir, 'recordings')).count - wav0[k]!, 0);
    if (after.every((s) => s && metric(s, 'siprec_b2bua_active_calls') === 0) && wavs >= sipp.stats.successful) break;
    await sleep(500);
  }
  if (after.some((s) => !s)) throw new Error('a node did not answer the metrics scrape after the step');
  // PostgreSQL's statistics reach pg_stat_database within about a second of each transaction
  await sleep(1500);
  const pgAfter = await pgCounters(bed.cluster);
  const pgWindowS = (Date.now() - pgT0) / 1000;
  const rtp = sumCounters(nodes.map((_, k) => diff(counters(before[k]!), counters(after[k]!))));
  const wavs = nodes.reduce((a, n, k) => a + wavFiles(join(n.dir, 'recordings')).count - wav0[k]!, 0);
  const { relayLoss, forkGap } = mediaLosses(rtp);
  const ok = sipp.stats.successful;
  const failed = sipp.stats.failed;
  const why: string[] = [];
  if (failed > 0) why.push(`${failed} failed calls`);
  if (ok !== calls) why.push(`${ok}/${calls} calls ok (sipp exit ${sipp.code})`);
  if (rtp.recFailed > 0) why.push(`${rtp.recFailed} recording failures`);
  if (rtp.rejected > 0) why.push(`${rtp.rejected} INVITEs rejected`);
  if (wavs !== ok) why.push(`${wavs} WAVs for ${ok} calls`);
  if (relayLoss >= LOSS_LIMIT) why.push(`relay loss ${(relayLoss * 100).toFixed(4)} %`);
  if (forkGap >= o.forkGapLimit) why.push(`${(forkGap * 100).toFixed(2)} % of received audio not forked`);
  if (rtp.sendErrors > 0) why.push(`${rtp.sendErrors} RTP send errors`);
  const perCall = (total: number, idlePerS: number): number => (ok > 0 ? Math.max(0, total - idlePerS * pgWindowS) / ok : 0);
  const idleRss = nodes.reduce((a, n) => a + n.idleRssMb, 0);
  return {
    nodes: nodes.length,
    rate,
    attempted: sipp.stats.created,
    ok,
    failed,
    cps: admissionRate(admitted),
    peakCalls,
    peakPerNode,
    nodeCpuPct,
    kamailioCpuPct,
    postgresCpuPct,
    sippCpuPct,
    machineBusyPct,
    rssPerCallKb: peakCalls > 0 ? ((peakRss - idleRss) * 1024) / peakCalls : 0,
    lagP99Ms: lagP99 * 1000,
    pgXactsPerCall: perCall(pgAfter.xacts - pgBefore.xacts, bed.idle.xactsPerS),
    pgWritesPerCall: perCall(pgAfter.writes - pgBefore.writes, bed.idle.writesPerS),
    registryRowBytes: Math.max(0, registryRowBytes),
    rtp,
    relayLossPct: relayLoss * 100,
    forkGapPct: forkGap * 100,
    wavs,
    clean: why.length === 0,
    why,
    describe: sipp.describe,
  };
}

/** Calls admitted per second between the first poll that saw an admitted call and the first that saw them all. */
function admissionRate(samples: { t: number; n: number }[]): number {
  const last = samples.at(-1)?.n ?? 0;
  const a = samples.find((x) => x.n > 0);
  const b = samples.find((x) => x.n === last);
  if (!a || !b || b.t <= a.t) return last;
  return (b.n - a.n) / ((b.t - a.t) / 1000);
}

const HEADER =
  '| nodes | rate (calls/s) | attempted / ok / failed | CPS | peak concurrent calls (per node) | node CPU % each (sum) | Kamailio CPU % | PostgreSQL CPU % | SIPp CPU % | machine busy % of 2 cores | RSS per call | lag p99 (worst node) | PG transactions / call | PG rows written / call | registry write failures / resyncs | not forked % | WAVs | clean |';

function row(s: Step): string {
  const sum = s.nodeCpuPct.reduce((a, b) => a + b, 0);
  return (
    `| ${s.nodes} | ${s.rate} | ${s.attempted} / ${s.ok} / ${s.failed} | ${s.cps.toFixed(1)} | ${s.peakCalls} (${s.peakPerNode.join(' / ')}) | ` +
    `${s.nodeCpuPct.map((c) => c.toFixed(0)).join(' / ')} (${sum.toFixed(0)}) | ${s.kamailioCpuPct.toFixed(1)} | ${s.postgresCpuPct.toFixed(1)} | ${s.sippCpuPct.toFixed(0)} | ` +
    `${s.machineBusyPct.toFixed(0)} | ${s.rssPerCallKb.toFixed(0)} kB | ${s.lagP99Ms.toFixed(1)} ms | ${s.pgXactsPerCall.toFixed(1)} | ${s.pgWritesPerCall.toFixed(1)} | ` +
    `${s.rtp.registryWriteFailures} / ${s.rtp.registryResyncs} | ${s.forkGapPct.toFixed(2)} | ${s.wavs} | ${s.clean ? 'yes' : `no: ${s.why.join('; ')}`} |`
  );
}

/** CPU milliseconds per call at a step's admission rate. */
function msPerCall(pct: number, s: Step): string {
  return s.cps > 0 ? ((pct * 10) / s.cps).toFixed(2) : '-';
}

// ------------------------------------------------------------------ the run
/** Runs the multi-node ramp; resolves true when every node count had at least one clean step. */
export async function runMultiNode(o: MultiNodeOptions): Promise<boolean> {
  requireNetns();
  assertSippInstalled();
  assertKamailioInstalled();
  // every node runs the product's build, as npm start runs it
  buildProduct();
  const maxNodes = Math.max(...o.nodeCounts);
  const dir = mkdtempSync(join(tmpdir(), 'load-multi-node-'));
  const files = prepare(dir);
  const netns = new Netns(`lb${process.pid}`);
  atExit(() => void netns.close());
  const ns = buildMultiNodeNetwork(netns, maxNodes);
  const hard = setTimeout(() => {
    console.error('max-minutes reached: stopping');
    process.exit(2);
  }, o.deadline - Date.now() + 60_000);
  hard.unref();

  let cluster: PostgresCluster | undefined;
  let balancer: Balancer | undefined;
  const nodes: Node[] = [];
  let callee: NsSipp | undefined;
  const steps: Step[] = [];
  try {
    cluster = await startPostgresCluster({ port: portBlock({ from: 9192, to: 9199 }, 0, 8) });
    const pg = cluster;
    atExit(() => {
      // immediate shutdown (SIGQUIT to the postmaster ends its backends), then its directory
      const pid = postmasterPid(pg);
      if (pid) {
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          // gone
        }
      }
      rmSync(pg.dir, { recursive: true, force: true });
    });
    await cluster.createDatabase(DATABASE);
    const databaseUrl = clusterSocketUrl(cluster, DATABASE);
    // the demo settings with the carrier and alice on the carrier's network, each node's own recording server
    const provisioning = writeDemoProvisioning(dir, { callee: SIPP.callee, carrier: SIPP.carrier, srs: NODE_PORTS.srs, hosts: { callee: CARRIER, carrier: CARRIER, srs: '127.0.0.1' } });
    callee = startNsSipp(ns.carrier, dir, 'alice', {
      scenario: files.callee,
      localIp: CARRIER,
      port: SIPP.callee,
      controlPort: SIPP.calleeControl,
      mediaPort: SIPP.calleeMedia,
      calls: 10_000_000, // never reached: killed at the end
      timeoutSec: Math.ceil((o.deadline - Date.now()) / 1000) + 120,
      timeoutError: false,
      maxSocket: 4096,
      traceMessages: false,
    });
    console.log(
      `multi-node: PostgreSQL + Kamailio + N nodes in network namespaces, calls of ${o.callSeconds} s after answer, ${o.stepSeconds} s of new calls per step.\n` +
        `Everything (nodes, Kamailio, PostgreSQL, both SIPp) shares this machine's cores: this measures the overhead of the balancer and the shared database per call, not linear scale.`,
    );
    console.log(HEADER);
    console.log(`|${'---|'.repeat(18)}`);
    for (const count of o.nodeCounts) {
      const stepCost = (o.stepSeconds + o.callSeconds + 20) * 1000;
      if (Date.now() + 20_000 * Math.max(0, count - nodes.length) + 15_000 + stepCost > o.deadline) {
        console.log(`(max-minutes: ${count} nodes not run)`);
        break;
      }
      // nodes 1..count up (started once, kept), Kamailio with those in its list
      const starting: Promise<Node>[] = [];
      for (let no = nodes.length + 1; no <= count; no++) starting.push(startNode(netns, ns, dir, no, provisioning, databaseUrl, o.productLogLevel));
      const started = (await Promise.all(starting)).sort((a, b) => a.no - b.no);
      nodes.push(...started);
      if (balancer) {
        killGroup(balancer.child);
        await new Promise<void>((r) => (balancer!.child.exitCode !== null || balancer!.child.signalCode !== null ? r() : balancer!.child.once('exit', () => r())));
      }
      const active = nodes.slice(0, count);
      balancer = await startBalancer({ netns, ns, dir, nodes: active.map((n) => n.no), probeIntervalS: PROBE_INTERVAL_S, nodeTimeoutMs: NODE_TIMEOUT_MS });
      const kam = balancer;
      atExit(() => killGroup(kam.child));
      // the database's idle load (heartbeats of the nodes) over a few seconds
      const idle0 = await pgCounters(cluster);
      const idleT0 = Date.now();
      await sleep(6000);
      const idle1 = await pgCounters(cluster);
      const idleS = (Date.now() - idleT0) / 1000;
      for (const n of started) n.idleRssMb = rssMb(n.pid);
      const bed: Bed = {
        netns,
        ns,
        dir,
        files,
        cluster,
        balancer,
        nodes: active,
        calleePid: callee.pid ?? 0,
        idle: { xactsPerS: (idle1.xacts - idle0.xacts) / idleS, writesPerS: (idle1.writes - idle0.writes) / idleS },
      };
      for (const rate of o.rates) {
        if (Date.now() + stepCost > o.deadline) {
          console.log(`(max-minutes: ${count} nodes at ${rate} calls/s not run)`);
          break;
        }
        const s = await runStep(bed, rate, o);
        steps.push(s);
        console.log(row(s));
        if (!s.clean) {
          console.log(`\nfirst unclean step with ${count} nodes at ${rate} calls/s:\n${s.describe}`);
          for (const n of active) {
            const errs = n.log().split('\n').filter((l) => /"level":(40|50|60)/.test(l));
            if (errs.length) console.log(`node ${n.no} warnings/errors (last 10 of ${errs.length}):\n${errs.slice(-10).join('\n')}`);
          }
          break;
        }
        await sleep(2000);
      }
      console.log(`| ${count} | idle: PostgreSQL ${bed.idle.xactsPerS.toFixed(1)} transactions/s, ${bed.idle.writesPerS.toFixed(1)} rows written/s (heartbeats; subtracted above) |${' |'.repeat(16)}`);
    }
    console.log('\nhighest clean step per node count:');
    let allClean = true;
    for (const count of o.nodeCounts) {
      const best = steps.filter((s) => s.nodes === count && s.clean).at(-1);
      if (!best) {
        allClean = false;
        console.log(`  ${count} node(s): no clean step`);
        continue;
      }
      const sum = best.nodeCpuPct.reduce((a, b) => a + b, 0);
      console.log(
        `  ${count} node(s): ${best.rate} calls/s (${best.cps.toFixed(1)} CPS), ${best.peakCalls} concurrent recorded calls, nodes CPU ${sum.toFixed(0)} % ` +
          `(${best.nodeCpuPct.map((c) => c.toFixed(0)).join(' / ')}), Kamailio ${best.kamailioCpuPct.toFixed(1)} % (${msPerCall(best.kamailioCpuPct, best)} ms per call), ` +
          `PostgreSQL ${best.postgresCpuPct.toFixed(1)} % (${msPerCall(best.postgresCpuPct, best)} ms per call, heartbeats included), ` +
          `${best.rssPerCallKb.toFixed(0)} kB RSS per call, ${best.pgXactsPerCall.toFixed(1)} PostgreSQL transactions and ${best.pgWritesPerCall.toFixed(1)} rows written per call, ` +
          `live-call registry row ${best.registryRowBytes.toFixed(0)} bytes (summary JSON)`,
      );
    }
    console.log('(2 cores shared by every process: compare the cost per call across node counts, not the rates)');
    return allClean;
  } finally {
    clearTimeout(hard);
    if (callee?.pid) {
      try {
        process.kill(callee.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    killGroup(balancer?.child);
    await Promise.all(nodes.map((n) => stopNode(n)));
    await cluster?.stop();
    const errors = netns.close();
    if (errors.length) console.error(errors.join('\n'));
    rmSync(dir, { recursive: true, force: true });
  }
}
