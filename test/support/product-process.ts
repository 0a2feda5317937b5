/**
 * The whole product as a child process, the way `npm start` runs it (package.json "start": the
 * build, then `node dist/app/main.js` with CONFIG_FILE=config/embedded.yaml), for integration tests
 * that drive it from outside: only ports and directories are overridden, by environment variables,
 * as a user would (README "Configuration"). Also the SIPp pack runner (sipp-scenarios/pack/, run
 * from a folder holding audio/), the tone files, a copy of config/demo-provisioning.yaml moved to
 * the test's ports, and a reader for the recording server's 16-bit PCM WAV files.
 *
 * Used by test/integration/run-command (the README recipe) and test/integration/hardening
 * (product-fuzz); the load benchmark (bench/load-setup.ts) spawns the product with spawnProduct.
 * Everything started here is killed by the caller's afterAll (`kill()`).
 */
import { spawn, spawnSync, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildSippArgs, type SippOptions } from './sipp.js';
import { sleep } from './wait.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const PACK = join(ROOT, 'sipp-scenarios', 'pack');

/** Every port the product binds (SIP UDP+TCP, engine link, admin API, media, in-process recording server). */
export interface ProductPorts {
  sip: number;
  drachtio: number;
  admin: number;
  mediaMin: number;
  mediaMax: number;
  /** The in-process recording server's SIP port (srs.sipUri). */
  srs: number;
  srsRtpMin: number;
  srsRtpMax: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function exited(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms`)), ms).unref())]);
}

/** The pack's tone files (scripts/make-test-audio.sh): `<dir>/audio/caller.ul` (600 Hz), `callee.ul` (1000 Hz). */
export function makeTestAudio(dir: string): void {
  const audio = spawnSync('bash', [join(ROOT, 'scripts', 'make-test-audio.sh'), join(dir, 'audio')], { encoding: 'utf8', timeout: 15_000 });
  if (audio.status !== 0) throw new Error(`make-test-audio.sh failed (${audio.status}): ${audio.stderr}`);
}

export interface DemoProvisioningPorts {
  /** alice's phone (demo 5070). */
  callee: number;
  /** The carrier, the trunk's source (demo 5080). */
  carrier: number;
  /** The recording server (demo 5090). */
  srs: number;
  /** bob's phone (demo 5071). Default: unchanged. */
  bob?: number;
  /** More `host:port` source entries of the trunk, besides 127.0.0.1:<carrier>. Default none. */
  extraTrunkSources?: readonly string[];
  /** Addresses in place of the demo's 127.0.0.1 (e.g. a test bed in network namespaces). Default 127.0.0.1 for each. */
  hosts?: { callee?: string; carrier?: string; srs?: string; bob?: string };
}

/** Writes `<dir>/provisioning.yaml`: config/demo-provisioning.yaml with its 127.0.0.1 ports moved; returns the path. */
export function writeDemoProvisioning(dir: string, ports: DemoProvisioningPorts): string {
  const h = { callee: '127.0.0.1', carrier: '127.0.0.1', srs: '127.0.0.1', bob: '127.0.0.1', ...ports.hosts };
  let text = readFileSync(join(ROOT, 'config', 'demo-provisioning.yaml'), 'utf8')
    .replaceAll('127.0.0.1:5070', `${h.callee}:${ports.callee}`)
    .replaceAll('127.0.0.1:5080', `${h.carrier}:${ports.carrier}`)
    .replaceAll('127.0.0.1:5090', `${h.srs}:${ports.srs}`);
  text = text.replaceAll('127.0.0.1:5071', `${h.bob}:${ports.bob ?? 5071}`);
  if (ports.extraTrunkSources?.length) {
    const entry = `sourceAddresses: ["${h.carrier}:${ports.carrier}"]`;
    if (!text.includes(entry)) throw new Error(`config/demo-provisioning.yaml no longer has ${entry}`);
    text = text.replace(entry, `sourceAddresses: ${JSON.stringify([`${h.carrier}:${ports.carrier}`, ...ports.extraTrunkSources])}`);
  }
  const path = join(dir, 'provisioning.yaml');
  writeFileSync(path, text);
  return path;
}

export interface ProductSpawnOptions {
  /** Temporary directory: the settings database (data/settings.db) and recordings/ go here. */
  dir: string;
  ports: ProductPorts;
  /** PROVISIONING_FILE (writeDemoProvisioning). */
  provisioningFile: string;
  /** LOG_LEVEL. Default 'info' (startProductProcess's readiness is the "ready" line, so keep info or more verbose there). */
  logLevel?: string;
  /** More environment overrides (e.g. CALLS_MAX_CONCURRENT). */
  env?: Record<string, string>;
  /** node options placed before the entry point (e.g. --expose-gc). Default none. */
  nodeArgs?: readonly string[];
  /**
   * A command the product runs under, e.g. `['ip', 'netns', 'exec', ns]` (test/support/netns.ts);
   * it must exec the product in place (same pid), as `ip netns exec` does. Default none.
   */
  commandPrefix?: readonly string[];
}

/**
 * Builds the product as `npm start` does (`npm run build`: the compiled JavaScript in dist/,
 * incremental, so unchanged sources are not written again); throws with tsc's output when it
 * fails. vitest's global setup (build-product.ts) and the load benchmark call it once before
 * they spawn the product.
 */
export function buildProduct(): void {
  const run = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (run.status !== 0) throw new Error(`npm run build failed (${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`);
}

/**
 * Spawns the product as `npm start` runs it (`node [nodeArgs] dist/app/main.js`, built by
 * buildProduct, cwd the repository, CONFIG_FILE=config/embedded.yaml) with ports, directories and `env` overridden by
 * environment variables only; stdin ignored, stdout and stderr piped. Does not wait for readiness:
 * the caller reads the output and kills the process (startProductProcess, bench/load-setup.ts).
 */
export function spawnProduct(o: ProductSpawnOptions): ChildProcessByStdio<null, Readable, Readable> {
  const p = o.ports;
  const argv = [...(o.commandPrefix ?? []), process.execPath, ...(o.nodeArgs ?? []), 'dist/app/main.js'];
  return spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CONFIG_FILE: 'config/embedded.yaml',
      LOG_LEVEL: o.logLevel ?? 'info',
      SIP_CONTACTS: `sip:127.0.0.1:${p.sip};transport=udp,tcp`,
      DRACHTIO_PORT: String(p.drachtio),
      ADMIN_PORT: String(p.admin),
      MEDIA_PORT_MIN: String(p.mediaMin),
      MEDIA_PORT_MAX: String(p.mediaMax),
      SRS_SIP_URI: `sip:srs@127.0.0.1:${p.srs}`,
      SRS_RTP_PORT_MIN: String(p.srsRtpMin),
      SRS_RTP_PORT_MAX: String(p.srsRtpMax),
      SQLITE_PATH: join(o.dir, 'data', 'settings.db'),
      PROVISIONING_FILE: o.provisioningFile,
      RECORDINGS_DIR: join(o.dir, 'recordings'),
      ...o.env,
    },
  });
}

export interface ProductProcessOptions extends ProductSpawnOptions {
  /** Called with every complete line of the product's stdout / stderr. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Default 15 s. */
  readyTimeoutMs?: number;
}

export interface ProductProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exit: Promise<Exit>;
  /** The last 30 kB of stdout + stderr. */
  log(): string;
  /** True while the process runs. */
  running(): boolean;
  /** SIGKILL (when still running), then waits for the exit. Idempotent. */
  kill(): Promise<void>;
}

/** Starts the product exactly as `npm start` does, with environment overrides only; resolves on its "ready" log line. */
export async function startProductProcess(o: ProductProcessOptions): Promise<ProductProcess> {
  const child = spawnProduct(o);
  const exit = exited(child);
  let tail = '';
  const partial = { stdout: '', stderr: '' };
  let sawReady = false;
  let onReady = (): void => undefined;
  const feed = (stream: 'stdout' | 'stderr') => (d: Buffer): void => {
    const text = d.toString();
    tail = (tail + text).slice(-30_000);
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop()!;
    for (const line of lines) {
      if (!sawReady && line.includes('"msg":"ready"')) {
        sawReady = true;
        onReady();
      }
      o.onLine?.(line, stream);
    }
  };
  child.stdout.on('data', feed('stdout'));
  child.stderr.on('data', feed('stderr'));
  const product: ProductProcess = {
    child,
    pid: child.pid!,
    exit,
    log: () => tail,
    running: () => child.exitCode === null && child.signalCode === null,
    kill: async () => {
      if (product.running()) child.kill('SIGKILL');
      await exit;
    },
  };
  const ready = new Promise<void>((res, rej) => {
    onReady = res;
    if (sawReady) res();
    void exit.then((e) => rej(new Error(`the product exited before ready (${e.code}/${e.signal})\n${tail}`)));
  });
  try {
    await withTimeout(ready, o.readyTimeoutMs ?? 15_000, 'waiting for the "ready" log line');
  } catch (err) {
    await product.kill();
    throw err;
  }
  return product;
}

export interface PackSippOptions extends Pick<SippOptions, 'localIp' | 'mediaIp' | 'transport' | 'keys'> {
  remote?: string;
  service?: string;
  port: number;
  controlPort: number;
  mediaPort: number;
  pauseMs?: number;
  /** SIPp -timeout, seconds (SIPp is killed 10 s later). Default 25. */
  timeoutSec?: number;
  /** A scenario file outside the pack (absolute path); default `<pack>/<name>.xml`. */
  scenarioFile?: string;
  /** A command SIPp runs under, e.g. `['ip', 'netns', 'exec', ns]`. Default none. */
  commandPrefix?: readonly string[];
}

export interface PackSippRun {
  readonly child: ChildProcess;
  /** Exit plus a description (arguments, stderr tail, error log tail) for assertion messages. */
  readonly done: Promise<Exit & { describe: string }>;
}

/** Runs a pack scenario as the README shows it: from `dir` (which holds audio/), exact ports given. */
export function runPackSipp(dir: string, name: string, opts: PackSippOptions): PackSippRun {
  const files = { stat: join(dir, `${name}.stat.csv`), messages: join(dir, `${name}.msg.log`), errors: join(dir, `${name}.err.log`) };
  const timeoutSec = opts.timeoutSec ?? 25;
  const { scenarioFile, commandPrefix, ...sippOpts } = opts;
  const args = buildSippArgs({ scenario: scenarioFile ?? join(PACK, `${name}.xml`), ...sippOpts, timeoutSec }, files);
  const argv = [...(commandPrefix ?? []), 'sipp', ...args];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const kill = setTimeout(() => child.kill('SIGKILL'), (timeoutSec + 10) * 1000);
  const done = exited(child).then((e) => {
    clearTimeout(kill);
    const log = existsSync(files.errors) ? readFileSync(files.errors, 'utf8').slice(-2000) : '';
    return { ...e, describe: `sipp ${args.join(' ')}\nexit=${e.code} signal=${e.signal}\n${stderr}\n${log}` };
  });
  return { child, done };
}

/** SIP, SIPp control and media ports of one SIPp party of the demo call. */
export interface DemoPartyPorts {
  port: number;
  controlPort: number;
  mediaPort: number;
}

/**
 * The demo PSTN call (README "Try it"): the pack's user callee on `callee`, then, `delayMs` later,
 * the carrier on `carrier` calling the demo user (+15550002001) through the product on `sipPort`,
 * talking `pauseMs`. Resolves once both SIPp runs are started.
 */
export async function startDemoCall(
  dir: string,
  o: { sipPort: number; callee: DemoPartyPorts; carrier: DemoPartyPorts; pauseMs: number; timeoutSec?: number; delayMs?: number },
): Promise<{ callee: PackSippRun; caller: PackSippRun }> {
  const timeout = o.timeoutSec === undefined ? {} : { timeoutSec: o.timeoutSec };
  const callee = runPackSipp(dir, 'user-callee', { ...o.callee, ...timeout });
  await sleep(o.delayMs ?? 300);
  const caller = runPackSipp(dir, 'pstn-caller', { remote: `127.0.0.1:${o.sipPort}`, service: '+15550002001', ...o.carrier, pauseMs: o.pauseMs, ...timeout });
  return { callee, caller };
}

export interface PcmWav {
  channels: number;
  rate: number;
  /** Channel `ch` (0-based) as samples. */
  samples: (ch: number) => Int16Array;
}

/** A 16-bit PCM WAV (the recording server's output); throws when it is not one. */
export function readWav(path: string): PcmWav {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF') throw new Error(`${path} is not a RIFF file`);
  let off = 12;
  let channels = 0;
  let rate = 0;
  let data = Buffer.alloc(0);
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(off + 10);
      rate = buf.readUInt32LE(off + 12);
      const bits = buf.readUInt16LE(off + 22);
      if (bits !== 16) throw new Error(`${path}: ${bits} bits per sample, expected 16`);
    } else if (id === 'data') data = buf.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size % 2);
  }
  const frames = Math.floor(data.length / (2 * Math.max(channels, 1)));
  return {
    channels,
    rate,
    samples: (ch) => {
      const out = new Int16Array(frames);
      for (let i = 0; i < frames; i++) out[i] = data.readInt16LE((i * channels + ch) * 2);
      return out;
    },
  };
}

/** Every file under the recordings directory (recordings/<date>/<id>.wav, .json, .metadata*.xml). */
export function recordingFiles(recordingsDir: string): string[] {
  if (!existsSync(recordingsDir)) return [];
  return readdirSync(recordingsDir, { recursive: true, encoding: 'utf8' }).map((f) => join(recordingsDir, f));
}
