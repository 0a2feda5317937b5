/**
 * TLS transport of the embedded engine (RFC 3261 sections 18 and 26.2, R-42): two engines with one
 * TLS contact each and an unmodified drachtio-srf app on each; the apps place and answer a call over
 * TLS. Also: a plain TCP peer on the TLS port is dropped and counted, a peer with an untrusted
 * certificate or a stalled handshake fails the request locally (503), and an engine without a TLS
 * contact refuses sips: requests like drachtio-server does.
 * Certificates are made at test time with the openssl CLI. Ports: 14500-14699.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { startEngine, type Engine, type TlsSettings } from '../../../src/engine/index.js';
import { until } from '../../support/wait.js';

const HOST = '127.0.0.1';
const A = { sip: 14500, admin: 14501 };
const B = { sip: 14510, admin: 14511 };
const BAD = { sip: 14520, admin: 14521 };
const PLAIN = { sip: 14530, admin: 14531 };
const STALL_PORT = 14540;
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40500 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

interface Pem {
  key: Buffer;
  cert: Buffer;
}

/** A self-signed certificate for 127.0.0.1/localhost, made with the openssl CLI (throws loudly when openssl is missing). */
function makeCert(dir: string, name: string): Pem {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`the openssl CLI is required by the TLS tests and was not found: ${String(err)}`);
  }
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
  ], { stdio: 'pipe' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

type CbRequest = (err: unknown, req: Srf.SrfRequest) => void;

function createUac(srf: Srf, uri: string, cbRequest?: CbRequest): Promise<Srf.Dialog> {
  const create = srf.createUAC as unknown as (u: string, o: Srf.CreateUACOptions, p: { cbRequest?: CbRequest }) => Promise<Srf.Dialog>;
  return create.call(srf, uri, { localSdp: SDP }, { cbRequest });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

function connectApp(port: number): Promise<Srf> {
  const srf = new Srf();
  return new Promise<Srf>((resolve, reject) => {
    srf.on('connect', (err: unknown) => (err ? reject(err as Error) : resolve(srf)));
    srf.connect({ host: HOST, port, secret: 'cymru' });
  });
}

async function startTlsEngine(ports: { sip: number; admin: number }, tls: TlsSettings | undefined, contact?: string): Promise<Engine> {
  return startEngine({
    sipContacts: [contact ?? `sips:${HOST}:${ports.sip};transport=tls`],
    adminHost: HOST,
    adminPort: ports.admin,
    secret: 'cymru',
    tls,
    t1: 100,
    t2: 800,
    t4: 1000,
  });
}

describe('engine TLS transport (RFC 3261 section 26.2, R-42)', () => {
  let dir: string;
  let good: Pem;
  let engines: Engine[] = [];
  let apps: Srf[] = [];
  let engineA: Engine;
  let engineB: Engine;
  let appA: Srf;
  const received: Srf.SrfRequest[] = [];
  let bDestroyed = 0;
  let stall: Server | undefined;
  const stalled: Socket[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'engine-tls-'));
    good = makeCert(dir, 'good');
    const bad = makeCert(dir, 'bad');
    const trusted: TlsSettings = { key: good.key, cert: good.cert, ca: good.cert, rejectUnauthorized: true, handshakeTimeoutMs: 1000 };
    engineA = await startTlsEngine(A, trusted);
    engineB = await startTlsEngine(B, trusted);
    const engineBad = await startTlsEngine(BAD, { key: bad.key, cert: bad.cert, ca: bad.cert });
    const enginePlain = await startTlsEngine(PLAIN, undefined, `sip:${HOST}:${PLAIN.sip};transport=udp,tcp`);
    engines = [engineA, engineB, engineBad, enginePlain];
    appA = await connectApp(A.admin);
    const appB = await connectApp(B.admin);
    const appBad = await connectApp(BAD.admin);
    const appPlain = await connectApp(PLAIN.admin);
    apps = [appA, appB, appBad, appPlain];
    appB.invite((req, res) => {
      received.push(req);
      appB.createUAS(req, res, { localSdp: SDP }).then((d) => d.on('destroy', () => bDestroyed++)).catch(() => undefined);
    });
    appBad.invite((_req, res) => res.send(486));
    stall = createServer((s) => stalled.push(s));
    await new Promise<void>((r) => stall!.listen(STALL_PORT, HOST, () => r()));
  });

  afterAll(async () => {
    for (const s of stalled) s.destroy();
    await new Promise<void>((r) => (stall ? stall.close(() => r()) : r()));
    for (const a of apps) a.disconnect();
    for (const e of engines) await e.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('MUST report the TLS listen point to apps and in sipEndpoints', () => {
    expect(engineA.sipEndpoints).toEqual([{ protocol: 'tls', host: HOST, port: A.sip }]);
  });

  it('MUST carry a call over TLS between two engines: Via SIP/2.0/TLS, sips Contact, BYE over the same connection (R-42)', async () => {
    let sent: Srf.SrfRequest | undefined;
    const dialog = await within(createUac(appA, `sips:x@${HOST}:${B.sip}`, (err, req) => (sent = err ? undefined : req)), 5000, 'createUAC over TLS');
    // the request the engine echoed to the app
    expect(sent?.get('Via')).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:14500;rport;branch=z9hG4bK/);
    expect(sent?.get('Contact')).toBe(`<sips:${HOST}:${A.sip}>`);
    // what the far engine received and handed its app
    const inv = received.at(-1);
    expect(inv?.protocol).toBe('tls');
    expect(inv?.uri).toBe(`sips:x@${HOST}:${B.sip}`);
    expect(inv?.get('Via')).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:14500;rport;branch=z9hG4bK/);
    expect(dialog.sip.remoteTag).toBeTruthy();
    expect((dialog.remote as { uri?: string }).uri).toBe(`sips:${HOST}:${B.sip}`);
    const before = bDestroyed;
    await within(new Promise<void>((resolve, reject) => dialog.destroy(undefined, (err) => (err ? reject(err as Error) : resolve()))), 5000, 'BYE');
    await until(() => bDestroyed === before + 1, "the far app's destroy", 2000);
    expect(engineA.stats().activeDialogs).toBe(0);
    expect(engineA.stats().tlsHandshakeFailures).toBe(0);
    expect(engineB.stats().tlsHandshakeFailures).toBe(0);
  });

  it('MUST drop and count a plain TCP peer talking SIP to the TLS port, and keep serving', async () => {
    const before = engineB.stats().tlsHandshakeFailures;
    const sock = connect(B.sip, HOST);
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    sock.on('error', () => undefined);
    sock.write(`OPTIONS sip:x@${HOST}:${B.sip} SIP/2.0\r\nVia: SIP/2.0/TCP ${HOST}:1;branch=z9hG4bKplain\r\nMax-Forwards: 70\r\nFrom: <sip:a@${HOST}>;tag=1\r\nTo: <sip:x@${HOST}>\r\nCall-ID: plain-tcp\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    await within(closed, 3000, 'the engine to drop the plain TCP connection');
    await until(() => engineB.stats().tlsHandshakeFailures === before + 1, 'the handshake failure count', 2000);
    // still serving TLS afterwards
    const dialog = await within(createUac(appA, `sips:y@${HOST}:${B.sip}`), 5000, 'a second TLS call');
    await new Promise<void>((resolve) => dialog.destroy(undefined, () => resolve()));
  });

  it('MUST fail the request locally with 503 when the peer certificate does not verify (rejectUnauthorized default true)', async () => {
    const before = engineA.stats().tlsHandshakeFailures;
    const err = await within(createUac(appA, `sips:x@${HOST}:${BAD.sip}`).then(() => undefined, (e: unknown) => e), 5000, 'the local failure');
    expect((err as { status?: number } | undefined)?.status).toBe(503);
    expect(engineA.stats().tlsHandshakeFailures).toBe(before + 1);
    expect(engineA.stats().activeClientTransactions).toBe(0);
  });

  it('MUST give up a handshake that stalls after handshakeTimeoutMs, with a local 503', async () => {
    const before = engineA.stats().tlsHandshakeFailures;
    const t0 = Date.now();
    const err = await within(createUac(appA, `sip:x@${HOST}:${STALL_PORT};transport=tls`).then(() => undefined, (e: unknown) => e), 5000, 'the handshake timeout');
    expect((err as { status?: number } | undefined)?.status).toBe(503);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(engineA.stats().tlsHandshakeFailures).toBe(before + 1);
  });

  it('MUST refuse a sips: request with "requested protocol/transport not available" when no TLS contact is configured', async () => {
    const plainApp = apps[3] as Srf;
    const err = await within(createUac(plainApp, `sips:x@${HOST}:${B.sip}`).then(() => undefined, (e: unknown) => e), 5000, 'the refusal');
    expect(String((err as Error | undefined)?.message ?? err)).toContain('requested protocol/transport not available');
  });

  it('MUST refuse to start a TLS contact without key and certificate', async () => {
    await expect(startTlsEngine({ sip: 14550, admin: 14551 }, undefined)).rejects.toMatchObject({ code: 'ENGINE_CONTACT_INVALID' });
  });
});
