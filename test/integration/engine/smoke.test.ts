/**
 * Smoke test of the embedded engine: a real, unmodified drachtio-srf app connects to the engine
 * and answers a call placed by SIPp's built-in `uac` scenario (INVITE, 100/180?/200, ACK, BYE).
 * Ports: 14000-14999 (this engine engineer's range).
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { startEngine, type Engine } from '../../../src/engine/index.js';
import { sleep, until } from '../../support/wait.js';

const SIP_PORT = 14160;
const ADMIN_PORT = 14161;
const SIPP_PORT = 14170;
const SIPP_CP = 14171;
const SIPP_MP = 14172;

function runSipp(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('engine smoke: srf UAS app behind the engine, SIPp uac', () => {
  let engine: Engine;
  let srf: Srf;
  const invites: string[] = [];
  let dialogs = 0;
  let byes = 0;
  let cancels = 0;
  let pracks = 0;
  const cdrs: string[] = [];

  beforeAll(async () => {
    engine = await startEngine({
      sipContacts: [`sip:127.0.0.1:${SIP_PORT};transport=udp,tcp`],
      adminHost: '127.0.0.1',
      adminPort: ADMIN_PORT,
      secret: 'cymru',
    });
    srf = new Srf();
    const onCdr = srf.on.bind(srf) as unknown as (event: string, fn: (...args: unknown[]) => void) => void;
    onCdr('cdr:attempt', (source) => cdrs.push(`attempt:${String(source)}`));
    onCdr('cdr:start', (source, _time, role) => cdrs.push(`start:${String(source)}:${String(role)}`));
    onCdr('cdr:stop', (source, _time, reason) => cdrs.push(`stop:${String(source)}:${String(reason)}`));
    srf.invite((req, res) => {
      invites.push(req.get('Call-ID'));
      const user = /^sip:([^@]+)@/.exec(req.uri)?.[1];
      if (user === 'cancel') {
        req.on('cancel', () => cancels++);
        res.send(180);
        return;
      }
      if (user === 'prack') {
        // srf's send(status, reason, opts, callback, fnPrack): fnPrack runs when the PRACK arrives
        const send = res.send.bind(res) as unknown as (s: number, r: string, o: object, cb: undefined, onPrack: () => void) => void;
        send(183, 'Session Progress', { headers: { Require: '100rel' }, body: req.body }, undefined, () => {
          pracks++;
          srf.createUAS(req, res, { localSdp: req.body }).then((d) => d.on('destroy', () => byes++)).catch(() => undefined);
        });
        return;
      }
      srf
        .createUAS(req, res, { localSdp: req.body })
        .then((dialog) => {
          dialogs++;
          dialog.on('destroy', () => byes++);
        })
        .catch(() => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      srf.connect({ host: '127.0.0.1', port: ADMIN_PORT, secret: 'cymru' });
      srf.on('connect', (err: unknown) => (err ? reject(err as Error) : resolve()));
    });
  });

  afterAll(async () => {
    srf?.disconnect();
    await engine?.close();
  });

  const sippArgs = (extra: string[], n: number): string[] => [
    ...extra, `127.0.0.1:${SIP_PORT}`, '-i', '127.0.0.1', '-p', String(SIPP_PORT + n * 10), '-cp', String(SIPP_CP + n * 10),
    '-mp', String(SIPP_MP + n * 10), '-m', '1', '-nostdin', '-timeout', '15', '-timeout_error',
  ];

  it('MUST complete a call over TCP (sipp -t t1) with the app answering (C10)', async () => {
    const before = byes;
    const r = await runSipp(sippArgs(['-t', 't1', '-sn', 'uac'], 1), 25_000);
    expect(r.code, r.out.slice(-2000)).toBe(0);
    await sleep(100);
    expect(byes).toBe(before + 1);
  });

  it('MUST answer 200 to CANCEL and 487 to the INVITE itself and tell the app (D19)', async () => {
    const r = await runSipp(sippArgs(['-sf', 'sipp-scenarios/engine/smoke-uac-cancel.xml', '-s', 'cancel'], 2), 25_000);
    expect(r.code, r.out.slice(-2000)).toBe(0);
    await sleep(100);
    expect(cancels).toBe(1);
  });

  it('MUST send a reliable 183 when the app asks for 100rel and answer the PRACK (F29)', async () => {
    const before = byes;
    const r = await runSipp(sippArgs(['-sf', 'sipp-scenarios/engine/smoke-uac-100rel.xml', '-s', 'prack'], 3), 25_000);
    expect(r.code, r.out.slice(-2000)).toBe(0);
    await sleep(100);
    expect(pracks).toBe(1);
    expect(byes).toBe(before + 1);
  });

  it('MUST deliver the INVITE to the app and complete the call (SIPp uac exits 0)', async () => {
    const [invitesBefore, dialogsBefore, byesBefore] = [invites.length, dialogs, byes];
    cdrs.length = 0;
    const r = await runSipp(
      ['-sn', 'uac', `127.0.0.1:${SIP_PORT}`, '-i', '127.0.0.1', '-p', String(SIPP_PORT), '-cp', String(SIPP_CP),
        '-mp', String(SIPP_MP), '-m', '2', '-r', '10', '-nostdin', '-timeout', '15', '-timeout_error'],
      25_000,
    );
    expect(r.code, r.out.slice(-2000)).toBe(0);
    expect(invites.length - invitesBefore).toBe(2);
    expect(dialogs - dialogsBefore).toBe(2);
    await sleep(100);
    expect(byes - byesBefore).toBe(2);
    // A7: cdr frames to the app that routed them
    expect(cdrs.filter((c) => c === 'attempt:network')).toHaveLength(2);
    expect(cdrs.filter((c) => c === 'start:application:uas')).toHaveLength(2);
    expect(cdrs.filter((c) => c === 'stop:network:normal-release')).toHaveLength(2);
    const s = engine.stats();
    expect(s.connectedApps).toBe(1);
    expect(s.activeDialogs).toBe(0);
    expect(s.messagesReceived).toBeGreaterThanOrEqual(6);
  });
});

describe('engine smoke: raw SIP and app-protocol robustness', () => {
  const PORT = 14260;
  const ADMIN = 14261;
  let engine: Engine;
  let sock: Socket;
  const inbox: string[] = [];

  beforeAll(async () => {
    engine = await startEngine({ sipContacts: [`sip:127.0.0.1:${PORT};transport=udp,tcp`], adminPort: ADMIN, secret: 'cymru' });
    sock = createSocket('udp4');
    sock.on('message', (m) => inbox.push(m.toString()));
    await new Promise<void>((r) => sock.bind(14262, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    sock?.close();
    await engine?.close();
  });

  const request = (method: string, extra = '', cseqMethod = method, branch = `z9hG4bK${Math.random().toString(36).slice(2)}`): string =>
    `${method} sip:svc@127.0.0.1:${PORT} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:14262;branch=${branch}\r\nFrom: <sip:a@127.0.0.1>;tag=f1\r\n` +
    `To: <sip:svc@127.0.0.1>${extra}\r\nCall-ID: ${branch}@x\r\nCSeq: 1 ${cseqMethod}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;

  async function exchange(text: string, expectReply = true): Promise<string | undefined> {
    inbox.length = 0;
    sock.send(text, PORT, '127.0.0.1');
    for (let i = 0; i < 40 && inbox.length === 0; i++) await sleep(10);
    if (!expectReply) await sleep(100);
    return inbox[0];
  }

  it('MUST answer 503 to a request no app routed (F26), with rport filled in (C10)', async () => {
    const reply = await exchange(request('MESSAGE'));
    expect(reply).toMatch(/^SIP\/2\.0 503 /);
    expect(reply).toMatch(/Via: SIP\/2\.0\/UDP 127\.0\.0\.1:14262;branch=\S+;rport=14262/);
    expect(reply).toMatch(/To: <sip:svc@127\.0\.0\.1>;tag=/);
  });

  it('MUST answer 481 to BYE outside a dialog and to an INVITE with an unknown To-tag (E23)', async () => {
    expect(await exchange(request('BYE'))).toMatch(/^SIP\/2\.0 481 /);
    const invite = request('INVITE', ';tag=nope', 'INVITE', 'z9hG4bKinv481');
    const reply = await exchange(invite);
    expect(reply).toMatch(/^SIP\/2\.0 481 /);
    // ACK the 481 (same branch) so Timer G stops retransmitting it (D13)
    const toTag = /To: [^\r]*/.exec(reply ?? '')?.[0] ?? '';
    const ack = invite.replace(/^INVITE/, 'ACK').replace('CSeq: 1 INVITE', 'CSeq: 1 ACK').replace(/To: [^\r]*/, toTag);
    expect(await exchange(ack, false)).toBeUndefined();
  });

  it('MUST answer 422 with Min-SE to an INVITE whose Session-Expires is below Min-SE (RFC 4028 section 8.1, item 31)', async () => {
    const app = connect(ADMIN, '127.0.0.1');
    let data = '';
    app.on('data', (d: Buffer) => (data += d.toString()));
    app.write(frame('s1|authenticate|cymru|') + frame('s2|route|invite'));
    for (let i = 0; i < 50 && !data.includes('s2|OK'); i++) await sleep(10);
    const invite = request('INVITE', '', 'INVITE', 'z9hG4bKse422').replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nSupported: timer\r\nSession-Expires: 30');
    inbox.length = 0;
    sock.send(invite, PORT, '127.0.0.1');
    await until(() => inbox.some((m) => m.startsWith('SIP/2.0 422')), 'the 422', 500, 10);
    const reply = inbox.find((m) => m.startsWith('SIP/2.0 422'));
    expect(reply).toMatch(/\r\nMin-SE: 90\r\n/);
    expect(data).not.toContain('|sip|network|');
    const toTag = /To: [^\r]*/.exec(reply ?? '')?.[0] ?? '';
    sock.send(invite.replace(/^INVITE/, 'ACK').replace('CSeq: 1 INVITE', 'CSeq: 1 ACK').replace(/To: [^\r]*/, toTag), PORT, '127.0.0.1');
    const closed = new Promise<void>((r) => app.on('close', () => r()));
    app.destroy();
    await closed;
  });

  it('MUST answer 400 to a malformed request whose core headers parse, and drop garbage (B8)', async () => {
    const before = engine.stats();
    expect(await exchange(request('OPTIONS', '', 'BYE'))).toMatch(/^SIP\/2\.0 400 /);
    expect(await exchange('\x00\x01garbage\r\n\r\n', false)).toBeUndefined();
    const after = engine.stats();
    expect(after.badRequestsAnswered - before.badRequestsAnswered).toBe(1);
    expect(after.malformedDropped - before.malformedDropped).toBe(1);
  });

  it('MUST absorb a retransmitted request by re-sending the same final response (D15)', async () => {
    const text = request('MESSAGE');
    const first = await exchange(text);
    const second = await exchange(text);
    expect(second).toBe(first);
    expect(engine.stats().retransmissionsAbsorbed).toBeGreaterThanOrEqual(1);
  });

  it('MUST frame TCP input by Content-Length across split writes, and answer 513 + close for an oversized message (B8, C10)', async () => {
    const tcp = connect(PORT, '127.0.0.1');
    await new Promise<void>((r) => tcp.on('connect', () => r()));
    let data = '';
    tcp.on('data', (d: Buffer) => (data += d.toString()));
    const text = request('MESSAGE').replace('SIP/2.0/UDP', 'SIP/2.0/TCP');
    tcp.write('\r\n\r\n' + text.slice(0, 40));
    await sleep(30);
    tcp.write(text.slice(40));
    await until(() => data.includes('503'), 'the 503 on the connection', 500, 10);
    expect(data).toMatch(/SIP\/2\.0 503 /);
    const closed = new Promise<void>((r) => tcp.on('close', () => r()));
    tcp.write(text.replace('Content-Length: 0', 'Content-Length: 70000'));
    await closed;
    expect(data).toMatch(/SIP\/2\.0 513 /);
  });

  it('MUST hold an app CANCEL until the INVITE gets a provisional response (RFC 3261 section 9.1, finding 9)', async () => {
    const far = createSocket('udp4');
    const got: string[] = [];
    far.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => far.bind(14263, '127.0.0.1', () => r()));
    const app = connect(ADMIN, '127.0.0.1');
    let data = '';
    app.on('data', (d: Buffer) => (data += d.toString()));
    try {
      app.write(frame('c1|authenticate|cymru|'));
      await until(() => data.includes('c1|OK'), 'the c1 answer', 1000, 10);
      app.write(frame('c2|sip||\r\nINVITE sip:far@127.0.0.1:14263 SIP/2.0\r\nContent-Length: 0\r\n\r\n'));
      await until(() => data.includes('c2|OK') && got.length > 0, 'the c2 answer and the INVITE at the far end', 1000, 10);
      const txnId = /\|response\|c2\|OK\|application\|\d+\|udp\|[^|]*\|\d+\|[^|]+\|([0-9a-f-]{36})\|/.exec(data)?.[1];
      expect(txnId).toBeDefined();
      app.write(frame(`c3|sip|${txnId}|\r\nCANCEL sip:far@127.0.0.1:14263 SIP/2.0\r\nContent-Length: 0\r\n\r\n`));
      await until(() => data.includes('c3|OK'), 'the c3 answer', 1000, 10);
      await sleep(150);
      expect(got.filter((m) => m.startsWith('CANCEL'))).toHaveLength(0);
      const inv = got[0] ?? '';
      const hdr = (n: string): string => new RegExp(`^${n}: .*$`, 'm').exec(inv)?.[0].trimEnd() ?? '';
      const ringing = ['SIP/2.0 180 Ringing', hdr('Via'), hdr('From'), `${hdr('To')};tag=far1`, hdr('Call-ID'), hdr('CSeq'), 'Content-Length: 0', '', ''].join('\r\n');
      far.send(ringing, 14260, '127.0.0.1');
      await until(() => got.some((m) => m.startsWith('CANCEL')), 'the CANCEL at the far end', 1000, 10);
      const cancel = got.find((m) => m.startsWith('CANCEL')) ?? '';
      expect(cancel).toContain(hdr('Via'));
      expect(cancel).toMatch(/CSeq: \d+ CANCEL/);
    } finally {
      far.close();
      app.destroy();
    }
  });

  it('MUST answer NOK to bad app requests and keep serving the app (E22, F28, A5)', async () => {
    const app = connect(ADMIN, '127.0.0.1');
    let data = '';
    app.on('data', (d: Buffer) => (data += d.toString()));
    app.write(frame('n1|authenticate|cymru|'));
    for (let i = 0; i < 50 && !data.includes('n1|OK'); i++) await sleep(10);
    app.write(
      frame('n2|sip|no-such-txn|\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n') +
        frame('n3|sip||\r\ngarbage') +
        frame('n4|sip||nope;from-tag=x\r\nINFO sip:placeholder SIP/2.0\r\nContent-Length: 0\r\n\r\n') +
        frame('n5|sip|no-such-txn|\r\nCANCEL sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n') +
        frame('n6|sip||\r\nMESSAGE sip:a@127.0.0.1:14269 SIP/2.0\r\n\r\nhello') +
        frame('n7|sip||\r\nOPTIONS sip:a@127.0.0.1:14269;transport=tls SIP/2.0\r\n\r\n') +
        frame(`n8|sip||\r\nOPTIONS sip:a@127.0.0.1:${PORT} SIP/2.0\r\n\r\n`) +
        frame('n9|bogus') +
        frame('n10|ping'),
    );
    for (let i = 0; i < 100 && !data.includes('n10|OK|pong'); i++) await sleep(10);
    expect(data).toContain('|response|n2|NOK|Response not sent due to unknown transaction');
    expect(data).toMatch(/\|response\|n3\|NOK\|/);
    expect(data).toContain('|response|n4|NOK|Server error: unable to find dialog for dialog id provided');
    expect(data).toContain('|response|n5|NOK|unable to cancel unknown transaction id: no-such-txn');
    expect(data).toContain('|response|n6|NOK|missing content-type');
    expect(data).toContain('|response|n7|NOK|requested protocol/transport not available');
    expect(data).toContain('|response|n8|NOK|can not send request to myself');
    expect(data).toMatch(/\|response\|n9\|NOK\|/);
    expect(data).toContain('|response|n10|OK|pong');
    const closed = new Promise<void>((r) => app.on('close', () => r()));
    app.destroy();
    await closed;
  });

  it('MUST drop an app that sends a bad frame or a wrong secret, and keep serving (A1, A2)', async () => {
    const bad = connect(ADMIN, '127.0.0.1');
    await new Promise<void>((r) => bad.on('connect', () => r()));
    const closed = new Promise<void>((r) => bad.on('close', () => r()));
    bad.write('123456#x');
    await closed;
    const wrong = connect(ADMIN, '127.0.0.1');
    let data = '';
    wrong.on('data', (d: Buffer) => (data += d.toString()));
    const wrongClosed = new Promise<void>((r) => wrong.on('close', () => r()));
    wrong.write(frame('m1|authenticate|nope|'));
    await wrongClosed;
    expect(data).toMatch(/^\d+#[^|]+\|response\|m1\|NO\|incorrect secret$/);
    expect(await exchange(request('MESSAGE'))).toMatch(/^SIP\/2\.0 503 /);
  });

  it('MUST authenticate, route, answer ping, and route requests to the app; 503 again after it disconnects (A2-A4, F26)', async () => {
    const app = connect(ADMIN, '127.0.0.1');
    let data = '';
    app.on('data', (d: Buffer) => (data += d.toString()));
    app.write(frame('m1|authenticate|cymru|') + frame('m2|route|message') + frame('m3|ping'));
    for (let i = 0; i < 50 && !data.includes('m3|OK|pong'); i++) await sleep(10);
    expect(data).toMatch(/\|response\|m1\|OK\|tcp\/127\.0\.0\.1:14260,udp\/127\.0\.0\.1:14260\|v0\.9\.10\|/);
    expect(data).toContain('|response|m2|OK');
    inbox.length = 0;
    sock.send(request('MESSAGE'), PORT, '127.0.0.1');
    for (let i = 0; i < 50 && !data.includes('|sip|network|'); i++) await sleep(10);
    const m = /\|sip\|network\|(\d+)\|udp\|127\.0\.0\.1\|14262\|\d\d:\d\d:\d\d\.\d{6}\|([0-9a-f-]{36})\|\|127\.0\.0\.1\|14260\|\r\nMESSAGE /.exec(data);
    expect(m, data).not.toBeNull();
    app.write(frame(`m4|sip|${m?.[2]}|\r\nSIP/2.0 202 Accepted\r\nX-App: yes\r\nContent-Length: 0\r\n\r\n`));
    await until(() => inbox.length > 0, 'the 202 at the UAC', 500, 10);
    expect(inbox[0]).toMatch(/^SIP\/2\.0 202 Accepted\r\n[\s\S]*X-App: yes/);
    expect(data).toMatch(/\|response\|m4\|OK\|application\|\d+\|udp\|127\.0\.0\.1\|14262\|[^|]+\|[0-9a-f-]{36}\|\|\|Msg sent:\|\r\nSIP\/2\.0 202 Accepted/);
    const closed = new Promise<void>((r) => app.on('close', () => r()));
    app.destroy();
    await closed;
    await sleep(20);
    expect(await exchange(request('MESSAGE'))).toMatch(/^SIP\/2\.0 503 /);
  });
});

function frame(payload: string): string {
  return `${Buffer.byteLength(payload)}#${payload}`;
}

describe('engine smoke: outbound mode (srf.listen)', () => {
  it('MUST dial the request handler for a new INVITE, authenticate the app and complete the call (A1 outbound)', async () => {
    const srf = new Srf();
    let answered = 0;
    srf.invite((req, res) => {
      srf.createUAS(req, res, { localSdp: req.body }).then(() => answered++).catch(() => undefined);
    });
    const server = srf.listen({ port: 14290, host: '127.0.0.1', secret: 'cymru' }) as unknown as { close: () => void };
    const engine = await startEngine({
      sipContacts: ['sip:127.0.0.1:14280;transport=udp'], adminPort: 14281, secret: 'cymru', requestHandler: 'tcp://127.0.0.1:14290',
    });
    try {
      const r = await runSipp(
        ['-sn', 'uac', '127.0.0.1:14280', '-i', '127.0.0.1', '-p', '14282', '-cp', '14283', '-mp', '14284', '-m', '1', '-nostdin', '-timeout', '15', '-timeout_error'],
        25_000,
      );
      expect(r.code, r.out.slice(-2000)).toBe(0);
      expect(answered).toBe(1);
    } finally {
      await engine.close();
      server.close();
    }
  });
});

describe('engine smoke: start-up options', () => {
  it('MAY take port 0: TCP picks a port and UDP shares it; close() is idempotent', async () => {
    const engine = await startEngine({ sipContacts: ['sip:127.0.0.1:0;transport=udp,tcp'], adminPort: 0, secret: 's' });
    const ports = new Set(engine.sipEndpoints.map((e) => e.port));
    expect(engine.sipEndpoints.map((e) => e.protocol).sort()).toEqual(['tcp', 'udp']);
    expect(ports.size).toBe(1);
    expect(engine.adminAddress.port).toBeGreaterThan(0);
    await Promise.all([engine.close(), engine.close()]);
    await engine.close();
  });

  it('MUST refuse a contact with an unsupported transport (ENGINE_CONTACT_INVALID)', async () => {
    await expect(startEngine({ sipContacts: ['sip:127.0.0.1:14299;transport=ws'], adminPort: 0, secret: 's' })).rejects.toMatchObject({ code: 'ENGINE_CONTACT_INVALID' });
  });
});
