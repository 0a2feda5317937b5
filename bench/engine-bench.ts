/**
 * Engine benchmark (`npm run bench:engine`): the standalone engine (src/engine/cli.ts) and a minimal
 * drachtio-srf app (bench/apps/engine-bench-app.ts), each in its own process, driven by SIPp on 127.0.0.1.
 *
 *   (a) uas: SIPp uac-call-bye (INVITE, 200, ACK, 1 s pause, BYE) -> server -> app createUAS
 *   (b) b2b: the same caller -> server -> app createB2BUA -> server -> SIPp uas-answer
 *
 * With `--drachtio-bin PATH` the anchor, drachtio-server, runs the same ramp in the same run: both
 * servers (each with its own copy of the app) are up side by side, and every rate is run on the engine
 * and then on drachtio-server, interleaved, so both see the same machine at the same time. Without the
 * flag the engine runs alone and the summary says that no anchor ran.
 *
 * The call rate ramps in steps; per step it prints the server, the rate, calls ok/failed,
 * retransmissions (SIPp's, per 100 calls), CPU-seconds per 1,000 calls of server and app
 * (/proc/<pid>/stat utime+stime, every thread) and their peak RSS (VmHWM). A server's ramp stops at its
 * first unclean step (a failed call, a missing call, or >= 1 retransmission per 100 calls). At the end,
 * per mode: each server's highest clean rate and its CPU per 1,000 calls, and the engine / drachtio-server
 * ratios. Each server and mode starts with an unreported warm-up step (min(5 s, step) at the first rate).
 *
 * Flags: --mode uas|b2b|both (both), --step-seconds N (30), --uas-rates 100,250,... --b2b-rates ...,
 *        --rounds N (1: the ramp is repeated N times and each round reported),
 *        --drachtio-bin PATH [--drachtio-config FILE] (the config's admin port, contacts and secret are
 *        overridden on the command line), --quick (3 s steps, low rates: a smoke run),
 *        --max-minutes N (15, hard bound for the whole run).
 * Ports: 30000-30999 (engine SIP 30000 and app link 30001, drachtio-server 30100 and 30101, SIPp 30010+ and 30020+).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { runSipp, scenarioPath, startSipp, type SippResult } from '../test/support/sipp.js';
import { sleep } from '../test/support/wait.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const HOST = '127.0.0.1';
const PORTS = { uac: 30010, uacControl: 30011, uacMedia: 30012, uas: 30020, uasControl: 30021, uasMedia: 30022 };
const SERVER_PORTS = { engine: { sip: 30000, admin: 30001 }, drachtio: { sip: 30100, admin: 30101 } } as const;
const SECRET = 'bench';
const CALL_SECONDS = 1;

type ServerKind = keyof typeof SERVER_PORTS;
type Mode = 'uas' | 'b2b';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' },
    'step-seconds': { type: 'string' },
    'uas-rates': { type: 'string' },
    'b2b-rates': { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    'drachtio-bin': { type: 'string' },
    'drachtio-config': { type: 'string' },
    'max-minutes': { type: 'string', default: '15' },
  },
  strict: true,
});

const quick = values.quick ?? false;
const stepSeconds = Number(values['step-seconds'] ?? (quick ? 3 : 30));
const rates = (flag: string | undefined, full: number[], small: number[]): number[] =>
  flag ? flag.split(',').map(Number).filter((n) => n > 0) : quick ? small : full;
const uasRates = rates(values['uas-rates'], [100, 250, 500, 1000, 1500, 2000, 3000, 4000], [20, 50]);
const b2bRates = rates(values['b2b-rates'], [100, 250, 500, 750, 1000, 1500], [20, 50]);
const rounds = Math.max(1, Number(values.rounds));
const drachtioBin = values['drachtio-bin'];
if (values['drachtio-config'] && !drachtioBin) throw new Error('--drachtio-config needs --drachtio-bin');
const deadline = Date.now() + Number(values['max-minutes']) * 60_000;

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Peak resident set size (VmHWM), MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const children: ChildProcess[] = [];

function spawnChild(label: string, command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${label}] ${d.toString()}`));
  return child;
}

const spawnNode = (script: string, args: string[]): ChildProcess => spawnChild(script, process.execPath, ['--import', 'tsx', script, ...args]);

/**
 * drachtio-server needs a configuration file with an <admin> element (without `-f` it reads
 * /etc/drachtio.conf.xml); its admin port, contact and secret come from the command line.
 */
function drachtioConfigFile(): string {
  if (values['drachtio-config']) return values['drachtio-config'];
  const dir = mkdtempSync(join(tmpdir(), 'engine-bench-drachtio-'));
  const file = join(dir, 'drachtio.conf.xml');
  writeFileSync(file, `<drachtio><admin>${HOST}</admin></drachtio>\n`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return file;
}

/** The SIP server under test: the engine's CLI or drachtio-server, on its own ports, logging errors only. */
function spawnServer(kind: ServerKind): ChildProcess {
  const ports = SERVER_PORTS[kind];
  const common = ['--contact', `sip:${HOST}:${ports.sip};transport=udp,tcp`, '--address', HOST, '--port', String(ports.admin), '--secret', SECRET, '--loglevel', 'error'];
  if (kind === 'engine') return spawnNode('src/engine/cli.ts', common);
  return spawnChild('drachtio-server', drachtioBin!, ['-f', drachtioConfigFile(), ...common, '--sofia-loglevel', '0', '--stdout']);
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: HOST, port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`);
}

function waitForLine(child: ChildProcess, line: string, timeoutMs: number): Promise<void> {
  return new Promise((resolveLine, rejectLine) => {
    const timer = setTimeout(() => rejectLine(new Error(`no "${line}" from the app within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes(line)) {
        clearTimeout(timer);
        resolveLine();
      }
    });
    child.once('exit', (code) => rejectLine(new Error(`app exited with ${code}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

interface StepResult {
  server: ServerKind;
  mode: Mode;
  rate: number;
  expected: number;
  ok: number;
  failed: number;
  retransPer100: number;
  engineCpuPer1000: number;
  appCpuPer1000: number;
  enginePeakMb: number;
  appPeakMb: number;
  clean: boolean;
}

interface RoundStep extends StepResult {
  round: number;
}

/** A server and its app, up for one mode. */
interface Stack {
  readonly server: ServerKind;
  readonly engine: ChildProcess;
  readonly app: ChildProcess;
}

async function runStep(mode: Mode, rate: number, stack: Stack, seconds = stepSeconds): Promise<StepResult> {
  const { engine, app } = stack;
  const calls = Math.max(1, Math.round(rate * seconds));
  const timeoutSec = seconds + CALL_SECONDS + 20;
  const cpu0 = { engine: cpuSeconds(engine.pid!), app: cpuSeconds(app.pid!) };
  const uas =
    mode === 'b2b'
      ? startSipp({
          scenario: scenarioPath('uas-answer'),
          port: PORTS.uas,
          controlPort: PORTS.uasControl,
          mediaPort: PORTS.uasMedia,
          calls,
          timeoutSec,
          timeoutError: false,
          traceMessages: false,
        })
      : undefined;
  if (uas) await uas.ready();
  const uac = await runSipp({
    scenario: scenarioPath('uac-call-bye'),
    remote: `${HOST}:${SERVER_PORTS[stack.server].sip}`,
    port: PORTS.uac,
    controlPort: PORTS.uacControl,
    mediaPort: PORTS.uacMedia,
    calls,
    rate,
    limit: Math.max(10, rate * (CALL_SECONDS + 2) * 2),
    pauseMs: CALL_SECONDS * 1000,
    timeoutSec,
    timeoutError: false,
    traceMessages: false,
  });
  const uasResult: SippResult | undefined = uas ? await uas.stop() : undefined;
  const cpu1 = { engine: cpuSeconds(engine.pid!), app: cpuSeconds(app.pid!) };
  const done = uac.stats.successful + uac.stats.failed;
  const retrans = uac.stats.retransmissions + (uasResult?.stats.retransmissions ?? 0);
  const retransPer100 = done > 0 ? (100 * retrans) / done : 0;
  const failed = uac.stats.failed + (uasResult?.stats.failed ?? 0);
  return {
    server: stack.server,
    mode,
    rate,
    expected: calls,
    ok: uac.stats.successful,
    failed,
    retransPer100,
    engineCpuPer1000: done > 0 ? ((cpu1.engine - cpu0.engine) * 1000) / done : 0,
    appCpuPer1000: done > 0 ? ((cpu1.app - cpu0.app) * 1000) / done : 0,
    enginePeakMb: peakRssMb(engine.pid!),
    appPeakMb: peakRssMb(app.pid!),
    clean: failed === 0 && uac.stats.successful === calls && retransPer100 < 1,
  };
}

const fmt = (n: number, d = 2): string => n.toFixed(d);

/** `drachtio --version`'s first line, for the header. */
function drachtioVersion(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || '(version unknown)';
}

function printStep(s: StepResult): void {
  console.log(
    [
      s.server.padEnd(8),
      s.mode.padEnd(4),
      String(s.rate).padStart(6),
      `${s.ok}/${s.expected}`.padStart(13),
      String(s.failed).padStart(7),
      fmt(s.retransPer100).padStart(9),
      fmt(s.engineCpuPer1000, 3).padStart(12),
      fmt(s.appCpuPer1000, 3).padStart(10),
      fmt(s.enginePeakMb, 0).padStart(10),
      fmt(s.appPeakMb, 0).padStart(8),
      s.clean ? 'clean' : 'NOT CLEAN',
    ].join(' '),
  );
}

async function startStack(server: ServerKind, mode: Mode): Promise<Stack> {
  const ports = SERVER_PORTS[server];
  const engine = spawnServer(server);
  await waitForPort(ports.admin, 15_000);
  const app = spawnNode('bench/apps/engine-bench-app.ts', [
    '--mode',
    mode,
    '--host',
    HOST,
    '--port',
    String(ports.admin),
    '--secret',
    SECRET,
    '--b-uri',
    `sip:callee@${HOST}:${PORTS.uas}`,
  ]);
  try {
    await waitForLine(app, 'ready', 15_000);
  } catch (err) {
    await stopChild(app);
    await stopChild(engine);
    throw err;
  }
  return { server, engine, app };
}

const settle = (): Promise<void> => sleep((CALL_SECONDS + 2) * 1000);

/** One mode: every server up side by side, the ramp run rate by rate on each in turn, `rounds` times. */
async function runMode(mode: Mode, modeRates: number[], servers: ServerKind[]): Promise<RoundStep[]> {
  const stacks: Stack[] = [];
  const results: RoundStep[] = [];
  try {
    for (const server of servers) stacks.push(await startStack(server, mode));
    for (const stack of stacks) {
      // Warm-up (JIT, pools), not reported: the first step would otherwise carry it in its CPU figures.
      const warmup = await runStep(mode, modeRates[0] ?? 20, stack, Math.min(5, stepSeconds));
      if (!warmup.clean) console.log(`${stack.server} ${mode}: warm-up step was not clean (${warmup.ok}/${warmup.expected} ok, ${warmup.failed} failed)`);
      await settle();
    }
    for (let round = 1; round <= rounds; round++) {
      const climbing = new Set(stacks);
      for (const rate of modeRates) {
        for (const stack of [...climbing]) {
          if (Date.now() + (stepSeconds + 30) * 1000 > deadline) {
            console.log(`${mode}: stopping, the --max-minutes bound is near`);
            return results;
          }
          const step = await runStep(mode, rate, stack);
          printStep(step);
          results.push({ ...step, round });
          if (!step.clean) climbing.delete(stack);
          await settle();
        }
        if (climbing.size === 0) break;
      }
    }
  } finally {
    for (const stack of stacks) {
      await stopChild(stack.app);
      await stopChild(stack.engine);
    }
  }
  return results;
}

interface Best {
  rate: number;
  serverCpu: number;
  appCpu: number;
  serverRss: number;
  appRss: number;
  reachedLimit: boolean;
}

/** Per round, the highest clean step of one server (undefined when none was clean). */
function best(steps: RoundStep[], server: ServerKind, round: number): Best | undefined {
  const own = steps.filter((s) => s.server === server && s.round === round);
  const clean = own.filter((s) => s.clean);
  const top = clean[clean.length - 1];
  if (!top) return undefined;
  return {
    rate: top.rate,
    serverCpu: top.engineCpuPer1000,
    appCpu: top.appCpuPer1000,
    serverRss: top.enginePeakMb,
    appRss: top.appPeakMb,
    reachedLimit: top !== own[own.length - 1],
  };
}

const describeBest = (b: Best | undefined): string =>
  b
    ? `${b.rate} calls/s${b.reachedLimit ? '' : '+'}, server ${fmt(b.serverCpu, 3)} CPU-s/1k, app ${fmt(b.appCpu, 3)} CPU-s/1k, server RSS ${fmt(b.serverRss, 0)} MB, app RSS ${fmt(b.appRss, 0)} MB`
    : 'no clean step';

function summary(label: string, steps: RoundStep[]): void {
  for (let round = 1; round <= rounds; round++) {
    const tag = rounds > 1 ? `${label} round ${round}` : label;
    const engine = best(steps, 'engine', round);
    console.log(`${tag} engine:          ${describeBest(engine)}`);
    if (!drachtioBin) {
      console.log(`${tag} drachtio-server: no anchor ran (pass --drachtio-bin PATH to run it side by side)`);
      continue;
    }
    const anchor = best(steps, 'drachtio', round);
    console.log(`${tag} drachtio-server: ${describeBest(anchor)}`);
    if (engine && anchor) {
      console.log(`${tag} ratio engine/drachtio-server: highest clean rate ${fmt(engine.rate / anchor.rate)} ('+' = the ramp did not reach that server's limit)`);
      // CPU and memory per call compared at one rate (the fixed costs weigh more at low rates)
      const shared = steps.filter((s) => s.round === round && s.clean && s.server === 'engine' && steps.some((d) => d.round === round && d.clean && d.server === 'drachtio' && d.rate === s.rate));
      const at = shared[shared.length - 1];
      const other = at && steps.find((d) => d.round === round && d.clean && d.server === 'drachtio' && d.rate === at.rate);
      if (at && other) {
        console.log(
          `${tag} at ${at.rate} calls/s, clean on both: server CPU per call ${fmt(at.engineCpuPer1000 / other.engineCpuPer1000)}, ` +
            `app CPU per call ${fmt(at.appCpuPer1000 / other.appCpuPer1000)}, server peak RSS ${fmt(at.enginePeakMb / other.enginePeakMb)}`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const mode = values.mode ?? 'both';
  const servers: ServerKind[] = drachtioBin ? ['engine', 'drachtio'] : ['engine'];
  const anchorNote = drachtioBin ? `anchor drachtio-server ${drachtioVersion(drachtioBin)} side by side` : 'no anchor (engine alone)';
  console.log(`engine benchmark: step ${stepSeconds} s, calls of ${CALL_SECONDS} s, ${rounds} round(s), ${anchorNote}, CLK_TCK ${CLK_TCK}${quick ? ' (quick smoke run)' : ''}`);
  console.log('server   mode   rate      ok/total  failed retr/100c srv CPU/1k  app CPU/1k srv RSS MB app RSS');
  const uas = mode === 'uas' || mode === 'both' ? await runMode('uas', uasRates, servers) : [];
  const b2b = mode === 'b2b' || mode === 'both' ? await runMode('b2b', b2bRates, servers) : [];
  console.log('');
  if (uas.length) summary('(a) UAS  ', uas);
  if (b2b.length) summary('(b) B2BUA', b2b);
}

const shutdown = (): void => {
  for (const c of children) c.kill('SIGKILL');
  process.exit(130);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);

const hardStop = setTimeout(() => {
  console.error('engine benchmark: hard time bound reached, stopping');
  shutdown();
}, Number(values['max-minutes']) * 60_000 + 60_000);
hardStop.unref();

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });
