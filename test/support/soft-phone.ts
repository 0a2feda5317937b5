/**
 * A real SIP phone driven by a test (baresip-phone.ts, linphone-phone.ts): it runs in a network
 * namespace, plays a WAV file as its microphone, records what it hears to a WAV file, auto-answers
 * incoming calls, and is told what to do through its console (stdin). Each phone watches its own
 * console output for call events.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { exited } from './product-process.js';

export type SipTransportName = 'udp' | 'tcp';

export type PhoneEvent = 'established' | 'ended' | 'held' | 'resumed';

export interface SoftPhoneOptions {
  /** argv prefix that runs the phone inside its namespace (Netns.prefixFor). */
  commandPrefix: readonly string[];
  /** Private directory for its configuration and files (a fresh temporary directory). */
  dir: string;
  /** The address the phone's SIP and RTP bind (its own interface address). */
  address: string;
  /** SIP port (UDP and TCP). */
  sipPort: number;
  /** SIP identity user part, e.g. the user's number '+15550002001'. */
  user: string;
  /** Domain of its From / AOR (the B2BUA's address). */
  domain: string;
  /** Mono 8 kHz 16-bit WAV the phone plays as its microphone. */
  sourceWav: string;
}

export interface SoftPhone {
  readonly name: string;
  /** Calls `uri` (add ';transport=tcp' for TCP). */
  dial(uri: string): void;
  /** Puts the call on hold (a re-INVITE with a=sendonly) / takes it off hold. */
  hold(): void;
  resume(): void;
  /** Ends the call (BYE, or CANCEL before the answer). */
  hangup(): void;
  /** Resolves when the `n`-th event of that kind has been seen (counting from the phone's start). */
  waitFor(event: PhoneEvent, timeoutMs: number, n?: number): Promise<void>;
  /** How many times the event was seen so far. */
  count(event: PhoneEvent): number;
  /** The WAV of what the phone heard in its last call (read it after the call ended). */
  heardWav(): string;
  /** The console output so far (for assertion messages). */
  log(): string;
  /** Quits the phone (kills it when it does not exit within a second). Idempotent. */
  close(): Promise<void>;
}

/** The console plumbing the two phones share: output buffer, event patterns, waiting, closing. */
export class PhoneConsole {
  #out = '';
  readonly #counts = new Map<PhoneEvent, number>();
  readonly #waiters = new Set<() => void>();
  readonly #exit: Promise<unknown>;

  constructor(
    readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    private readonly patterns: Readonly<Record<PhoneEvent, RegExp>>,
  ) {
    this.#exit = exited(child);
    let partial = '';
    const feed = (d: Buffer): void => {
      const text = d.toString('utf8');
      this.#out = (this.#out + text).slice(-200_000);
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.#line(line);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.stdin.on('error', () => undefined);
    void this.#exit.then(() => this.#wake());
  }

  #line(line: string): void {
    for (const [event, re] of Object.entries(this.patterns) as [PhoneEvent, RegExp][]) {
      if (re.test(line)) this.#counts.set(event, (this.#counts.get(event) ?? 0) + 1);
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(line: string): void {
    if (this.running()) this.child.stdin.write(`${line}\n`);
  }

  count(event: PhoneEvent): number {
    return this.#counts.get(event) ?? 0;
  }

  log(): string {
    return this.#out;
  }

  waitFor(name: string, event: PhoneEvent, timeoutMs: number, n = 1): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.count(event) >= n) done(undefined);
        else if (!this.running()) done(new Error(`${name} exited before '${event}' #${n}\n${this.#out.slice(-4000)}`));
      };
      const timer = setTimeout(() => done(new Error(`${name}: no '${event}' #${n} within ${timeoutMs} ms\n${this.#out.slice(-4000)}`)), timeoutMs);
      const done = (err: Error | undefined): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Sends `quit` lines, then SIGKILL after `graceMs`; resolves on exit. */
  async close(quit: readonly string[], graceMs = 1500): Promise<void> {
    if (this.running()) for (const line of quit) this.send(line);
    const timer = setTimeout(() => {
      if (this.running()) this.child.kill('SIGKILL');
    }, graceMs);
    await this.#exit;
    clearTimeout(timer);
  }
}
