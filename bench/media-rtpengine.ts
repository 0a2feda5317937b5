/**
 * rtpengine as the reference anchor for bench:media: start Debian's rtpengine-daemon in userspace
 * on 127.0.0.1 (installing it with apt-get when missing), and set up recorded calls over its ng
 * protocol: offer/answer for the two legs, then two subscribe request/answer pairs that fork what
 * each leg sends to the fake recording server.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { CallPorts, CallTargets } from './media-loadgen.js';
import { sleep } from '../test/support/wait.js';

interface NgClient {
  offer(port: number, host: string, opts: Record<string, unknown>): Promise<Record<string, unknown>>;
  answer(port: number, host: string, opts: Record<string, unknown>): Promise<Record<string, unknown>>;
  subscribeRequest(port: number, host: string, opts: Record<string, unknown>): Promise<Record<string, unknown>>;
  subscribeAnswer(port: number, host: string, opts: Record<string, unknown>): Promise<Record<string, unknown>>;
  ping(port: number, host: string): Promise<Record<string, unknown>>;
  close(): void;
}

const require = createRequire(import.meta.url);

export interface RtpengineOptions {
  ngPort: number;
  portMin: number;
  portMax: number;
}

export function rtpengineBinary(): string | undefined {
  for (const p of ['/usr/bin/rtpengine', '/usr/sbin/rtpengine', '/usr/local/bin/rtpengine']) if (existsSync(p)) return p;
  return undefined;
}

/** Install rtpengine-daemon (Debian bookworm) when missing; returns the binary or undefined. */
export function ensureRtpengine(log: (s: string) => void): string | undefined {
  const found = rtpengineBinary();
  if (found) return found;
  log('rtpengine not found: apt-get install -y rtpengine-daemon');
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', '-qq', 'rtpengine-daemon'], { stdio: 'inherit', env });
  } catch (err) {
    log(`could not install rtpengine-daemon: ${(err as Error).message}`);
  }
  return rtpengineBinary();
}

export class RtpengineUnderTest {
  readonly #proc: ChildProcess;
  readonly #client: NgClient;
  readonly #opts: RtpengineOptions;

  private constructor(proc: ChildProcess, client: NgClient, opts: RtpengineOptions) {
    this.#proc = proc;
    this.#client = client;
    this.#opts = opts;
  }

  static async start(binary: string, opts: RtpengineOptions): Promise<RtpengineUnderTest> {
    const proc = spawn(
      binary,
      [
        '--config-file=none',
        '--table=-1',
        '--interface=127.0.0.1',
        `--listen-ng=127.0.0.1:${opts.ngPort}`,
        `--port-min=${opts.portMin}`,
        `--port-max=${opts.portMax}`,
        '--num-threads=1',
        '--foreground',
        '--log-stderr',
        '--log-level=3',
        '--timeout=600',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const { Client } = require('rtpengine-client') as { Client: new (opts: Record<string, unknown>) => NgClient };
    const client = new Client({ timeout: 3000, host: '127.0.0.1', port: 0 });
    for (let i = 0; i < 50; i++) {
      if (proc.exitCode !== null) throw new Error(`rtpengine exited: ${stderr}`);
      try {
        await client.ping(opts.ngPort, '127.0.0.1');
        return new RtpengineUnderTest(proc, client, opts);
      } catch {
        await sleep(100);
      }
    }
    proc.kill('SIGTERM');
    throw new Error(`rtpengine did not answer ping: ${stderr}`);
  }

  get pid(): number {
    return this.#proc.pid ?? 0;
  }

  /** CPU seconds (user + system, all threads) from /proc. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  async #ng(verb: keyof NgClient, opts: Record<string, unknown>): Promise<Record<string, unknown>> {
    const fn = this.#client[verb] as (p: number, h: string, o: Record<string, unknown>) => Promise<Record<string, unknown>>;
    const res = await fn.call(this.#client, this.#opts.ngPort, '127.0.0.1', opts);
    if (res.result !== 'ok') throw new Error(`rtpengine ${verb}: ${JSON.stringify(res)}`);
    return res;
  }

  /** Set up one recorded call; returns where the parties must send. */
  async setupCall(index: number, ports: CallPorts): Promise<CallTargets> {
    const callId = `bench-${index}`;
    const common = { 'call-id': callId, flags: ['trust-address'], replace: ['origin', 'session-connection'], ICE: 'remove' };
    const offer = await this.#ng('offer', { ...common, 'from-tag': 'a', sdp: sdp(ports.a, 'sendrecv') });
    const toB = sdpPort(offer.sdp);
    const answer = await this.#ng('answer', { ...common, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(ports.b, 'sendrecv') });
    const toA = sdpPort(answer.sdp);
    for (const [tag, port] of [
      ['a', ports.f1],
      ['b', ports.f2],
    ] as const) {
      const req = await this.#ng('subscribeRequest', { 'call-id': callId, 'from-tag': tag, flags: ['SIPREC'] });
      await this.#ng('subscribeAnswer', { 'call-id': callId, 'to-tag': req['to-tag'], sdp: sdp(port, 'recvonly') });
    }
    return { toA, toB };
  }

  async stop(): Promise<void> {
    this.#client.close();
    if (this.#proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#proc.kill('SIGKILL');
        resolve();
      }, 3000);
      this.#proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.#proc.kill('SIGTERM');
    });
  }
}

function sdp(port: number, dir: string): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=${dir}`, ''].join('\r\n');
}

function sdpPort(body: unknown): number {
  const m = /m=audio (\d+)/.exec(String(body));
  if (!m) throw new Error(`no m=audio in ${String(body)}`);
  return Number(m[1]);
}
