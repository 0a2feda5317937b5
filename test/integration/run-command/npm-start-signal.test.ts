/**
 * `npm start` as an operator runs it, stopped the way service managers and terminals stop it:
 * SIGTERM (or Ctrl-C's SIGINT) to the npm process must reach the product, which drains and exits;
 * nothing may keep serving after npm has gone. Ports 47000-47099 (this file's block), temporary
 * settings database and recordings directory, environment overrides only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portBlock } from '../../support/ports.js';
import { ROOT, exited } from '../../support/product-process.js';
import { until } from '../../support/wait.js';

const ports = portBlock({ from: 47000, to: 47099 }, 0, 100);
const dir = mkdtempSync(join(tmpdir(), 'npm-start-signal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Proc {
  pid: number;
  parent: number;
  /** Scheduler state letter from /proc/<pid>/stat (R running, S sleeping, D disk wait, Z zombie ...). */
  state: string;
  argv: string[];
}

/** `root` and every process under it (children, grandchildren ...), read from /proc. */
function tree(root: number): Proc[] {
  const all: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      all.push({ pid: Number(name), parent: Number(parent), state: state ?? '?', argv });
    } catch {
      // gone meanwhile
    }
  }
  const parentOf = new Map(all.map((p) => [p.pid, p.parent]));
  const under = (pid: number): boolean => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parentOf.get(p)) if (p === root) return true;
    return false;
  };
  return all.filter((p) => under(p.pid));
}

/** Processes under `root` whose command line names the product's entry point. */
function productsUnder(root: number): number[] {
  return tree(root)
    .filter((p) => p.pid !== root && p.argv.includes('dist/app/main.js'))
    .map((p) => p.pid);
}

/** What a start that never said "ready" left behind: each process under npm with its state, and the output so far. */
function startDiagnosis(root: number, since: number, out: string): string {
  const procs = tree(root).map((p) => `  ${p.pid} ${p.state} ${p.argv.join(' ').slice(0, 160)}`);
  return [
    `"ready" from npm start (${Date.now() - since} ms since spawn)`,
    procs.length > 0 ? `processes under npm:\n${procs.join('\n')}` : 'npm (and everything under it) has gone',
    `output so far (${out.length} chars):\n${out.slice(-2000)}`,
  ].join('\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function npmStartThenSignal(signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
  const [sip, drachtio, admin, srs] = ports.take(4);
  const media = ports.take(20);
  const srsRtp = ports.take(10);
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CONFIG_FILE: '',
      LOG_LEVEL: 'info',
      SIP_CONTACTS: `sip:127.0.0.1:${sip};transport=udp,tcp`,
      DRACHTIO_PORT: String(drachtio),
      ADMIN_PORT: String(admin),
      MEDIA_PORT_MIN: String(media[0]),
      MEDIA_PORT_MAX: String(media.at(-1)),
      SRS_SIP_URI: `sip:srs@127.0.0.1:${srs}`,
      SRS_RTP_PORT_MIN: String(srsRtp[0]),
      SRS_RTP_PORT_MAX: String(srsRtp.at(-1)),
      SQLITE_PATH: join(dir, `${signal}.db`),
      RECORDINGS_DIR: join(dir, `recordings-${signal}`),
    },
  });
  const spawnedAt = Date.now();
  const exit = exited(npm);
  let out = '';
  npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let product = 0;
  try {
    // 60 s: a cold start on a loaded 2-core machine (tsx compiling the product's sources) takes 2-5 s
    // alone; the margin is for the rest of the suite running beside it.
    await until(() => out.includes('"msg":"ready"'), () => startDiagnosis(npm.pid!, spawnedAt, out), 60_000, 100);
    product = productsUnder(npm.pid!)[0] ?? 0;
    expect(product, 'the product runs under npm').toBeGreaterThan(0);

    npm.kill(signal);
    const done = await Promise.race([exit, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
    expect(done, `npm start did not end within 20 s of ${signal}\n${out.slice(-2000)}`).toBeDefined();
    await until(() => !alive(product), `the product (pid ${product}) to exit after ${signal} to npm`, 10_000, 100);
    expect(out).toContain(`"signal":"${signal}"`);
    expect(out).toContain('"msg":"drained"');
  } finally {
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    if (product > 0 && alive(product)) process.kill(product, 'SIGKILL');
    await exit;
  }
}

describe('npm start and signals (README run command)', () => {
  it('SIGTERM to npm start reaches the product: it drains and exits, nothing keeps serving', async () => {
    await npmStartThenSignal('SIGTERM');
  }, 100_000);

  it('SIGINT (Ctrl-C) to npm start does the same', async () => {
    await npmStartThenSignal('SIGINT');
  }, 100_000);
});
