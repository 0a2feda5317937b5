/**
 * Malformed SIP at scale: the embedded engine plus an unmodified drachtio-srf app take >= 10,000
 * seeded mutations of a corpus of valid messages (test/fixtures/sip-corpus) over UDP and TCP
 * (several connections, mutated streams split at random points, abrupt closes). Afterwards the
 * process is up with no uncaught exception, the engine counted the malformed input, the heap did
 * not grow from the first half of the run to the second, every transaction and dialog ended once
 * the (shrunk) timers ran, no TCP connection was left behind, no log line carried the app-link
 * secret, and a normal SIPp call succeeds.
 *
 * Reproduce a run with SIP_FUZZ_SEED=<seed> (the seed is in every failure message; 'random' picks
 * one). Ports: 31000-31499 (hardening block 0).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import Srf from 'drachtio-srf';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine, type EngineStats } from '../../../src/engine/index.js';
import { testSdp } from '../../support/engine-harness.js';
import { portBlock, sippPorts } from '../../support/ports.js';
import { SipFuzzer, fuzzSeedFromEnv, loadCorpus, Prng, renderTemplate, type FuzzVariant } from '../../support/sip-fuzzer.js';
import { sipProbe, tcpFuzzSession } from '../../support/sip-fuzz-tcp.js';
import { runSipp, type SippResult } from '../../support/sipp.js';
import { HARDENING_BLOCKS, HARDENING_BLOCK_SIZE, HARDENING_PORTS } from './hardening-ports.js';
import { sleep } from '../../support/wait.js';

const SEED = fuzzSeedFromEnv(0x5eedf00d);
const HALF = { udp: 3000, tcp: 2000 }; // two halves: >= 10,000 variants delivered in all
const T1 = 25; // shrunk RFC 3261 timers: Timer B/F/H/J = 64*T1 = 1.6 s
const SECRET = 'hardening-link-Secret-7Q2x9w';
const WRONG_SECRET = 'hardening-wrong-Secret-4Kp8z';
const HEAP_GROWTH_LIMIT = 8 * 1024 * 1024; // second half vs first half, after GC
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

const block = portBlock(HARDENING_PORTS, HARDENING_BLOCKS.sipFuzz, HARDENING_BLOCK_SIZE);
const SIP_PORT = block.next();
const ADMIN_PORT = block.next();
const UDP_PORTS = block.take(4);
const SIPP = sippPorts(block);
const [PROBE_UDP, PROBE_TCP, DIALOG_PORT] = block.take(3) as [number, number, number];
const TCP_PORT_POOL = block.take(block.remaining);
const LOCAL_MIN = HARDENING_PORTS.from;
const LOCAL_MAX = block.end;
const HOST = '127.0.0.1';
const TARGET = `${HOST}:${SIP_PORT}`;
const seedNote = `SIP_FUZZ_SEED=${SEED}`;

v8.setFlagsFromString('--expose-gc');
const forceGc = vm.runInNewContext('gc') as () => void;

/** Every log line the engine writes passes through here: secrets and error-level lines are noted. */
class LogScan extends Writable {
  lines = 0;
  secretHits: string[] = [];
  errors: string[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const text = chunk.toString('utf8');
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      this.lines++;
      if ((line.includes(SECRET) || line.includes(WRONG_SECRET)) && this.secretHits.length < 5) this.secretHits.push(line.slice(0, 400));
      if (/"level":(50|60)/.test(line) && this.errors.length < 20) this.errors.push(line.slice(0, 600));
    }
    done();
  }
}

/** Status codes / methods the fuzz senders received back. */
const replies = new Map<string, number>();
function tally(data: Buffer): void {
  const text = data.toString('latin1');
  for (const m of text.matchAll(/(?:^|\r\n\r\n)(SIP\/2\.0 (\d{3})|([A-Z]+) sip:)/g)) {
    const key = m[2] ?? m[3] ?? '?';
    replies.set(key, (replies.get(key) ?? 0) + 1);
  }
}

/** The Contact of a request the app may answer 2xx: a loopback address and port of this file, so the
 *  engine's BYE/retransmissions for the dialog stay on 127.0.0.1 in our port range. */
function safeToAnswer(req: Srf.SrfRequest): boolean {
  if (req.has('Record-Route')) return false;
  const contact = req.get('Contact') ?? '';
  const m =
    /^\s*(?:"[^"\r\n]*"\s*)?<sip:[^@<>\s]*@127\.0\.0\.1:(\d{4,5})(?:;transport=(?:udp|tcp))?>\s*(?:;[^\r\n]*)?$/i.exec(contact) ??
    /^\s*sip:[^@<>\s;]*@127\.0\.0\.1:(\d{4,5})\s*$/i.exec(contact);
  const port = m ? Number(m[1]) : 0;
  return port >= LOCAL_MIN && port <= LOCAL_MAX;
}

interface RunState {
  engine: Engine;
  app: Srf;
  logScan: LogScan;
  uncaught: string[];
  appRequests: Record<string, number>;
  appErrors: string[];
  delivered: { udp: number; tcp: number };
  tcpSessions: number;
  tcpConnectFailures: number;
  /** Variant indexes: UDP sends the even ones, TCP the odd ones, so a seed replays the same inputs per transport. */
  nextUdp: number;
  nextTcp: number;
  liveDialogsOpened: number;
  liveDialogFailures: number;
  wrongSecretAccepted: boolean;
  recent: string[];
  statsBefore: EngineStats;
  statsAfter: EngineStats;
  drainMs: number[];
  heap: { first: number; second: number };
  rss: { first: number; second: number };
  tcpHandles: { before: number; after: number };
  probes: { udp: string; tcp: string };
  sipp: SippResult;
  durationMs: number;
}

const fuzzer = new SipFuzzer({ seed: SEED, corpus: loadCorpus() });
let state: RunState;
let udpSockets: UdpSocket[] = [];

function remember(s: RunState, v: FuzzVariant, how: string): void {
  s.recent.push(`${how} ${fuzzer.describe(v)}`);
  if (s.recent.length > 50) s.recent.shift();
}

async function openUdp(port: number): Promise<UdpSocket> {
  const sock = createSocket('udp4');
  sock.on('message', tally);
  sock.on('error', () => undefined);
  await new Promise<void>((resolveBind, rejectBind) => {
    sock.once('error', rejectBind);
    sock.bind(port, HOST, () => resolveBind());
  });
  return sock;
}

/** `count` UDP variants round-robin over the sockets, ~2,000/s at most. */
async function fuzzUdp(s: RunState, count: number): Promise<void> {
  for (let sent = 0; sent < count; ) {
    for (let burst = 0; burst < 20 && sent < count; burst++, sent++) {
      const sock = udpSockets[sent % udpSockets.length]!;
      const v = fuzzer.variant(2 * s.nextUdp++, { target: TARGET, local: `${HOST}:${sock.address().port}`, transport: 'UDP' }, undefined, liveDialogIds);
      remember(s, v, 'udp');
      sock.send(v.data, SIP_PORT, HOST, () => undefined);
      s.delivered.udp++;
    }
    await sleep(10);
    if (sent % 300 < 20) await openLiveDialog(s);
  }
}

/** Established dialogs (valid INVITE + ACK from DIALOG_PORT) that in-dialog variants target. */
interface LiveDialog {
  callId: string;
  fromTag: string;
  toTag: string;
}
const liveDialogs: LiveDialog[] = [];
const IN_DIALOG_TEMPLATES = new Set(['bye', 'info-dtmf', 'refer', 'ack']);
let liveDialogRng = new Prng(SEED ^ 0xd1a1);
let dialogSocket: UdpSocket | undefined;
const dialogReplies: string[] = [];

/** Most in-dialog variants (BYE, INFO, REFER, ACK) get a live dialog's Call-ID and tags, so mutations reach srf's dialogs. */
function liveDialogIds(template: string): Partial<LiveDialog> | undefined {
  if (!IN_DIALOG_TEMPLATES.has(template) || liveDialogs.length === 0 || liveDialogRng.chance(0.3)) return undefined;
  return liveDialogRng.pick(liveDialogs);
}

function dialogRequest(name: string, d: LiveDialog, cseq: number, tag: string): Buffer {
  const template = loadCorpusOnce().find((t) => t.name === name)!;
  const text = renderTemplate(template, { target: TARGET, local: `${HOST}:${DIALOG_PORT}`, transport: 'UDP', ...d, branch: `z9hG4bK-live-${tag}`, cseq });
  return Buffer.from(text, 'latin1');
}

async function openLiveDialog(s: RunState): Promise<void> {
  const sock = dialogSocket!;
  const n = s.liveDialogsOpened++;
  const d: LiveDialog = { callId: `live-${SEED}-${n}`, fromTag: `live${n}`, toTag: '' };
  const from = dialogReplies.length;
  const invite = dialogRequest('invite-sdp', d, 1, `inv-${n}`);
  sock.send(invite, SIP_PORT, HOST);
  const deadline = Date.now() + 2000;
  let ok: string | undefined;
  while (!ok && Date.now() < deadline) {
    ok = dialogReplies.slice(from).find((m) => m.startsWith('SIP/2.0 200') && m.includes(d.callId));
    if (!ok) await sleep(5);
  }
  const toTag = ok ? /^(?:To|t)\s*:[^\r\n]*;tag=([^;\s>\r\n]+)/im.exec(ok)?.[1] : undefined;
  if (!toTag) {
    s.liveDialogFailures++;
    return;
  }
  d.toTag = toTag;
  sock.send(dialogRequest('ack', d, 1, `ack-${n}`), SIP_PORT, HOST);
  liveDialogs.push(d);
}

/** Ends every live dialog with a valid BYE (481 when a fuzzed BYE ended it already). */
async function closeLiveDialogs(): Promise<void> {
  for (const [i, d] of liveDialogs.entries()) dialogSocket!.send(dialogRequest('bye', d, 99_999, `bye-${d.callId}-${i}`), SIP_PORT, HOST);
  liveDialogs.length = 0;
  await sleep(50);
}

/** One TCP connection of variants (test/support/sip-fuzz-tcp.ts), counted in the run state. */
async function tcpSession(s: RunState, localPort: number, budget: number, rng: Prng): Promise<{ written: number; reusable: boolean }> {
  const r = await tcpFuzzSession({
    port: SIP_PORT,
    localPort,
    budget,
    rng,
    onData: tally,
    next: () => {
      const v = fuzzer.variant(2 * s.nextTcp++ + 1, { target: TARGET, local: `${HOST}:${localPort}`, transport: 'TCP' });
      remember(s, v, `tcp:${localPort}`);
      return v;
    },
    valid: () =>
      Buffer.from(
        renderTemplate(loadCorpusOnce().find((t) => t.name === 'invite-sdp')!, {
          target: TARGET,
          local: `${HOST}:${localPort}`,
          transport: 'TCP',
          callId: `cut-${s.nextTcp}`,
          branch: `z9hG4bK-cut-${s.nextTcp}`,
          fromTag: 'cut',
          toTag: 'cut',
          cseq: 1,
        }),
        'latin1',
      ),
  });
  if (r.connected) s.tcpSessions++;
  else s.tcpConnectFailures++;
  return r;
}

let corpusCache: ReturnType<typeof loadCorpus> | undefined;
function loadCorpusOnce(): ReturnType<typeof loadCorpus> {
  corpusCache ??= loadCorpus();
  return corpusCache;
}

/** TCP variants over 4 concurrent connections at a time until `count` were written. */
async function fuzzTcp(s: RunState, count: number, ports: number[], rng: Prng): Promise<void> {
  const target = s.delivered.tcp + count;
  const worker = async (): Promise<void> => {
    while (s.delivered.tcp < target) {
      const port = ports.shift();
      if (port === undefined) throw new Error(`TCP local port pool exhausted (${seedNote})`);
      const r = await tcpSession(s, port, rng.range(5, 60), rng);
      s.delivered.tcp += r.written;
      if (r.reusable) ports.push(port);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

function idle(engine: Engine, base: EngineStats): boolean {
  const st = engine.stats();
  return (
    st.activeServerTransactions === base.activeServerTransactions &&
    st.activeClientTransactions === base.activeClientTransactions &&
    st.activeDialogs === base.activeDialogs
  );
}

/** Waits until every transaction and dialog the fuzz created has ended; returns how long that took. */
async function drain(engine: Engine, base: EngineStats, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while (!idle(engine, base)) {
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`engine did not return to idle in ${timeoutMs} ms: ${JSON.stringify(engine.stats())} (base ${JSON.stringify(base)}; ${seedNote})`);
    }
    await sleep(50);
  }
  return Date.now() - t0;
}

function tcpHandleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

function measure(): { heap: number; rss: number } {
  forceGc();
  forceGc();
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
}

/** A valid request over a fresh socket; resolves with the first status line received. */
function probe(transport: 'UDP' | 'TCP', port: number, method: 'OPTIONS'): Promise<string> {
  const template = loadCorpusOnce().find((t) => t.name === method.toLowerCase())!;
  const text = renderTemplate(template, {
    target: TARGET,
    local: `${HOST}:${port}`,
    transport,
    callId: `probe-${transport}-${Date.now()}`,
    branch: `z9hG4bK-probe-${transport}-${Date.now()}`,
    fromTag: 'probe',
    toTag: 'probe',
    cseq: 1,
  });
  return sipProbe(transport, SIP_PORT, port, Buffer.from(text, 'latin1'));
}

async function connectApp(appRequests: Record<string, number>, appErrors: string[]): Promise<Srf> {
  const srf = new Srf();
  const guard = (verb: string, fn: () => void): void => {
    appRequests[verb] = (appRequests[verb] ?? 0) + 1;
    try {
      fn();
    } catch (err) {
      if (appErrors.length < 20) appErrors.push(`${verb}: ${String(err)}`);
    }
  };
  const send = (res: Srf.SrfResponse, status: number): void => {
    try {
      (res.send as unknown as (s: number) => void).call(res, status);
    } catch (err) {
      if (appErrors.length < 20) appErrors.push(`send ${status}: ${String(err)}`);
    }
  };
  const routes = srf as unknown as Record<string, (h: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void) => void>;
  routes.invite!.call(srf, (req, res) =>
    guard('invite', () => {
      if (!safeToAnswer(req)) return send(res, 488);
      srf
        .createUAS(req, res, { localSdp: testSdp(31990) })
        .then((dialog) => {
          const d = dialog as unknown as { on(event: string, fn: (...args: unknown[]) => void): void };
          d.on('info', (_req, r) => send(r as Srf.SrfResponse, 200));
          d.on('refer', (_req, r) => send(r as Srf.SrfResponse, 202));
          d.on('modify', (_req, r) => send(r as Srf.SrfResponse, 488));
          d.on('error', () => undefined);
        })
        .catch(() => undefined);
    }),
  );
  routes.options!.call(srf, (_req, res) => guard('options', () => send(res, 200)));
  routes.info!.call(srf, (_req, res) => guard('info', () => send(res, 200)));
  // a 2xx to a REFER outside a dialog creates a subscription (RFC 3515) that lives until its final
  // NOTIFY or its expiry; this app does not keep subscriptions, so it declines them
  routes.refer!.call(srf, (_req, res) => guard('refer', () => send(res, 403)));
  srf.on('error', () => undefined);
  await new Promise<void>((resolveConnect, rejectConnect) => {
    const timer = setTimeout(() => rejectConnect(new Error('app did not connect in 5 s')), 5000);
    srf.on('connect', (err: Error | null) => {
      if (err) return;
      clearTimeout(timer);
      resolveConnect();
    });
    void srf.connect({ host: HOST, port: ADMIN_PORT, secret: SECRET });
  });
  await sleep(50);
  return srf;
}

/** An app with the wrong secret: refused, and neither secret may reach a log line. */
async function tryWrongSecret(): Promise<boolean> {
  const srf = new Srf();
  srf.on('error', () => undefined);
  const outcome = await new Promise<boolean>((resolveAuth) => {
    const timer = setTimeout(() => resolveAuth(false), 2000);
    srf.on('connect', (err: Error | null) => {
      clearTimeout(timer);
      resolveAuth(!err);
    });
    void srf.connect({ host: HOST, port: ADMIN_PORT, secret: WRONG_SECRET });
  });
  try {
    srf.disconnect();
  } catch {
    // never connected
  }
  return outcome;
}

/**
 * drachtio-srf reports a request it cannot parse with console.error and drops it (the app never
 * sees it). Those are counted and kept (first lines) instead of flooding the test output.
 */
const srfParseFailures: string[] = [];
let srfParseFailureCount = 0;

beforeAll(async () => {
  const t0 = Date.now();
  const consoleError = console.error;
  console.error = (...args: unknown[]): void => {
    const text = args.map(String).join(' ');
    const at = text.indexOf('unable to parse incoming message: ');
    if (at < 0) return consoleError(...args);
    srfParseFailureCount++;
    if (srfParseFailures.length < 400) srfParseFailures.push(text.slice(at + 34));
  };
  afterAll(() => {
    console.error = consoleError;
  });
  const uncaught: string[] = [];
  const onUncaught = (err: unknown): void => {
    uncaught.push(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n  last variants:\n  ${state?.recent.slice(-5).join('\n  ')}`);
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  afterAll(() => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  });

  const logScan = new LogScan();
  const engine = await startEngine({
    sipContacts: [`sip:${HOST}:${SIP_PORT};transport=udp,tcp`],
    adminHost: HOST,
    adminPort: ADMIN_PORT,
    secret: SECRET,
    logger: pino({ level: 'debug' }, logScan),
    t1: T1,
    t2: 8 * T1,
    t4: 10 * T1,
  });
  const appRequests: Record<string, number> = {};
  const appErrors: string[] = [];
  const app = await connectApp(appRequests, appErrors);
  udpSockets = await Promise.all(UDP_PORTS.map(openUdp));
  dialogSocket = await openUdp(DIALOG_PORT);
  dialogSocket.on('message', (m: Buffer) => dialogReplies.push(m.toString('latin1')));
  liveDialogRng = new Prng(SEED ^ 0xd1a1);
  const statsBefore = engine.stats();
  state = {
    engine,
    app,
    logScan,
    uncaught,
    appRequests,
    appErrors,
    delivered: { udp: 0, tcp: 0 },
    tcpSessions: 0,
    tcpConnectFailures: 0,
    nextUdp: 0,
    nextTcp: 0,
    liveDialogsOpened: 0,
    liveDialogFailures: 0,
    wrongSecretAccepted: false,
    recent: [],
    statsBefore,
    statsAfter: statsBefore,
    drainMs: [],
    heap: { first: 0, second: 0 },
    rss: { first: 0, second: 0 },
    tcpHandles: { before: tcpHandleCount(), after: 0 },
    probes: { udp: '', tcp: '' },
    sipp: undefined as unknown as SippResult,
    durationMs: 0,
  };
  state.wrongSecretAccepted = await tryWrongSecret();

  const rng = new Prng(SEED ^ 0x7cb);
  const ports = [...TCP_PORT_POOL];
  for (const half of ['first', 'second'] as const) {
    await Promise.all([fuzzUdp(state, HALF.udp), fuzzTcp(state, HALF.tcp, ports, rng)]);
    await closeLiveDialogs();
    state.drainMs.push(await drain(engine, statsBefore));
    const m = measure();
    state.heap[half] = m.heap;
    state.rss[half] = m.rss;
  }
  await sleep(200);
  state.tcpHandles.after = tcpHandleCount();
  state.probes.udp = await probe('UDP', PROBE_UDP, 'OPTIONS');
  state.probes.tcp = await probe('TCP', PROBE_TCP, 'OPTIONS');
  state.sipp = await runSipp({ scenario: 'builtin:uac', remote: TARGET, ...SIPP, calls: 1, timeoutSec: 10 });
  state.statsAfter = engine.stats();
  state.durationMs = Date.now() - t0;
}, 120_000);

afterAll(async () => {
  if (process.env.SIP_FUZZ_DUMP) writeFileSync(process.env.SIP_FUZZ_DUMP, JSON.stringify(srfParseFailures));
  for (const s of udpSockets) s.close();
  dialogSocket?.close();
  try {
    state?.app.disconnect();
  } catch {
    // already gone
  }
  await state?.engine.close();
});

describe(`SIP fuzzing at scale (${seedNote})`, () => {
  it('MUST deliver >= 10,000 mutated variants over UDP and TCP, several connections with abrupt closes', () => {
    const d = state.delivered;
    expect(d.udp + d.tcp, seedNote).toBeGreaterThanOrEqual(10_000);
    expect(d.udp, seedNote).toBeGreaterThanOrEqual(2 * HALF.udp);
    expect(d.tcp, seedNote).toBeGreaterThanOrEqual(2 * HALF.tcp);
    expect(state.tcpSessions, seedNote).toBeGreaterThanOrEqual(20);
    // live dialogs were set up, so mutated BYE/INFO/REFER/ACK reached srf's dialogs too
    expect(state.liveDialogsOpened - state.liveDialogFailures, seedNote).toBeGreaterThanOrEqual(10);
    // the engine really processed them: answered many, the app saw some (valid ones), and
    // it read (nearly) all datagrams
    expect(state.statsAfter.messagesReceived - state.statsBefore.messagesReceived, seedNote).toBeGreaterThan(0.5 * d.udp);
    expect((state.appRequests.invite ?? 0) + (state.appRequests.options ?? 0), seedNote).toBeGreaterThan(100);
    console.info(
      `sip-fuzz ${seedNote}: udp=${d.udp} tcp=${d.tcp} tcpSessions=${state.tcpSessions} liveDialogs=${state.liveDialogsOpened}-${state.liveDialogFailures} connectFailures=${state.tcpConnectFailures} ` +
        `app=${JSON.stringify(state.appRequests)} replies=${JSON.stringify(Object.fromEntries(replies))} ` +
        `stats=${JSON.stringify(state.statsAfter)} drainMs=${state.drainMs.join(',')} heapMB=${(state.heap.first / 1048576).toFixed(1)}->${(state.heap.second / 1048576).toFixed(1)} ` +
        `rssMB=${(state.rss.first / 1048576).toFixed(1)}->${(state.rss.second / 1048576).toFixed(1)} logLines=${state.logScan.lines} srfParseFailures=${srfParseFailureCount} durationMs=${state.durationMs}`,
    );
  });

  it('MUST stay up: no uncaught exception or unhandled rejection, no engine error log, the app never failed', () => {
    expect(state.uncaught, seedNote).toEqual([]);
    expect(state.logScan.errors, seedNote).toEqual([]);
    expect(state.appErrors, seedNote).toEqual([]);
    expect(state.probes.udp, seedNote).toBe('SIP/2.0 200 OK');
    expect(state.probes.tcp, seedNote).toBe('SIP/2.0 200 OK');
  });

  it('MUST count the malformed input and answer what it can with 400', () => {
    const before = state.statsBefore;
    const after = state.statsAfter;
    const malformed = after.malformedDropped - before.malformedDropped;
    const answered = after.badRequestsAnswered - before.badRequestsAnswered;
    expect(malformed, seedNote).toBeGreaterThan(500);
    expect(answered, seedNote).toBeGreaterThan(500);
    expect(replies.get('400') ?? 0, seedNote).toBeGreaterThan(500);
  });

  it(`MUST keep memory bounded: heap after GC grows < ${HEAP_GROWTH_LIMIT / 1048576} MiB and RSS < ${RSS_GROWTH_LIMIT / 1048576} MiB from the first half to the second`, () => {
    expect(state.heap.second - state.heap.first, seedNote).toBeLessThan(HEAP_GROWTH_LIMIT);
    expect(state.rss.second - state.rss.first, seedNote).toBeLessThan(RSS_GROWTH_LIMIT);
  });

  it('MUST leak no transaction, dialog or TCP connection once the timers have run', () => {
    // drain() already waited for server/client transactions and dialogs to return to the baseline
    expect(state.drainMs.length, seedNote).toBe(2);
    expect(state.drainMs.every((ms) => ms < 64 * T1 * 2 + 3000), seedNote).toBe(true);
    expect(state.tcpHandles.after, seedNote).toBeLessThanOrEqual(state.tcpHandles.before);
  });

  it('MUST never log the app-link secret (right or wrong), and refuse the wrong one', () => {
    expect(state.logScan.lines, seedNote).toBeGreaterThan(1000); // debug level: every message was logged
    expect(state.logScan.secretHits, seedNote).toEqual([]);
    expect(state.wrongSecretAccepted, seedNote).toBe(false);
  });

  it('MUST hand the app only requests drachtio-srf can parse (engine findings 10-14)', () => {
    const examples = srfParseFailures.slice(0, 5).map((f) => JSON.stringify(f.slice(0, 160)));
    expect(srfParseFailureCount, `${seedNote}; first ones:\n${examples.join('\n')}`).toBe(0);
  });

  it('a normal SIPp call (sipp -sn uac) succeeds after the fuzzing', () => {
    expect(state.sipp.exitCode, state.sipp.describe()).toBe(0);
    expect(state.sipp.stats.successful, state.sipp.describe()).toBe(1);
    expect(idle(state.engine, state.statsBefore) || state.engine.stats().activeDialogs <= state.statsBefore.activeDialogs + 1).toBe(true);
  });
});
