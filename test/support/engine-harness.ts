/**
 * Engine test harness: the SIP engine under test plus unmodified drachtio-srf apps connected to it.
 *
 * By default it starts the embedded engine (src/engine) on 127.0.0.1 with shrunk RFC 3261 timers.
 * The very same scenarios and assertions run against drachtio-server, the reference implementation
 * (docs/engine.md, "Conformance with drachtio-server"):
 * - DRACHTIO_BIN=<binary>: each harness starts its own server on the harness's ports with the same
 *   shrunk timers (drachtio-server-process.ts), so files run in parallel as they do embedded;
 * - DRACHTIO_HOST, DRACHTIO_PORT, DRACHTIO_SECRET: a server already running, shared by every file (run
 *   the files one at a time: `npm run test:engine-parity` does). The SIP address comes from
 *   DRACHTIO_SIP (`host:port`) or from the hostports srf reports on connect; its timers are
 *   drachtio-server's defaults unless DRACHTIO_T1/T2/T4 give them.
 * Engine counters (stats()) exist only when embedded.
 *
 * Apps can be connected through a LinkRelay, a TCP relay the test can cut and restore, to simulate a
 * lost app connection: srf reconnects by itself once the relay accepts connections again.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import Srf from 'drachtio-srf';
import { startEngine, type Engine, type EngineStats, type NatFlowPolicy } from '../../src/engine/index.js';
import { startDrachtioServer } from './drachtio-server-process.js';
import { sleep, until } from './wait.js';

export type SrfRequest = Srf.SrfRequest;
export type SrfResponse = Srf.SrfResponse;
export type SrfDialog = Srf.Dialog;
export type RequestHandler = (req: SrfRequest, res: SrfResponse) => void;

export interface HarnessOptions {
  /** SIP port of the embedded engine (udp and tcp). Ignored with an external server. */
  sipPort: number;
  /** App-protocol port of the embedded engine. Ignored with an external server. */
  adminPort: number;
  /** Transports of the embedded engine's contact. Default 'udp,tcp'. */
  transports?: string;
  /** RFC 3261 timers for the embedded engine, ms. Defaults T1 100, T2 800, T4 1000 (shrunk, so loss cases run fast). */
  t1?: number;
  t2?: number;
  t4?: number;
  /** Largest SIP message the embedded engine accepts. Default: the engine's own (65535). */
  maxMessageBytes?: number;
  /** The embedded engine's NAT mode per dialog peer (src/engine/nat-flow.ts). Default: the engine's own ('detect'). */
  natFlow?: NatFlowPolicy;
}

export interface ConnectAppOptions {
  /** Verbs the app routes (srf.<verb>(handler) before connect). Default ['invite']. */
  routes?: string[];
  /** Connect through this relay (see LinkRelay) instead of directly. */
  relay?: LinkRelay;
}

/** A drachtio-srf app connected to the engine; request handlers can be swapped per test. */
export interface TestApp {
  readonly srf: Srf;
  /** hostports from srf's 'connect' event, e.g. ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060']. */
  readonly hostports: string[];
  /** Sets (or clears) the handler for a routed verb. Requests with no handler get 500. */
  handle(verb: string, handler: RequestHandler | undefined): void;
  /** Resolves after the next successful (re)connect. */
  nextConnect(timeoutMs?: number): Promise<void>;
  /** Disconnects for good (no reconnect). Idempotent. */
  close(): Promise<void>;
}

export interface EngineHarness {
  readonly mode: 'embedded' | 'external';
  /** Where SIP traffic goes (the engine's UDP/TCP listen point). */
  readonly sipHost: string;
  readonly sipPort: number;
  /** `host:port`, the SIPp remote argument. */
  readonly target: string;
  /** The timers the server under test runs with, ms (docs/engine.md, divergences `dialog-timers-from-t1` and `invite-retransmit-interval`). */
  readonly timers: ServerTimers;
  /** The embedded engine, undefined when external. */
  readonly engine: Engine | undefined;
  /** App-protocol address apps connect to. */
  readonly admin: { host: string; port: number; secret: string };
  /** Engine counters, undefined when external. */
  stats(): EngineStats | undefined;
  connectApp(options?: ConnectAppOptions): Promise<TestApp>;
  /** Closes every app and the embedded engine. Idempotent. */
  close(): Promise<void>;
}

/**
 * RFC 3261 T1/T2/T4 of the transaction layer, and two figures drachtio-server does not derive from
 * them: `ackWaitMs`, how long a UAS retransmits its 2xx waiting for the ACK before it sends BYE
 * (64*T1 on the engine; drachtio-server runs it on its built-in 500 ms T1: 32 s), and
 * `inviteRetransmitMs`, when a client INVITE over UDP is first retransmitted (T1 on the engine;
 * about 1 s on drachtio-server whatever T1 is configured).
 */
export interface ServerTimers {
  t1: number;
  t2: number;
  t4: number;
  ackWaitMs: number;
  inviteRetransmitMs: number;
}

const engineTimers = (t: { t1: number; t2: number; t4: number }): ServerTimers => ({ ...t, ackWaitMs: 64 * t.t1, inviteRetransmitMs: t.t1 });
const drachtioTimers = (t: { t1: number; t2: number; t4: number }): ServerTimers => ({ ...t, ackWaitMs: 64 * 500, inviteRetransmitMs: 1000 });

const LOCALHOST = '127.0.0.1';

/**
 * res.send with the argument shapes srf really accepts: (status), (status, reason), (status, opts),
 * (status, opts, callback, prackCallback), (status, reason, opts, callback). srf's bundled types know fewer.
 */
export function sendResponse(res: SrfResponse, status: number, ...rest: unknown[]): void {
  (res.send as unknown as (...args: unknown[]) => void).call(res, status, ...rest);
}
const SECRET = 'conformance-secret';

/**
 * True when the tests run against drachtio-server rather than the embedded engine: one the harness
 * starts itself (DRACHTIO_BIN) or one already running (DRACHTIO_HOST, DRACHTIO_PORT, DRACHTIO_SECRET).
 */
export function externalServerConfigured(): boolean {
  return Boolean(process.env.DRACHTIO_BIN) || Boolean(process.env.DRACHTIO_HOST && process.env.DRACHTIO_PORT && process.env.DRACHTIO_SECRET);
}

function parseHostports(hostport: string | undefined): string[] {
  return (hostport ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** 'udp/127.0.0.1:5060' -> { host, port } for the first entry of the wanted protocol. */
function sipAddressFrom(hostports: string[], protocol = 'udp'): { host: string; port: number } | undefined {
  for (const hp of hostports) {
    const m = /^(\w+)\/(.+):(\d+)$/.exec(hp);
    if (m && m[1]!.toLowerCase() === protocol) return { host: m[2]!, port: Number(m[3]) };
  }
  return undefined;
}

async function connectTestApp(
  admin: { host: string; port: number; secret: string },
  options: ConnectAppOptions,
): Promise<TestApp> {
  const srf = new Srf();
  const handlers = new Map<string, RequestHandler>();
  const routes = options.routes ?? ['invite'];
  const srfAny = srf as unknown as Record<string, (h: RequestHandler) => void>;
  for (const verb of routes) {
    const register = srfAny[verb];
    if (typeof register !== 'function') throw new Error(`srf has no method to route '${verb}'`);
    register.call(srf, (req, res) => {
      const handler = handlers.get(verb);
      if (handler) handler(req, res);
      else sendResponse(res, 500, 'No Test Handler');
    });
  }
  // srf re-emits socket errors; without a listener EventEmitter would throw.
  srf.on('error', () => undefined);
  let hostports: string[] = [];
  const connectWaiters: Array<() => void> = [];
  srf.on('connect', (err: Error | null, hostport: string) => {
    if (err) return;
    hostports = parseHostports(hostport);
    for (const w of connectWaiters.splice(0)) w();
  });
  const first = new Promise<void>((resolveFirst, rejectFirst) => {
    const timer = setTimeout(() => rejectFirst(new Error(`app did not connect to ${admin.host}:${admin.port} in 5 s`)), 5000);
    connectWaiters.push(() => {
      clearTimeout(timer);
      resolveFirst();
    });
  });
  const target = options.relay ? { host: LOCALHOST, port: options.relay.port } : admin;
  void srf.connect({ host: target.host, port: target.port, secret: admin.secret });
  await first;
  // The route frames were written before 'connect' fired; give the server a moment to apply them.
  await sleep(50);
  let closed = false;
  return {
    srf,
    get hostports() {
      return hostports;
    },
    handle(verb, handler) {
      if (!routes.includes(verb)) throw new Error(`the app does not route '${verb}' (routes: ${routes.join(',')})`);
      if (handler) handlers.set(verb, handler);
      else handlers.delete(verb);
    },
    nextConnect(timeoutMs = 5000) {
      return new Promise<void>((resolveNext, rejectNext) => {
        const timer = setTimeout(() => rejectNext(new Error(`app did not reconnect within ${timeoutMs} ms`)), timeoutMs);
        connectWaiters.push(() => {
          clearTimeout(timer);
          resolveNext();
        });
      }).then(() => sleep(50));
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        srf.disconnect();
      } catch {
        // already disconnected (e.g. through a cut relay)
      }
      await sleep(20);
    },
  };
}

/** A harness over drachtio-server: no engine object and no counters; `stopServer` runs after the apps close. */
function externalHarness(
  admin: { host: string; port: number; secret: string },
  sip: { host: string; port: number },
  timers: ServerTimers,
  stopServer: () => Promise<void>,
): EngineHarness {
  const apps: TestApp[] = [];
  let closed = false;
  return {
    mode: 'external',
    sipHost: sip.host,
    sipPort: sip.port,
    target: `${sip.host}:${sip.port}`,
    timers,
    engine: undefined,
    admin,
    stats: () => undefined,
    async connectApp(appOptions = {}) {
      const app = await connectTestApp(admin, appOptions);
      apps.push(app);
      return app;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const app of apps) await app.close();
      await stopServer();
    },
  };
}

/** Starts the engine under test (or attaches to the external server named in the environment). */
export async function startHarness(options: HarnessOptions): Promise<EngineHarness> {
  const apps: TestApp[] = [];
  let closed = false;
  const timers = { t1: options.t1 ?? 100, t2: options.t2 ?? 800, t4: options.t4 ?? 1000 };
  if (process.env.DRACHTIO_BIN) {
    const server = await startDrachtioServer({
      bin: process.env.DRACHTIO_BIN,
      host: LOCALHOST,
      sipPort: options.sipPort,
      adminPort: options.adminPort,
      secret: SECRET,
      transports: options.transports ?? 'udp,tcp',
      timers,
    });
    return externalHarness({ host: LOCALHOST, port: options.adminPort, secret: SECRET }, { host: LOCALHOST, port: options.sipPort }, drachtioTimers(timers), server.stop);
  }
  if (externalServerConfigured()) {
    const admin = { host: process.env.DRACHTIO_HOST!, port: Number(process.env.DRACHTIO_PORT), secret: process.env.DRACHTIO_SECRET! };
    let sip: { host: string; port: number } | undefined;
    if (process.env.DRACHTIO_SIP) {
      const [host, port] = process.env.DRACHTIO_SIP.split(':');
      sip = { host: host ?? LOCALHOST, port: Number(port) };
    } else {
      const probe = await connectTestApp(admin, { routes: [] });
      sip = sipAddressFrom(probe.hostports, 'udp') ?? sipAddressFrom(probe.hostports, 'tcp');
      await probe.close();
    }
    if (!sip) throw new Error('could not learn the external server SIP address; set DRACHTIO_SIP=host:port');
    // A server someone else started runs its own timers: drachtio-server's defaults unless DRACHTIO_T1/T2/T4 say otherwise.
    const envTimer = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
    const t = { t1: envTimer('DRACHTIO_T1', 500), t2: envTimer('DRACHTIO_T2', 4000), t4: envTimer('DRACHTIO_T4', 5000) };
    return externalHarness(admin, sip, drachtioTimers(t), async () => undefined);
  }

  const engine = await startEngine({
    sipContacts: [`sip:${LOCALHOST}:${options.sipPort};transport=${options.transports ?? 'udp,tcp'}`],
    adminHost: LOCALHOST,
    adminPort: options.adminPort,
    secret: SECRET,
    ...timers,
    ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
    ...(options.natFlow !== undefined ? { natFlow: options.natFlow } : {}),
  });
  const admin = { host: engine.adminAddress.host, port: engine.adminAddress.port, secret: SECRET };
  const harness: EngineHarness = {
    mode: 'embedded',
    sipHost: LOCALHOST,
    sipPort: options.sipPort,
    target: `${LOCALHOST}:${options.sipPort}`,
    timers: engineTimers(timers),
    engine,
    admin,
    stats: () => engine.stats(),
    async connectApp(appOptions = {}) {
      const before = engine.stats().connectedApps;
      const app = await connectTestApp(admin, appOptions);
      apps.push(app);
      await until(() => engine.stats().connectedApps > before, 'the engine to count the new app');
      return app;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const app of apps) await app.close();
      await engine.close();
    },
  };
  return harness;
}

/**
 * A TCP relay between apps and the engine's app port. cut() drops every relayed connection and
 * refuses new ones until restore(), which is what a network failure between app and engine looks like.
 */
export class LinkRelay {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private open = true;

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      if (!this.open) {
        client.destroy();
        return;
      }
      const upstream = netConnect({ host: this.target.host, port: this.target.port });
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(this.port, LOCALHOST, () => resolveListen());
    });
  }

  /** Number of relayed connections currently up. */
  get connections(): number {
    return this.pairs.size;
  }

  cut(): void {
    this.open = false;
    for (const [a, b] of [...this.pairs]) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  restore(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** A minimal audio offer/answer body for app-side legs (RFC 4566). */
export function testSdp(port: number, direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' = 'sendrecv', version = 1): string {
  return [
    'v=0',
    `o=engine-test 1000 ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    `a=${direction}`,
    '',
  ].join('\r\n');
}

/** A promise with its resolve function exposed (for app events the test awaits). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves with the promise's value, or rejects with `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Fields of a hand-built SIP request (for raw-socket tests). */
export interface RawRequestFields {
  method: string;
  /** Request-URI. */
  uri: string;
  callId: string;
  branch: string;
  fromTag: string;
  toTag?: string;
  cseq: number;
  /** The sender's own address, for Via and Contact. */
  local: { port: number; transport: 'UDP' | 'TCP' };
  body?: string;
  contentType?: string;
  extraHeaders?: string[];
}

/** Serializes a request with CRLF line ends and a correct byte Content-Length. */
export function rawRequest(f: RawRequestFields): string {
  const body = f.body ?? '';
  const lines = [
    `${f.method} ${f.uri} SIP/2.0`,
    `Via: SIP/2.0/${f.local.transport} 127.0.0.1:${f.local.port};branch=${f.branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:raw@127.0.0.1:${f.local.port}>;tag=${f.fromTag}`,
    `To: <${f.uri}>${f.toTag ? `;tag=${f.toTag}` : ''}`,
    `Call-ID: ${f.callId}`,
    `CSeq: ${f.cseq} ${f.method}`,
    `Contact: <sip:raw@127.0.0.1:${f.local.port};transport=${f.local.transport.toLowerCase()}>`,
    ...(f.extraHeaders ?? []),
    ...(body ? [`Content-Type: ${f.contentType ?? 'application/sdp'}`] : []),
    `Content-Length: ${Buffer.byteLength(body, 'utf8')}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

/** Splits a SIP byte stream into messages by CRLFCRLF and Content-Length; returns the messages and the unparsed rest. */
export function splitSipStream(buffer: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  let rest = buffer.replace(/^(\r\n)+/, '');
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const length = Number(/^(?:Content-Length|l)[ \t]*:[ \t]*(\d+)/im.exec(head)?.[1] ?? '0');
    const bodyStart = end + 4;
    const bodyBytes = Buffer.from(rest.slice(bodyStart), 'utf8');
    if (bodyBytes.length < length) break;
    const body = bodyBytes.subarray(0, length).toString('utf8');
    messages.push(head + '\r\n\r\n' + body);
    rest = bodyBytes.subarray(length).toString('utf8').replace(/^(\r\n)+/, '');
  }
  return { messages, rest };
}

/** A raw SIP peer over UDP or TCP that records every message it receives. */
export class RawSipPeer {
  readonly received: string[] = [];
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  private pending = '';
  private readonly waiters: Array<() => void> = [];

  private constructor(
    readonly transport: 'UDP' | 'TCP',
    readonly target: { host: string; port: number },
  ) {}

  /** A UDP peer bound to 127.0.0.1:`port`. */
  static async udp(port: number, target: { host: string; port: number }): Promise<RawSipPeer> {
    const peer = new RawSipPeer('UDP', target);
    const sock = createSocket('udp4');
    peer.udp = sock;
    sock.on('message', (msg) => peer.push(msg.toString('utf8')));
    await new Promise<void>((resolveBind, rejectBind) => {
      sock.once('error', rejectBind);
      sock.bind(port, LOCALHOST, () => resolveBind());
    });
    return peer;
  }

  /** A TCP peer connected from 127.0.0.1:`localPort` to the target. */
  static async tcp(localPort: number, target: { host: string; port: number }): Promise<RawSipPeer> {
    const peer = new RawSipPeer('TCP', target);
    const sock = netConnect({ host: target.host, port: target.port, localAddress: LOCALHOST, localPort });
    sock.setNoDelay(true);
    peer.tcp = sock;
    sock.on('data', (d: Buffer) => {
      const { messages, rest } = splitSipStream(peer.pending + d.toString('utf8'));
      peer.pending = rest;
      for (const m of messages) peer.push(m);
    });
    sock.on('error', () => undefined);
    await new Promise<void>((resolveConnect, rejectConnect) => {
      sock.once('error', rejectConnect);
      sock.once('connect', () => resolveConnect());
    });
    return peer;
  }

  get localPort(): number {
    return this.udp ? this.udp.address().port : (this.tcp?.localPort ?? 0);
  }

  /** True once the TCP connection was closed by either side. */
  get closed(): boolean {
    return this.tcp ? this.tcp.destroyed || this.tcp.readableEnded : false;
  }

  private push(message: string): void {
    this.received.push(message);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Sends bytes as one datagram (UDP) or one write (TCP). */
  async send(data: string | Buffer): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (this.udp) {
      const sock = this.udp;
      await new Promise<void>((r) => sock.send(buf, this.target.port, this.target.host, () => r()));
    } else if (this.tcp) {
      const sock = this.tcp;
      await new Promise<void>((r) => sock.write(buf, () => r()));
    }
  }

  /** Resolves with the first received message (since `from`) that matches, or rejects after `timeoutMs`. */
  async waitFor(match: (message: string) => boolean, timeoutMs = 3000, what = 'a matching SIP message', from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got:\n${this.received.map((m) => m.split('\r\n')[0]).join('\n')}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  /** Messages received whose start line begins with `prefix` (e.g. 'SIP/2.0 100'). */
  startingWith(prefix: string): string[] {
    return this.received.filter((m) => m.startsWith(prefix));
  }

  async close(): Promise<void> {
    if (this.udp) {
      const sock = this.udp;
      this.udp = undefined;
      await new Promise<void>((r) => sock.close(() => r()));
    }
    if (this.tcp) {
      this.tcp.destroy();
      this.tcp = undefined;
    }
  }
}
