/**
 * A reusable SIPp runner for integration tests and benchmarks.
 *
 * It spawns `sipp` with an explicit local address, SIP/control/media ports and trace files in a
 * fresh temporary directory, waits for it to end (or stops it after a hard timeout), and returns
 * the exit code, the final statistics row (-trace_stat), the message trace (-trace_msg) parsed into
 * messages, and the unexpected-message log (-trace_err).
 *
 * SIPp exit codes (SIPp reference, "Exit codes"): 0 every call succeeded, 1 at least one call
 * failed, 97 exit on an internal command, 99 normal exit without any call processed,
 * 255 (-1) fatal error, 254 (-2) fatal error binding a socket.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './wait.js';
import { boundPorts } from './ports.js';

/** SIPp transport modes: UDP/TCP with one socket, or one socket per call. */
export type SippTransport = 'u1' | 'un' | 't1' | 'tn';

export interface SippOptions {
  /** Path of an XML scenario, or `builtin:<name>` for an embedded one (`builtin:uac`, `builtin:uas`). */
  scenario: string;
  /** `host:port` to send to; omit when SIPp only answers (UAS). */
  remote?: string;
  /** Local SIP address (-i) and media address (-mi). Default 127.0.0.1. */
  localIp?: string;
  mediaIp?: string;
  /** Local SIP port (-p). Required: tests never let SIPp pick its default 5060. */
  port: number;
  /** Local UDP control port (-cp). Required: the default 8888 would collide between parallel runs. */
  controlPort: number;
  /** Local RTP echo/media port (-mp); SIPp also uses mp+2. Unset means SIPp's default 6000, which parallel runs
   *  would share: set it whenever the scenario echoes or plays media. */
  mediaPort?: number;
  /** Echo received RTP (-rtp_echo). Default false. */
  rtpEcho?: boolean;
  /** Stop after this many calls (-m). Default 1. */
  calls?: number;
  /** Call rate (-r) per `ratePeriodMs` (-rp, default 1000 ms). Default SIPp's 10. */
  rate?: number;
  ratePeriodMs?: number;
  /** Maximum simultaneous calls (-l). */
  limit?: number;
  /** Duration of `<pause/>` without attributes (-d), ms. */
  pauseMs?: number;
  /** Global timeout (-timeout, seconds). Default 20. With `timeoutError` (default true) SIPp fails when it is reached. */
  timeoutSec?: number;
  timeoutError?: boolean;
  /** Global receive timeout (-recv_timeout, ms). */
  recvTimeoutMs?: number;
  /** Maximum sockets (-max_socket). */
  maxSocket?: number;
  /** Transport (-t). Default u1. */
  transport?: SippTransport;
  /** -key name value pairs, substituted as [name] in the scenario. */
  keys?: Record<string, string | number>;
  /** Request-URI user (-s). */
  service?: string;
  /** Write the message trace (-trace_msg). Default true; turn it off under load. */
  traceMessages?: boolean;
  /** Kill SIPp after this long, ms. Default (timeoutSec + 10) s. */
  hardTimeoutMs?: number;
  /** Statistics dump period (-fd), seconds. Default 1. */
  statFrequencySec?: number;
  /** Keep the temporary trace directory (also when the env var SIPP_KEEP_TRACES is set). Default false. */
  keepFiles?: boolean;
  /** More raw arguments, appended last. */
  extraArgs?: string[];
}

/** Cumulative counters from SIPp's final statistics row. */
export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  /** Retransmissions SIPp itself sent (its peer was slow or lost a message). */
  retransmissions: number;
  outOfCallMessages: number;
  deadCallMessages: number;
  failedUnexpectedMessage: number;
  failedTimeoutOnRecv: number;
  failedMaxUdpRetrans: number;
  failedCallRejected: number;
  /** Every column of the final row, by header name. */
  raw: Record<string, string>;
}

/** One SIP message from the -trace_msg log. */
export interface SippMessage {
  direction: 'sent' | 'received';
  transport: string;
  /** The SIP message, CRLF line ends as on the wire. */
  text: string;
  startLine: string;
  /** Request method, or undefined for responses. */
  method?: string;
  /** Response status, or undefined for requests. */
  status?: number;
  /** The CSeq method (tells a 200 to INVITE from a 200 to BYE). */
  cseqMethod?: string;
  callId?: string;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the hard timeout killed SIPp. */
  killed: boolean;
  stats: SippStats;
  messages: SippMessage[];
  messageLog: string;
  errorLog: string;
  stdout: string;
  stderr: string;
  args: string[];
  /** A multi-line summary for assertion messages. */
  describe(): string;
}

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Path of a scenario under sipp-scenarios/<folder>/ (default folder `engine`). */
export function scenarioPath(name: string, folder = 'engine'): string {
  const file = name.endsWith('.xml') ? name : `${name}.xml`;
  return join(REPO_ROOT, 'sipp-scenarios', folder, file);
}

let sippChecked = false;

/** Throws a clear error when the `sipp` binary is missing. */
export function assertSippInstalled(): void {
  if (sippChecked) return;
  const probe = spawnSync('sipp', ['-v'], { encoding: 'utf8', timeout: 5000 });
  if (probe.error) {
    const reason = (probe.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found on PATH' : probe.error.message;
    throw new Error(
      `SIPp is required by this test but \`sipp\` is ${reason}. Install it (Debian/Ubuntu: apt-get install sip-tester) ` +
        'or run `npm run test:all`, which installs the test tools.',
    );
  }
  sippChecked = true;
}

/** Builds the argument list (exported for tests of the runner itself). */
export function buildSippArgs(options: SippOptions, files: { stat: string; messages: string; errors: string }): string[] {
  const localIp = options.localIp ?? '127.0.0.1';
  const args: string[] = [];
  if (options.scenario.startsWith('builtin:')) args.push('-sn', options.scenario.slice('builtin:'.length));
  else args.push('-sf', options.scenario);
  if (options.remote) args.push(options.remote);
  args.push('-i', localIp, '-mi', options.mediaIp ?? localIp);
  args.push('-p', String(options.port), '-cp', String(options.controlPort));
  if (options.mediaPort !== undefined) args.push('-mp', String(options.mediaPort));
  if (options.rtpEcho) args.push('-rtp_echo');
  args.push('-t', options.transport ?? 'u1');
  args.push('-m', String(options.calls ?? 1));
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.ratePeriodMs !== undefined) args.push('-rp', String(options.ratePeriodMs));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.pauseMs !== undefined) args.push('-d', String(options.pauseMs));
  const timeoutSec = options.timeoutSec ?? 20;
  args.push('-timeout', `${timeoutSec}s`);
  if (options.timeoutError ?? true) args.push('-timeout_error');
  if (options.recvTimeoutMs !== undefined) args.push('-recv_timeout', String(options.recvTimeoutMs));
  if (options.maxSocket !== undefined) args.push('-max_socket', String(options.maxSocket));
  if (options.service !== undefined) args.push('-s', options.service);
  for (const [key, value] of Object.entries(options.keys ?? {})) args.push('-key', key, String(value));
  args.push('-nostdin');
  args.push('-trace_stat', '-stf', files.stat, '-fd', String(options.statFrequencySec ?? 1));
  args.push('-trace_err', '-error_file', files.errors);
  if (options.traceMessages ?? true) args.push('-trace_msg', '-message_file', files.messages);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Parses the last row of a -trace_stat CSV (`;`-separated, header first). */
export function parseSippStats(csv: string): SippStats {
  const lines = csv.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const header = lines[0]?.split(';') ?? [];
  const last = lines.length > 1 ? (lines[lines.length - 1]?.split(';') ?? []) : [];
  const raw: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name) raw[name] = last[i] ?? '';
  });
  const num = (name: string): number => {
    const v = Number(raw[name]);
    return Number.isFinite(v) ? v : 0;
  };
  return {
    created: num('TotalCallCreated'),
    successful: num('SuccessfulCall(C)'),
    failed: num('FailedCall(C)'),
    retransmissions: num('Retransmissions(C)'),
    outOfCallMessages: num('OutOfCallMsgs(C)'),
    deadCallMessages: num('DeadCallMsgs(C)'),
    failedUnexpectedMessage: num('FailedUnexpectedMessage(C)'),
    failedTimeoutOnRecv: num('FailedTimeoutOnRecv(C)'),
    failedMaxUdpRetrans: num('FailedMaxUDPRetrans(C)'),
    failedCallRejected: num('FailedCallRejected(C)'),
    raw,
  };
}

const TRACE_SEPARATOR = /^-{20,} .*$/m;
const TRACE_HEADER = /^(\w+) message (sent|received)\b[^\n]*\n/;

/** Parses a -trace_msg log into messages (each entry: separator line, "UDP message sent (n bytes):", blank, message). */
export function parseSippMessages(log: string): SippMessage[] {
  const messages: SippMessage[] = [];
  for (const chunk of log.split(TRACE_SEPARATOR)) {
    const body = chunk.replace(/^\r?\n/, '');
    const head = TRACE_HEADER.exec(body);
    if (!head) continue;
    const text = body.slice(head[0].length).replace(/^\r?\n/, '').replace(/\n+$/, '\n');
    const startLine = (text.split(/\r?\n/)[0] ?? '').trim();
    if (!startLine) continue;
    const message: SippMessage = {
      direction: head[2] === 'sent' ? 'sent' : 'received',
      transport: head[1] ?? '',
      text,
      startLine,
    };
    const status = /^SIP\/2\.0 (\d{3})/.exec(startLine);
    if (status) message.status = Number(status[1]);
    else message.method = startLine.split(' ')[0];
    const cseq = /^(?:CSeq)\s*:\s*\d+\s+(\S+)/im.exec(text);
    if (cseq) message.cseqMethod = cseq[1]!.toUpperCase();
    const callId = /^(?:Call-ID|i)\s*:\s*(\S+)/im.exec(text);
    if (callId) message.callId = callId[1];
    messages.push(message);
  }
  return messages;
}

/** Messages matching a direction and a method or a status (optionally the CSeq method). */
export function findMessages(
  messages: SippMessage[],
  filter: { direction?: 'sent' | 'received'; method?: string; status?: number; cseqMethod?: string },
): SippMessage[] {
  return messages.filter(
    (m) =>
      (filter.direction === undefined || m.direction === filter.direction) &&
      (filter.method === undefined || m.method === filter.method) &&
      (filter.status === undefined || m.status === filter.status) &&
      (filter.cseqMethod === undefined || m.cseqMethod === filter.cseqMethod),
  );
}

/** The value of the first header `name` (case-insensitive, compact form allowed) of a SIP message text. */
export function headerOf(text: string, name: string, compact?: string): string | undefined {
  const names = compact ? `${name}|${compact}` : name;
  const m = new RegExp(`^(?:${names})[ \\t]*:[ \\t]*(.*)$`, 'im').exec(text);
  return m?.[1]?.trim();
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** True when something is bound to `port` on the given protocol (Linux /proc/net). */

/** A running SIPp. `done` resolves (never rejects) when it has exited and its files are read. */
export class SippProcess {
  readonly args: string[];
  readonly done: Promise<SippResult>;
  private readonly child: ChildProcess;
  private readonly options: SippOptions;
  private exited = false;

  constructor(options: SippOptions) {
    assertSippInstalled();
    if (!options.scenario.startsWith('builtin:') && !existsSync(options.scenario)) {
      throw new Error(`SIPp scenario not found: ${options.scenario}`);
    }
    this.options = options;
    const dir = mkdtempSync(join(tmpdir(), `sipp-${basename(options.scenario, '.xml').replace(/[^\w-]/g, '_')}-`));
    const files = { stat: join(dir, 'stat.csv'), messages: join(dir, 'messages.log'), errors: join(dir, 'errors.log') };
    this.args = buildSippArgs(options, files);
    const child = spawn('sipp', this.args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stdout = '';
    let stderr = '';
    // SIPp redraws its screen on stdout; keep only the tail.
    child.stdout?.on('data', (d: Buffer) => {
      stdout = (stdout + d.toString('utf8')).slice(-20_000);
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-20_000);
    });
    const hardTimeoutMs = options.hardTimeoutMs ?? ((options.timeoutSec ?? 20) + 10) * 1000;
    let killed = false;
    const hard = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, hardTimeoutMs);
    const keep = options.keepFiles ?? Boolean(process.env.SIPP_KEEP_TRACES);
    this.done = new Promise<SippResult>((resolveDone) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
        clearTimeout(hard);
        this.exited = true;
        const statCsv = readIfExists(files.stat);
        const messageLog = readIfExists(files.messages);
        const errorLog = readIfExists(files.errors);
        if (!keep) rmSync(dir, { recursive: true, force: true });
        const stats = parseSippStats(statCsv);
        const messages = parseSippMessages(messageLog);
        const args = this.args;
        const result: SippResult = {
          exitCode: code,
          signal,
          killed,
          stats,
          messages,
          messageLog,
          errorLog,
          stdout,
          stderr: spawnError ? `${stderr}\n${spawnError.message}` : stderr,
          args,
          describe: () =>
            [
              `sipp ${args.join(' ')}`,
              `exit=${code} signal=${signal} killed=${killed}${keep ? ` traces kept in ${dir}` : ''}`,
              `calls created=${stats.created} ok=${stats.successful} failed=${stats.failed} retrans=${stats.retransmissions} ` +
                `unexpected=${stats.failedUnexpectedMessage} recvTimeout=${stats.failedTimeoutOnRecv} maxUdpRetrans=${stats.failedMaxUdpRetrans} ` +
                `outOfCall=${stats.outOfCallMessages} dead=${stats.deadCallMessages}`,
              `flow: ${messages.map((m) => `${m.direction === 'sent' ? '>' : '<'}${m.method ?? `${m.status}/${m.cseqMethod ?? ''}`}`).join(' ')}`,
              stderr.trim() ? `stderr: ${stderr.trim().split('\n').slice(-15).join('\n')}` : '',
              errorLog.trim() ? `errors.log (tail): ${errorLog.trim().slice(-3000)}` : '',
            ]
              .filter(Boolean)
              .join('\n'),
        };
        resolveDone(result);
      };
      child.once('error', (err) => finish(null, null, err));
      child.once('exit', (code, signal) => finish(code, signal));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves once SIPp has bound its SIP port (so a peer can send to it); rejects if it exits first. */
  async ready(timeoutMs = 5000): Promise<void> {
    const protocol = (this.options.transport ?? 'u1').startsWith('t') ? 'tcp' : 'udp';
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) {
        const result = await this.done;
        throw new Error(`SIPp exited before it was ready\n${result.describe()}`);
      }
      if (boundPorts([protocol]).has(this.options.port)) return;
      await sleep(20);
    }
    throw new Error(`SIPp did not bind ${protocol} port ${this.options.port} within ${timeoutMs} ms`);
  }

  /** Asks SIPp to quit through its control port ('q'), then kills it if it is still running after `graceMs`. */
  async stop(graceMs = 3000): Promise<SippResult> {
    if (!this.exited) {
      const sock = createSocket('udp4');
      await new Promise<void>((r) => sock.send('q', this.options.controlPort, this.options.localIp ?? '127.0.0.1', () => r()));
      sock.close();
      const timer = setTimeout(() => {
        if (!this.exited) this.child.kill('SIGKILL');
      }, graceMs);
      const result = await this.done;
      clearTimeout(timer);
      return result;
    }
    return this.done;
  }
}

/** Starts SIPp and returns at once (use for a SIPp UAS the app will call). */
export function startSipp(options: SippOptions): SippProcess {
  return new SippProcess(options);
}

/** Runs SIPp to completion. */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  return new SippProcess(options).done;
}
