/**
 * Malformed SIP at scale, whole product: the product runs as `npm start` runs it (a child process,
 * config/embedded.yaml, environment overrides only) and takes >= 10,000 seeded mutations of the SIP
 * corpus (test/fixtures/sip-corpus, test/support/sip-fuzzer.ts) over UDP and TCP. Most come from
 * the trunk's source address:port, with the called number moved to the demo user alice, so they
 * pass access control and admission and reach the call layer: mutated From/To/Request-URI, SDP
 * offers and multipart bodies become calls (compliance announcement, media session, leg B to a
 * responder that answers 486). A few live calls (valid INVITE, 200 from the responder, ACK) are
 * kept open during the run and most in-dialog variants (BYE, INFO with DTMF, REFER, ACK) carry
 * their Call-ID and tags. Every response that asks for an ACK gets one, and every request the
 * product sends the test is answered, so nothing waits for the 32 s transaction timers.
 *
 * Afterwards: the process is still up with no uncaught exception and no error-level log line,
 * OPTIONS is answered 200 over UDP and TCP, /v1/metrics shows the engine counted the malformed
 * input and the call layer refused what it had to, calls / dialogs / media sessions / recordings
 * drain to 0, RSS after a forced GC does not grow from the first half of the run to the second,
 * and a normal recorded call made with the SIPp pack succeeds with both tones in its WAV.
 *
 * Reproduce with SIP_FUZZ_SEED=<seed> (in the title and every failure message). A variant is
 * rebuilt on its own with `new SipFuzzer({ seed, corpus: productCorpus() }).variant(index, ...)`
 * (productCorpus below): UDP sends the even indexes, TCP the odd ones. Which in-dialog variants
 * carry a live call's ids depends on timing, not only on the seed. Ports: 30600-30999.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzelPower } from '../../support/goertzel.js';
import {
  makeTestAudio,
  readWav,
  recordingFiles,
  ROOT,
  runPackSipp,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type PackSippRun,
  type ProductProcess,
} from '../../support/product-process.js';
import { sampleValue } from '../../support/prometheus-text.js';
import { ackForFailure, answer, audioSdp, cseqMethod, tagOf, viewSip, type SipMessageView } from '../../support/sip-auto-answer.js';
import { sipProbe, tcpFuzzSession } from '../../support/sip-fuzz-tcp.js';
import { fuzzSeedFromEnv, loadCorpus, Prng, renderTemplate, SipFuzzer, type CorpusTemplate, type FuzzVariant, type TemplateVars } from '../../support/sip-fuzzer.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

const SEED = fuzzSeedFromEnv(0x5eedf00d);
const seedNote = `SIP_FUZZ_SEED=${SEED}`;
/** Variants per half of the run: >= 10,000 in all. */
const HALF = { udp: 3000, tcp: 2200 };
/** Pace (variants per second): the product runs the call layer for many of them on a shared 2-core machine. */
const RATE = { udp: 260, tcp: 190 };
/** Concurrent-call limit of the product (CALLS_MAX_CONCURRENT): 2 media port pairs per call stay within the media range. */
const MAX_CALLS = 36;
const LIVE_TARGET = 3;
/** RSS after GC, second half vs first half. */
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

const HOST = '127.0.0.1';
/** Ports 30600-30999. */
const P = {
  sip: 30600,
  drachtio: 30601,
  admin: 30602,
  srs: 30603,
  carrier: 30610,
  carrierControl: 30611,
  carrierMedia: 30612,
  callee: 30620,
  calleeControl: 30621,
  calleeMedia: 30622,
  bob: 30626,
  mediaMin: 30700,
  mediaMax: 30899,
  srsRtpMin: 30900,
  srsRtpMax: 30999,
} as const;
/** UDP fuzz senders that are trunk sources (the carrier's own port first; it is free again before SIPp uses it). */
const TRUNK_UDP = [P.carrier, 30630, 30631, 30632];
const LIVE_PORT = 30633;
/** TCP fuzz source ports that are trunk sources: reused one connection after another (reset, never FIN). */
const TRUNK_TCP = [30634, 30635, 30636, 30637, 30638, 30639];
/** A trusted source (CALLS_TRUSTED_SOURCES): its INVITEs are classified by caller, and the corpus caller is nobody. */
const TRUSTED_UDP = 30640;
const OTHER_UDP = 30641;
const PROBES = { udpBefore: 30642, tcpBefore: 30643, udpAfter: 30644, tcpAfter: 30645 };
/** Where every SDP of the test points: RTP and RTCP from the product land here and are dropped. */
const SINK = 30646;
const TCP_POOL = Array.from({ length: 50 }, (_, i) => 30650 + i);
const TARGET = `${HOST}:${P.sip}`;
const ALICE = '+15550002001';
/** The caller number of live calls: the responder answers 200 only to it. */
const LIVE_CALLER = '+15557770001';
const CORPUS_CALLER = '+4940987654';

/**
 * The corpus aimed at the demo organisation: the dialled number is alice's (the trunk's INVITEs
 * reach the call layer instead of a 404), the SIPREC INVITE dials her too, and every SDP points at
 * the test's sink. Same lengths for the SDP ports, so Content-Length stays right.
 */
function productCorpus(): CorpusTemplate[] {
  return loadCorpus().map((t) => ({
    name: t.name,
    text: t.text
      .replaceAll('+4930123456', ALICE)
      .replaceAll('sip:srs@{{TARGET}}', `sip:${ALICE}@{{TARGET}}`)
      .replace(/m=audio 319\d\d /g, `m=audio ${SINK} `),
  }));
}

const corpus = productCorpus();
const template = (name: string): CorpusTemplate => corpus.find((t) => t.name === name)!;
const fuzzer = new SipFuzzer({ seed: SEED, corpus });

/** Live calls (leg A is ours, from LIVE_PORT): in-dialog variants take their ids. */
interface LiveCall {
  callId: string;
  fromTag: string;
  toTag: string;
}

interface RunState {
  product: ProductProcess;
  delivered: { udp: number; tcp: number; udpTrunk: number; tcpTrunk: number };
  tcpSessions: number;
  tcpConnectFailures: number;
  nextUdp: number;
  nextTcp: number;
  /** Variants that carried a live call's ids, and REFERs sent without them because their Refer-To was mutated. */
  liveTargeted: number;
  referWithheld: number;
  live: { opened: number; failed: number; endedByProduct: number };
  acksSent: number;
  answered: number;
  legB: { invites: number; answered200: number };
  replies: Map<string, number>;
  /** 5xx responses by status and CSeq method. */
  serverErrors: Map<string, number>;
  recent: string[];
  logLines: number;
  errorLines: string[];
  crashLines: string[];
  warnLines: number;
  warnSamples: string[];
  srfParseFailures: number;
  /** Node's process warnings on stderr (e.g. MaxListenersExceededWarning: a listener leak). */
  nodeWarnings: string[];
  metricsBefore: string;
  metricsAfter: string;
  drain: Array<{ ms: number; figures: Record<string, number | undefined> }>;
  rss: { start: number; first: number; second: number };
  probes: { udpBefore: string; tcpBefore: string; udpAfter: string; tcpAfter: string };
  recordedCall?: { caller: Awaited<PackSippRun['done']>; callee: Awaited<PackSippRun['done']>; wavs: string[] };
  durationMs: number;
}

let dir = '';
let state: RunState;
const sockets: UdpSocket[] = [];
const sipps: PackSippRun[] = [];
const liveCalls: LiveCall[] = [];
const liveRng = new Prng(SEED ^ 0x11fe);

function remember(v: FuzzVariant, how: string): void {
  state.recent.push(`${how} ${fuzzer.describe(v)}`);
  if (state.recent.length > 30) state.recent.shift();
}

function tally(text: string): void {
  for (const m of text.matchAll(/(?:^|\r\n\r\n)SIP\/2\.0 (\d{3})/g)) {
    const status = m[1]!;
    state.replies.set(status, (state.replies.get(status) ?? 0) + 1);
    if (!status.startsWith('5')) continue;
    const head = text.slice(m.index, text.indexOf('\r\n\r\n', m.index + 4) >>> 0);
    const key = `${status} ${/\r\nCSeq:\s*\d+\s+(\w+)/i.exec(head)?.[1] ?? '?'}`;
    state.serverErrors.set(key, (state.serverErrors.get(key) ?? 0) + 1);
  }
}

// ------------------------------------------------------------------ answering the product

function send(sock: UdpSocket, text: string, port: number = P.sip): void {
  sock.send(Buffer.from(text, 'latin1'), port, HOST, () => undefined);
}

/**
 * What every fuzz socket does with what it receives: ACK a non-2xx final response to INVITE (the
 * product stops retransmitting it), answer a request the product sends (486 to a new INVITE, 200
 * with SDP to a re-INVITE, 200 otherwise), ignore the rest.
 */
function autoAnswer(sock: UdpSocket, data: Buffer, from: RemoteInfo): SipMessageView | undefined {
  const text = data.toString('latin1');
  tally(text);
  const m = viewSip(text);
  if (!m) return undefined;
  if (m.status !== undefined) {
    if (m.status >= 300 && cseqMethod(m) === 'INVITE') {
      const ack = ackForFailure(m, `sip:${ALICE}@${TARGET}`);
      if (ack) {
        send(sock, ack, from.port);
        state.acksSent++;
      }
    }
    return m;
  }
  if (m.method === 'ACK') return m;
  const inDialog = tagOf(m.header('To', 't')) !== undefined;
  const contact = `sip:test@${HOST}:${sock.address().port}`;
  const r =
    m.method !== 'INVITE'
      ? answer(m, { status: 200, reason: 'OK', toTag: 'ok' })
      : inDialog
        ? answer(m, { status: 200, reason: 'OK', toTag: 'ok', contact, sdp: audioSdp(SINK, 3) }) // a re-INVITE of a live call
        : answer(m, { status: 486, reason: 'Busy Here', toTag: 'busy' });
  if (r) {
    send(sock, r, from.port);
    state.answered++;
  }
  return m;
}

/** alice's (and bob's) phone: 200 to a live call's INVITE and to re-INVITEs, 486 to every other call, 200 to the rest. */
function respond(sock: UdpSocket, data: Buffer, from: RemoteInfo): void {
  const m = viewSip(data.toString('latin1'));
  if (!m || m.status !== undefined || m.method === 'ACK') return;
  const contact = `sip:alice@${HOST}:${sock.address().port}`;
  const toTag = `r${Buffer.from(m.header('Call-ID', 'i') ?? '').toString('hex').slice(-12)}`;
  let r: string | undefined;
  if (m.method === 'INVITE') {
    const initial = !tagOf(m.header('To', 't'));
    if (initial) state.legB.invites++;
    if (!initial || (m.header('From', 'f') ?? '').includes(LIVE_CALLER)) {
      if (initial) state.legB.answered200++;
      r = answer(m, { status: 200, reason: 'OK', toTag, contact, sdp: audioSdp(SINK, 2) });
    } else r = answer(m, { status: 486, reason: 'Busy Here', toTag });
  } else r = answer(m, { status: 200, reason: 'OK', toTag, contact });
  if (r) send(sock, r, from.port);
}

async function bindUdp(port: number, onMessage: (sock: UdpSocket, data: Buffer, from: RemoteInfo) => void): Promise<UdpSocket> {
  const sock = createSocket('udp4');
  sock.on('message', (d, r) => onMessage(sock, d, r));
  sock.on('error', () => undefined);
  await new Promise<void>((resolveBind, rejectBind) => {
    sock.once('error', rejectBind);
    sock.bind(port, HOST, () => resolveBind());
  });
  sockets.push(sock);
  return sock;
}

async function closeUdp(sock: UdpSocket): Promise<void> {
  const i = sockets.indexOf(sock);
  if (i >= 0) sockets.splice(i, 1);
  await new Promise<void>((r) => sock.close(() => r()));
}

// ------------------------------------------------------------------ live calls

let liveSock: UdpSocket;
const liveWaiters = new Map<string, (m: SipMessageView) => void>();
let liveCounter = 0;

function onLiveMessage(sock: UdpSocket, data: Buffer, from: RemoteInfo): void {
  const m = autoAnswer(sock, data, from);
  if (!m) return;
  const callId = m.header('Call-ID', 'i') ?? '';
  if (m.status !== undefined && m.status >= 200 && cseqMethod(m) === 'INVITE') liveWaiters.get(callId)?.(m);
  if (m.method === 'BYE') {
    const i = liveCalls.findIndex((c) => c.callId === callId);
    if (i >= 0) {
      liveCalls.splice(i, 1);
      state.live.endedByProduct++;
    }
  }
}

function liveRequest(name: string, c: LiveCall, cseq: number, extra: Partial<TemplateVars> = {}): string {
  return renderTemplate(template(name), { target: TARGET, local: `${HOST}:${LIVE_PORT}`, transport: 'UDP', ...c, branch: `z9hG4bK-live-${name}-${c.callId}-${cseq}`, cseq, ...extra }).replaceAll(CORPUS_CALLER, LIVE_CALLER);
}

/** A valid INVITE from the trunk's live port; resolves true once the call is connected and ACKed. */
async function openLiveCall(): Promise<boolean> {
  const n = liveCounter++;
  const c: LiveCall = { callId: `live-${SEED}-${n}`, fromTag: `live${n}`, toTag: '' };
  const final = new Promise<SipMessageView | undefined>((res) => {
    const timer = setTimeout(() => res(undefined), 12_000);
    liveWaiters.set(c.callId, (m) => {
      clearTimeout(timer);
      res(m);
    });
  });
  send(liveSock, liveRequest('invite-sdp', c, 1));
  const m = await final;
  liveWaiters.delete(c.callId);
  const toTag = m?.status === 200 ? tagOf(m.header('To', 't')) : undefined;
  if (!m || !toTag) {
    state.live.failed++;
    return false;
  }
  c.toTag = toTag;
  const contact = /<([^>]+)>/.exec(m.header('Contact', 'm') ?? '')?.[1] ?? `sip:${TARGET}`;
  const ack = liveRequest('ack', c, 1).replace(/^ACK \S+/, `ACK ${contact}`);
  send(liveSock, ack);
  // a retransmitted 200 (our ACK lost) is ACKed again
  liveWaiters.set(c.callId, () => send(liveSock, ack));
  liveCalls.push(c);
  state.live.opened++;
  return true;
}

/** Keeps LIVE_TARGET live calls open while `running()`: drops the ones the admin API lists no more (or as ending), opens new ones one at a time. */
async function keepLiveCalls(running: () => boolean): Promise<void> {
  while (running()) {
    const listed = await fetch(`http://${HOST}:${P.admin}/v1/calls`)
      .then((r) => (r.ok ? (r.json() as Promise<{ calls: Array<{ callId: string; state: string }> }>) : undefined))
      .catch(() => undefined);
    if (listed) {
      // a call leaves the list once it has ended (just after our 200 + ACK it may still read 'dialling')
      const present = new Set(listed.calls.filter((x) => x.state !== 'ending' && x.state !== 'ended').map((x) => x.callId));
      for (let i = liveCalls.length - 1; i >= 0; i--) if (!present.has(liveCalls[i]!.callId)) liveCalls.splice(i, 1);
    }
    if (liveCalls.length < LIVE_TARGET) await openLiveCall();
    else await sleep(300);
  }
}

/** A valid BYE for every live call (481 when a fuzzed BYE ended it already). */
async function closeLiveCalls(): Promise<void> {
  for (const c of liveCalls.splice(0)) send(liveSock, liveRequest('bye', c, 99_999));
  await sleep(100);
}

// ------------------------------------------------------------------ variants

const IN_DIALOG = new Set(['bye', 'info-dtmf', 'refer', 'ack']);

/**
 * Variant `index` for a sender; most in-dialog variants get a live call's ids. A REFER that reaches
 * a live call makes the product dial its Refer-To, so one whose Refer-To line was mutated (it could
 * name another host, port or a name to resolve) is sent without the live ids instead: all traffic
 * stays on this test's 127.0.0.1 ports.
 */
function variantFor(index: number, local: number, transport: 'UDP' | 'TCP'): FuzzVariant {
  const addressing = { target: TARGET, local: `${HOST}:${local}`, transport } as const;
  let used = false;
  const v = fuzzer.variant(index, addressing, undefined, (name) => {
    if (!IN_DIALOG.has(name) || liveCalls.length === 0 || liveRng.chance(0.3)) return undefined;
    used = true;
    return liveRng.pick(liveCalls);
  });
  if (!used) return v;
  if (v.template === 'refer' && !referToIntact(v)) {
    state.referWithheld++;
    return fuzzer.variant(index, addressing);
  }
  state.liveTargeted++;
  return v;
}

function referToIntact(v: FuzzVariant): boolean {
  const expected = renderTemplate(template('refer'), v.vars)
    .split('\r\n')
    .find((l) => l.startsWith('Refer-To:'));
  const lines = v.data.toString('latin1').split(/\r\n|\r|\n/).filter((l) => /^\s*(refer-to|r)\s*:/i.test(l));
  return lines.length === 1 && lines[0] === expected;
}

// ------------------------------------------------------------------ senders

/** Paces a sender to `rate` per second from `t0`. */
async function pace(sent: number, rate: number, t0: number): Promise<void> {
  const due = t0 + (sent * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
}

async function fuzzUdp(count: number, senders: UdpSocket[]): Promise<void> {
  const t0 = Date.now();
  for (let sent = 0; sent < count; sent++) {
    const sock = senders[sent % senders.length]!;
    const port = sock.address().port;
    const v = variantFor(2 * state.nextUdp++, port, 'UDP');
    remember(v, `udp:${port}`);
    sock.send(v.data, P.sip, HOST, () => undefined);
    state.delivered.udp++;
    if (TRUNK_UDP.includes(port)) state.delivered.udpTrunk++;
    if (sent % 8 === 7) await pace(sent, RATE.udp, t0);
  }
}

async function fuzzTcp(count: number, trunkPorts: number[], poolPorts: number[], rng: Prng): Promise<void> {
  const target = state.delivered.tcp + count;
  const t0 = Date.now();
  const start = state.delivered.tcp;
  const worker = async (k: number): Promise<void> => {
    while (state.delivered.tcp < target) {
      const trunk = k % 2 === 0;
      const ports = trunk ? trunkPorts : poolPorts;
      const localPort = ports.shift();
      if (localPort === undefined) throw new Error(`TCP local port pool exhausted (${seedNote})`);
      const r = await tcpFuzzSession({
        port: P.sip,
        localPort,
        budget: rng.range(5, 40),
        rng,
        gracefulClose: !trunk,
        next: () => {
          const v = variantFor(2 * state.nextTcp++ + 1, localPort, 'TCP');
          remember(v, `tcp:${localPort}`);
          return v;
        },
        valid: () =>
          Buffer.from(
            renderTemplate(template('invite-sdp'), { target: TARGET, local: `${HOST}:${localPort}`, transport: 'TCP', callId: `cut-${SEED}-${state.nextTcp}`, branch: `z9hG4bK-cut-${state.nextTcp}`, fromTag: 'cut', toTag: '', cseq: 1 }),
            'latin1',
          ),
        onData: (d) => tally(d.toString('latin1')),
      });
      if (r.connected) state.tcpSessions++;
      else if (++state.tcpConnectFailures > 100) throw new Error(`more than 100 TCP connects to the product failed (${seedNote})`);
      state.delivered.tcp += r.written;
      if (trunk) state.delivered.tcpTrunk += r.written;
      // the few trunk ports are always reused (they never close gracefully); a pool port after a FIN is not
      if (r.reusable || trunk) ports.push(localPort);
      await pace(state.delivered.tcp - start, RATE.tcp, t0);
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
}

// ------------------------------------------------------------------ product figures

async function metricsText(): Promise<string> {
  const res = await fetch(`http://${HOST}:${P.admin}/v1/metrics`);
  if (!res.ok) throw new Error(`GET /v1/metrics: ${res.status}`);
  return res.text();
}

const m = (text: string, name: string, labels: Record<string, string> = {}): number => sampleValue(text, `siprec_b2bua_${name}`, labels) ?? Number.NaN;

/** What must be back to 0 once the run is over. */
function openFigures(text: string): Record<string, number> {
  return {
    calls: m(text, 'active_calls'),
    dialogs: m(text, 'sip_dialogs'),
    mediaSessions: m(text, 'media_sessions'),
    srsRecordings: m(text, 'srs_recordings'),
    srsDialogs: m(text, 'srs_sip_dialogs'),
  };
}

async function drain(timeoutMs = 20_000): Promise<{ ms: number; figures: Record<string, number | undefined> }> {
  const t0 = Date.now();
  for (;;) {
    const text = await metricsText();
    const figures = {
      ...openFigures(text),
      serverTransactions: m(text, 'sip_transactions', { role: 'server' }),
      clientTransactions: m(text, 'sip_transactions', { role: 'client' }),
      portsInUse: m(text, 'media_ports_in_use'),
    };
    if (Object.values(openFigures(text)).every((v) => v === 0)) return { ms: Date.now() - t0, figures };
    if (Date.now() - t0 > timeoutMs) throw new Error(`calls/dialogs/media did not drain in ${timeoutMs} ms: ${JSON.stringify(figures)} (${seedNote})`);
    await sleep(250);
  }
}

/** VmRSS of the product, bytes, after two full GCs (node --expose-gc plus bench/gc-on-signal.mjs: SIGUSR2 runs gc()). */
async function productRss(pid: number): Promise<number> {
  for (let i = 0; i < 2; i++) {
    process.kill(pid, 'SIGUSR2');
    await sleep(300);
  }
  await sleep(500);
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

function optionsProbe(transport: 'UDP' | 'TCP', localPort: number): Promise<string> {
  const text = renderTemplate(template('options'), {
    target: TARGET,
    local: `${HOST}:${localPort}`,
    transport,
    callId: `probe-${transport}-${localPort}-${SEED}`,
    branch: `z9hG4bK-probe-${transport}-${localPort}`,
    fromTag: 'probe',
    toTag: 'probe',
    cseq: 1,
  });
  return sipProbe(transport, P.sip, localPort, Buffer.from(text, 'latin1'));
}

/** One line of the product's output: JSON log lines by level; stderr lines that are not JSON (drachtio-srf's parse failures). */
function onProductLine(line: string, stream: 'stdout' | 'stderr'): void {
  if (!state) return;
  state.logLines++;
  if (/uncaught exception|unhandled rejection|UnhandledPromiseRejection|FATAL ERROR|JavaScript heap out of memory/i.test(line) && state.crashLines.length < 20) {
    state.crashLines.push(line.slice(0, 800));
  }
  const level = /^\{"level":(\d+)/.exec(line)?.[1];
  if (level !== undefined) {
    if (Number(level) >= 50 && state.errorLines.length < 20) state.errorLines.push(line.slice(0, 800));
    else if (Number(level) === 40 && ++state.warnLines <= 3) state.warnSamples.push(line.slice(0, 300));
  } else if (stream === 'stderr' && line.includes('unable to parse incoming message')) state.srfParseFailures++;
  else if (/^\(node:\d+\) \w*Warning/.test(line) && state.nodeWarnings.length < 20) state.nodeWarnings.push(line.slice(0, 400));
}

// ------------------------------------------------------------------ the run

beforeAll(async () => {
  const t0 = Date.now();
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'product-fuzz-'));
  makeTestAudio(dir);
  const provisioningFile = writeDemoProvisioning(dir, {
    callee: P.callee,
    carrier: P.carrier,
    srs: P.srs,
    bob: P.bob,
    extraTrunkSources: [...TRUNK_UDP.slice(1), LIVE_PORT, ...TRUNK_TCP].map((p) => `${HOST}:${p}`),
  });
  state = {
    product: undefined as unknown as ProductProcess,
    delivered: { udp: 0, tcp: 0, udpTrunk: 0, tcpTrunk: 0 },
    tcpSessions: 0,
    tcpConnectFailures: 0,
    nextUdp: 0,
    nextTcp: 0,
    liveTargeted: 0,
    referWithheld: 0,
    live: { opened: 0, failed: 0, endedByProduct: 0 },
    acksSent: 0,
    answered: 0,
    legB: { invites: 0, answered200: 0 },
    replies: new Map(),
    serverErrors: new Map(),
    recent: [],
    logLines: 0,
    errorLines: [],
    crashLines: [],
    warnLines: 0,
    warnSamples: [],
    srfParseFailures: 0,
    nodeWarnings: [],
    metricsBefore: '',
    metricsAfter: '',
    drain: [],
    rss: { start: 0, first: 0, second: 0 },
    probes: { udpBefore: '', tcpBefore: '', udpAfter: '', tcpAfter: '' },
    durationMs: 0,
  };
  state.product = await startProductProcess({
    dir,
    ports: P,
    provisioningFile,
    logLevel: 'info',
    // test-only: a full GC on SIGUSR2, so RSS is compared after a collection (as bench/load-soak.ts does)
    nodeArgs: ['--expose-gc', '--import', join(ROOT, 'bench', 'gc-on-signal.mjs')],
    env: { CALLS_MAX_CONCURRENT: String(MAX_CALLS), CALLS_TRUSTED_SOURCES: `${HOST}:${TRUSTED_UDP}`, CALLS_RING_TIMEOUT_MS: '5000' },
    onLine: onProductLine,
  });
  state.probes.udpBefore = await optionsProbe('UDP', PROBES.udpBefore);
  state.probes.tcpBefore = await optionsProbe('TCP', PROBES.tcpBefore);
  state.metricsBefore = await metricsText();
  state.rss.start = await productRss(state.product.pid);

  const responders = [await bindUdp(P.callee, respond), await bindUdp(P.bob, respond)];
  await bindUdp(SINK, () => undefined);
  await bindUdp(SINK + 1, () => undefined);
  liveSock = await bindUdp(LIVE_PORT, onLiveMessage);
  const trunkSenders = await Promise.all(TRUNK_UDP.map((p) => bindUdp(p, autoAnswer)));
  const otherSenders = await Promise.all([TRUSTED_UDP, OTHER_UDP].map((p) => bindUdp(p, autoAnswer)));
  const senders = [...trunkSenders.slice(0, 2), otherSenders[0]!, ...trunkSenders.slice(2), otherSenders[1]!];

  const rng = new Prng(SEED ^ 0x7cb);
  const trunkTcp = [...TRUNK_TCP];
  const poolTcp = [...TCP_POOL];
  for (const half of ['first', 'second'] as const) {
    let fuzzing = true;
    const keeper = keepLiveCalls(() => fuzzing);
    await Promise.all([fuzzUdp(HALF.udp, senders), fuzzTcp(HALF.tcp, trunkTcp, poolTcp, rng)]);
    fuzzing = false;
    await keeper;
    await closeLiveCalls();
    state.drain.push(await drain());
    state.rss[half] = await productRss(state.product.pid);
  }
  state.metricsAfter = await metricsText();
  state.probes.udpAfter = await optionsProbe('UDP', PROBES.udpAfter);
  state.probes.tcpAfter = await optionsProbe('TCP', PROBES.tcpAfter);

  // a normal recorded call with the SIPp pack, on the carrier's and alice's own ports
  await Promise.all([...trunkSenders, ...otherSenders, ...responders, liveSock].map(closeUdp));
  const recordingsDir = join(dir, 'recordings');
  const before = new Set(recordingFiles(recordingsDir));
  const callee = runPackSipp(dir, 'user-callee', { port: P.callee, controlPort: P.calleeControl, mediaPort: P.calleeMedia, timeoutSec: 20 });
  sipps.push(callee);
  await sleep(300);
  const caller = runPackSipp(dir, 'pstn-caller', {
    remote: TARGET,
    service: ALICE,
    port: P.carrier,
    controlPort: P.carrierControl,
    mediaPort: P.carrierMedia,
    pauseMs: 3000,
    timeoutSec: 20,
  });
  sipps.push(caller);
  const callerDone = await caller.done;
  const calleeDone = await withTimeout(callee.done, 10_000, 'callee');
  let wavs: string[] = [];
  for (let i = 0; i < 50 && wavs.length === 0; i++) {
    const fresh = recordingFiles(recordingsDir).filter((f) => !before.has(f));
    if (fresh.some((f) => f.endsWith('.json'))) wavs = fresh.filter((f) => f.endsWith('.wav'));
    else await sleep(100);
  }
  state.recordedCall = { caller: callerDone, callee: calleeDone, wavs };
  state.durationMs = Date.now() - t0;
}, 85_000);

afterAll(async () => {
  for (const s of sipps) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await Promise.all(sockets.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  await state?.product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`whole-product SIP fuzzing (${seedNote})`, () => {
  it('MUST take >= 10,000 mutated variants over UDP and TCP, most from the trunk, reaching the call layer and live dialogs', () => {
    const d = state.delivered;
    const before = state.metricsBefore;
    const after = state.metricsAfter;
    const callsAdmitted = m(after, 'calls_total', { direction: 'inbound-pstn' }) - (m(before, 'calls_total', { direction: 'inbound-pstn' }) || 0);
    console.info(
      `product-fuzz ${seedNote}: udp=${d.udp} (trunk ${d.udpTrunk}) tcp=${d.tcp} (trunk ${d.tcpTrunk}) tcpSessions=${state.tcpSessions} connectFailures=${state.tcpConnectFailures} ` +
        `live=${JSON.stringify(state.live)} liveTargeted=${state.liveTargeted} referWithheld=${state.referWithheld} legB=${JSON.stringify(state.legB)} ` +
        `admitted=${callsAdmitted} acks=${state.acksSent} answered=${state.answered} replies=${JSON.stringify(Object.fromEntries(state.replies))} 5xx=${JSON.stringify(Object.fromEntries(state.serverErrors))} ` +
        `malformed=${m(after, 'sip_malformed_total', { action: 'dropped' })}/${m(after, 'sip_malformed_total', { action: 'answered' })} ` +
        `drain=${JSON.stringify(state.drain)} rssMB=${[state.rss.start, state.rss.first, state.rss.second].map((b) => (b / 1048576).toFixed(1)).join('->')} ` +
        `logLines=${state.logLines} warn=${state.warnLines} ${JSON.stringify(state.warnSamples)} srfParseFailures=${state.srfParseFailures} nodeWarnings=${JSON.stringify(state.nodeWarnings)} durationMs=${state.durationMs}`,
    );
    expect(d.udp + d.tcp, seedNote).toBeGreaterThanOrEqual(10_000);
    expect(d.udpTrunk + d.tcpTrunk, seedNote).toBeGreaterThan(0.5 * (d.udp + d.tcp));
    expect(state.tcpSessions, seedNote).toBeGreaterThanOrEqual(50);
    // mutated INVITEs became calls: admitted, announced, leg B dialled
    expect(callsAdmitted, seedNote).toBeGreaterThan(100);
    expect(state.legB.invites, seedNote).toBeGreaterThan(50);
    // live calls were set up, so mutated BYE / INFO / REFER / ACK reached the call layer's dialogs
    expect(state.live.opened, seedNote).toBeGreaterThanOrEqual(4);
    expect(state.liveTargeted, seedNote).toBeGreaterThan(200);
  });

  it('MUST stay up: process alive, no uncaught exception or unhandled rejection, no error-level log line', () => {
    expect(state.product.running(), state.product.log().slice(-3000)).toBe(true);
    expect(state.crashLines, seedNote).toEqual([]);
    expect(state.errorLines, seedNote).toEqual([]);
    expect(state.nodeWarnings.filter((w) => /MaxListenersExceeded/.test(w)), seedNote).toEqual([]);
  });

  it('MUST answer OPTIONS with 200 over UDP and TCP, before and after the run (RFC 3261 section 11: keep-alive pings)', () => {
    expect(state.probes.udpBefore, seedNote).toBe('SIP/2.0 200 OK');
    expect(state.probes.tcpBefore, seedNote).toBe('SIP/2.0 200 OK');
    expect(state.probes.udpAfter, `${seedNote}; before the run: ${state.probes.udpBefore}`).toBe('SIP/2.0 200 OK');
    expect(state.probes.tcpAfter, `${seedNote}; before the run: ${state.probes.tcpBefore}`).toBe('SIP/2.0 200 OK');
  });

  it('MUST count the malformed input in /v1/metrics and refuse what it cannot take with 4xx', () => {
    const before = state.metricsBefore;
    const after = state.metricsAfter;
    const delta = (name: string, labels: Record<string, string> = {}): number => m(after, name, labels) - (m(before, name, labels) || 0);
    expect(delta('sip_malformed_total', { action: 'dropped' }), seedNote).toBeGreaterThan(500);
    expect(delta('sip_malformed_total', { action: 'answered' }), seedNote).toBeGreaterThan(500);
    expect(delta('sip_messages_total', { direction: 'in' }), seedNote).toBeGreaterThan(0.5 * state.delivered.udp);
    expect(state.replies.get('400') ?? 0, seedNote).toBeGreaterThan(500);
    const rejected4xx = [...state.replies.entries()].filter(([s]) => s.startsWith('4')).reduce((n, [, c]) => n + c, 0);
    expect(rejected4xx, seedNote).toBeGreaterThan(1000);
  });

  it(`MUST drain calls, dialogs, media sessions and recordings to 0 and keep RSS after GC within +${RSS_GROWTH_LIMIT / 1048576} MiB from the first half to the second`, () => {
    expect(state.drain.length, seedNote).toBe(2);
    expect(openFigures(state.metricsAfter), seedNote).toEqual({ calls: 0, dialogs: 0, mediaSessions: 0, srsRecordings: 0, srsDialogs: 0 });
    expect(m(state.metricsAfter, 'media_ports_in_use'), seedNote).toBe(0);
    expect(state.rss.second - state.rss.first, seedNote).toBeLessThan(RSS_GROWTH_LIMIT);
  });

  it('a normal recorded call with the SIPp pack succeeds afterwards: exit 0 and a WAV with both tones', () => {
    const r = state.recordedCall!;
    expect(r.caller.code, r.caller.describe).toBe(0);
    expect(r.callee.code, r.callee.describe).toBe(0);
    expect(r.wavs, seedNote).toHaveLength(1);
    const wav = readWav(r.wavs[0]!);
    expect(wav.channels).toBe(2);
    expect(wav.rate).toBe(8000);
    const label1 = wav.samples(0);
    const label2 = wav.samples(1);
    expect(label1.length, 'at least 2 s recorded').toBeGreaterThan(16_000);
    // label 1 is the PSTN caller (600 Hz, audio/caller.ul), label 2 alice (1000 Hz, audio/callee.ul), as in the run-command test
    expect(goertzelPower(label1, 600)).toBeGreaterThan(10 * goertzelPower(label1, 1000));
    expect(goertzelPower(label2, 1000)).toBeGreaterThan(10 * goertzelPower(label2, 600));
  });
});
