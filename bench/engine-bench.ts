/**
 * Engine benchmark (`npm run bench:engine`): the standalone engine (src/engine/cli.ts) and a minimal
 * drachtio-srf app (bench/apps/engine-bench-app.ts), each in its own process, driven by SIPp on 127.0.0.1.
 *
 *   (a) uas: SIPp uac-call-bye (INVITE, 200, ACK, 1 s pause, BYE) -> engine -> app createUAS
 *   (b) b2b: the same caller -> engine -> app createB2BUA -> engine -> SIPp uas-answer
 *
 * The call rate ramps in steps; per step it prints the rate, calls ok/failed, retransmissions (SIPp's,
 * per 100 calls), CPU-seconds per 1,000 calls of engine and app (/proc/<pid>/stat utime+stime), and their
 * peak RSS (VmHWM). The ramp of a mode stops at its first unclean step (a failed call, a missing call, or
 * >= 1 retransmission per 100 calls). At the end: the highest clean rate per mode beside the anchor
 * figures measured with drachtio-server 0.9.10, with the ratio.
 *
 * Each mode starts with an unreported warm-up step (min(5 s, step) at the first rate).
 * Flags: --mode uas|b2b|both (both), --step-seconds N (30), --uas-rates 100,250,... --b2b-rates ...,
 *        --quick (3 s steps, low rates: a smoke run), --max-minutes N (15, hard bound for the whole run).
 * Ports: 30000-30999 (engine SIP 30000, app link 30001, SIPp 30010+ and 30020+).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { runSipp, scenarioPath, startSipp, type SippResult } from '../test/support/sipp.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const HOST = '127.0.0.1';
const PORTS = { sip: 30000, admin: 30001, uac: 30010, uacControl: 30011, uacMedia: 30012, uas: 30020, uasControl: 30021, uasMedia: 30022 };
const SECRET = 'bench';
const CALL_SECONDS = 1;

/** drachtio-server 0.9.10 figures from the issue, same machine class and method. */
const ANCHOR = { uasRate: 3000, b2bRate: 1000, engineCpuPer1000: 0.27, appCpuPer1000: 0.12, appPeakRssMb: 170 };

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' },
    'step-seconds': { type: 'string' },
    'uas-rates': { type: 'string' },
    'b2b-rates': { type: 'string' },
    quick: { type: 'boolean', default: false },
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

function spawnNode(script: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${script}] ${d.toString()}`));
  return child;
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
    await new Promise((r) => setTimeout(r, 100));
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
  mode: 'uas' | 'b2b';
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

async function runStep(mode: 'uas' | 'b2b', rate: number, engine: ChildProcess, app: ChildProcess, seconds = stepSeconds): Promise<StepResult> {
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
    remote: `${HOST}:${PORTS.sip}`,
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

function printStep(s: StepResult): void {
  console.log(
    [
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

async function runMode(mode: 'uas' | 'b2b', modeRates: number[]): Promise<StepResult[]> {
  const engine = spawnNode('src/engine/cli.ts', [
    '--contact',
    `sip:${HOST}:${PORTS.sip};transport=udp,tcp`,
    '--address',
    HOST,
    '--port',
    String(PORTS.admin),
    '--secret',
    SECRET,
    '--loglevel',
    'error',
  ]);
  const results: StepResult[] = [];
  try {
    await waitForPort(PORTS.admin, 15_000);
    const app = spawnNode('bench/apps/engine-bench-app.ts', [
      '--mode',
      mode,
      '--host',
      HOST,
      '--port',
      String(PORTS.admin),
      '--secret',
      SECRET,
      '--b-uri',
      `sip:callee@${HOST}:${PORTS.uas}`,
    ]);
    try {
      await waitForLine(app, 'ready', 15_000);
      // Warm-up (JIT, pools), not reported: the first step would otherwise carry it in its CPU figures.
      const warmup = await runStep(mode, modeRates[0] ?? 20, engine, app, Math.min(5, stepSeconds));
      if (!warmup.clean) console.log(`${mode}: warm-up step was not clean (${warmup.ok}/${warmup.expected} ok, ${warmup.failed} failed)`);
      await new Promise((r) => setTimeout(r, (CALL_SECONDS + 2) * 1000));
      for (const rate of modeRates) {
        if (Date.now() + (stepSeconds + 30) * 1000 > deadline) {
          console.log(`${mode}: stopping, the --max-minutes bound is near`);
          break;
        }
        const step = await runStep(mode, rate, engine, app);
        printStep(step);
        results.push(step);
        if (!step.clean) break;
        await new Promise((r) => setTimeout(r, (CALL_SECONDS + 2) * 1000));
      }
    } finally {
      await stopChild(app);
    }
  } finally {
    await stopChild(engine);
  }
  return results;
}

function summary(label: string, steps: StepResult[], anchorRate: number): void {
  const clean = steps.filter((s) => s.clean);
  const best = clean[clean.length - 1];
  if (!best) {
    console.log(`${label}: no clean step (anchor drachtio-server 0.9.10: ${anchorRate} calls/s)`);
    return;
  }
  const ceiling = best === steps[steps.length - 1] ? ' (the ramp did not reach its limit)' : '';
  console.log(
    `${label}: highest clean rate ${best.rate} calls/s${ceiling} vs drachtio-server ${anchorRate} calls/s -> ratio ${fmt(best.rate / anchorRate)}; ` +
      `engine ${fmt(best.engineCpuPer1000, 3)} CPU-s/1000 calls (anchor ${ANCHOR.engineCpuPer1000}, ratio ${fmt(best.engineCpuPer1000 / ANCHOR.engineCpuPer1000)}), ` +
      `app ${fmt(best.appCpuPer1000, 3)} (anchor ${ANCHOR.appCpuPer1000}, ratio ${fmt(best.appCpuPer1000 / ANCHOR.appCpuPer1000)}), ` +
      `app peak RSS ${fmt(best.appPeakMb, 0)} MB (anchor ${ANCHOR.appPeakRssMb}), engine peak RSS ${fmt(best.enginePeakMb, 0)} MB`,
  );
}

async function main(): Promise<void> {
  const mode = values.mode ?? 'both';
  console.log(`engine benchmark: step ${stepSeconds} s, calls of ${CALL_SECONDS} s, CLK_TCK ${CLK_TCK}${quick ? ' (quick smoke run)' : ''}`);
  console.log('mode   rate      ok/total  failed retr/100c eng CPU/1k  app CPU/1k  eng RSS MB app RSS');
  const uas = mode === 'uas' || mode === 'both' ? await runMode('uas', uasRates) : [];
  const b2b = mode === 'b2b' || mode === 'both' ? await runMode('b2b', b2bRates) : [];
  console.log('');
  if (uas.length) summary('(a) UAS    ', uas, ANCHOR.uasRate);
  if (b2b.length) summary('(b) B2BUA  ', b2b, ANCHOR.b2bRate);
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
