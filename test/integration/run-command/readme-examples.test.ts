/**
 * README's "Try it", run as written: `npm start` on its embedded defaults and the demo settings, the
 * commands of its code blocks (tone files, the two SIPp terminals, the two curl lines) taken from
 * README.md itself, so the README cannot drift from what works. Everything runs in a network
 * namespace of its own, where the default ports (5060, 5070, 5080, 5090, 8080, 9022) are free even
 * while another copy of the product runs on them. Only the settings database and the recordings
 * directory are moved (environment), into a temporary directory; the SIPp pack is copied there so
 * the tone files are not written into the repository.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireNetns } from '../../support/netns.js';
import { ROOT, exited, readWav, recordingFiles } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep, until } from '../../support/wait.js';

/** The indented code lines of README's "Try it" section, trailing comments removed. */
function tryItCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Try it'), readme.indexOf('\n## ', readme.indexOf('## Try it') + 1));
  return section
    .split('\n')
    .filter((line) => line.startsWith('    '))
    .map((line) => line.trim().replace(/\s+# .*$/, ''));
}

const commands = tryItCommands();
const command = (prefix: string): string => {
  const found = commands.find((c) => c.startsWith(prefix));
  if (!found) throw new Error(`README's "Try it" has no command starting with "${prefix}": ${JSON.stringify(commands)}`);
  return found;
};

let netns: Netns | undefined;
let ns = '';
let dir = '';
let product: ChildProcess | undefined;
let productLog = '';
const children: ChildProcess[] = [];

/** Runs a README command line with bash inside the namespace, from the copied pack folder. */
function inNs(line: string): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', line], { cwd: join(dir, 'sipp-scenarios', 'pack'), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

async function output(child: ChildProcess): Promise<{ code: number | null; out: string }> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const e = await exited(child);
  return { code: e.code, out };
}

beforeAll(async () => {
  requireNetns();
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'readme-examples-'));
  netns = new Netns(`readme${process.pid}`);
  ns = netns.add('host');
  cpSync(join(ROOT, 'sipp-scenarios', 'pack'), join(dir, 'sipp-scenarios', 'pack'), { recursive: true });
  symlinkSync(join(ROOT, 'scripts'), join(dir, 'scripts'));
  mkdirSync(join(dir, 'data'));

  const env: NodeJS.ProcessEnv = { ...process.env, SQLITE_PATH: join(dir, 'data', 'settings.db'), RECORDINGS_DIR: join(dir, 'recordings') };
  delete env.CONFIG_FILE;
  for (const key of Object.keys(env)) if (/^(SIP_|ADMIN_|MEDIA_|SRS_|DRACHTIO_|CALLS_|STORE_|PROVISIONING_)/.test(key)) delete env[key];
  product = spawn('ip', ['netns', 'exec', ns, 'npm', 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  product.stdout!.on('data', (d: Buffer) => (productLog = (productLog + d.toString()).slice(-50_000)));
  product.stderr!.on('data', (d: Buffer) => (productLog = (productLog + d.toString()).slice(-50_000)));
  await until(() => productLog.includes('"msg":"ready"'), `npm start to be ready\n${productLog.slice(-3000)}`, 30_000, 100);
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (product && product.exitCode === null) {
    product.kill('SIGTERM');
    await Promise.race([exited(product), sleep(10_000)]);
  }
  // whatever still runs in the namespace (nothing, when npm start passed the signal on) goes too
  if (ns) spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).forEach((pid) => spawnSync('kill', ['-9', pid]));
  netns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README "Try it": every command runs as written against the demo settings', () => {
  it('records the demo PSTN call to alice, lists it and pauses its recording with the curl lines', async () => {
    const audio = await output(inNs(command('bash ../../scripts/make-test-audio.sh')));
    expect(audio.code, audio.out).toBe(0);

    const callee = output(inNs(command('sipp -sf user-callee.xml')));
    await sleep(500);
    const caller = output(inNs(command('sipp -sf pstn-caller.xml')));

    // the first curl line: wait until it lists the call with its recording on
    let call: { id: string; recording?: { state?: string } } | undefined;
    await until(
      () => {
        const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', command('curl http://127.0.0.1:8080/v1/calls')], { encoding: 'utf8' });
        const calls = r.status === 0 ? ((JSON.parse(r.stdout) as { calls: Array<typeof call> }).calls ?? []) : [];
        call = calls.find((c) => c?.recording?.state === 'recording');
        return call !== undefined;
      },
      `the call in GET /v1/calls with its recording on\n${productLog.slice(-3000)}`,
      15_000,
      200,
    );

    // the second curl line, with the id the first one showed
    const pause = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', `${command('curl -X POST').replace('<call-id>', call!.id)} -s -o /dev/stderr -w '%{http_code}'`], { encoding: 'utf8' });
    expect(pause.stdout, pause.stderr).toBe('200');

    const [c1, c2] = await Promise.all([caller, callee]);
    expect(c1.code, c1.out.slice(-2000)).toBe(0);
    expect(c2.code, c2.out.slice(-2000)).toBe(0);

    const recordings = join(dir, 'recordings');
    await until(() => recordingFiles(recordings).some((f) => f.endsWith('.json')), `the recording summary in ${recordings}`, 10_000, 100);
    const wav = recordingFiles(recordings).find((f) => f.endsWith('.wav'))!;
    expect(readWav(wav).channels).toBe(2);
    const summary = JSON.parse(readFileSync(wav.replace(/\.wav$/, '.json'), 'utf8')) as { pauses?: unknown[] };
    expect(summary.pauses?.length, JSON.stringify(summary)).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(ROOT, 'sipp-scenarios', 'pack', 'audio'))).toBe(false);
  }, 90_000);
});
