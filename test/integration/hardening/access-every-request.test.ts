/**
 * Access control on every request, against the real product (`npm start`'s command, as a child
 * process, environment overrides only), over raw UDP sockets bound to loopback addresses of their
 * own (127.0.0.66 denied, 127.0.0.77 a spoofed victim, 127.0.0.1 the carrier and a flooder on
 * another port of the carrier's address). Every byte the product sends to a socket is counted.
 *
 * Product A: CALLS_RATE_LIMIT_PER_SOURCE=2, CALLS_RATE_LIMIT_BURST=4, CALLS_DENY=127.0.0.66.
 * Product B: digest authentication on (calls.digestRealm), lockout at its defaults.
 * Plus the embedded engine alone: a 183 with a To tag carries a Contact; the request gate answers statelessly.
 * Ports 19500-19699.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../../src/engine/index.js';
import { rawRequest, sendResponse, startHarness, type EngineHarness } from '../../support/engine-harness.js';
import { sampleValue } from '../../support/prometheus-text.js';
import { startProductProcess, writeDemoProvisioning, type ProductPorts, type ProductProcess } from '../../support/product-process.js';
import { sleep, until } from '../../support/wait.js';

const A: ProductPorts = { sip: 19500, drachtio: 19501, admin: 19502, srs: 19503, mediaMin: 19510, mediaMax: 19549, srsRtpMin: 19550, srsRtpMax: 19589 };
const A_CALLEE = 19504;
const A_CARRIER = 19505;
const B: ProductPorts = { sip: 19600, drachtio: 19601, admin: 19602, srs: 19603, mediaMin: 19610, mediaMax: 19649, srsRtpMin: 19650, srsRtpMax: 19689 };
const ENGINE = { sip: 19690, admin: 19691 };
const GATED = { sip: 19695, admin: 19696 };
const ALICE_NUMBER = '+15550002001';
const REALM = 'acme.example';

/** A UDP socket on its own loopback address that counts every byte it sends and receives. */
class Peer {
  readonly received: string[] = [];
  bytesIn = 0;
  bytesOut = 0;
  private constructor(
    private readonly sock: Socket,
    readonly address: string,
    readonly port: number,
    private readonly target: number,
  ) {
    sock.on('message', (m) => {
      this.bytesIn += m.length;
      this.received.push(m.toString('utf8'));
    });
  }

  static async bind(address: string, port: number, target: number): Promise<Peer> {
    const sock = createSocket('udp4');
    await new Promise<void>((res, rej) => {
      sock.once('error', rej);
      sock.bind(port, address, () => res());
    });
    return new Peer(sock, address, port, target);
  }

  send(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    this.bytesOut += buf.length;
    this.sock.send(buf, this.target, '127.0.0.1');
  }

  /** Counters back to zero (a new phase of a test). */
  reset(): void {
    this.received.length = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
  }

  close(): Promise<void> {
    return new Promise((res) => this.sock.close(() => res()));
  }
}

let seq = 0;
function request(peer: Peer, method: string, o: { callId?: string; branch?: string; cseq?: number; user?: string; body?: string; headers?: string[]; toTag?: string } = {}): { text: string; callId: string; branch: string } {
  const n = ++seq;
  const callId = o.callId ?? `acc-${n}-${Date.now()}@${peer.address}`;
  const branch = o.branch ?? `z9hG4bK-acc-${n}-${Date.now()}`;
  const text = rawRequest({
    method,
    uri: `sip:${o.user ?? ALICE_NUMBER}@127.0.0.1`,
    callId,
    branch,
    fromTag: `f${n}`,
    ...(o.toTag ? { toTag: o.toTag } : {}),
    cseq: o.cseq ?? 1,
    local: { port: peer.port, transport: 'UDP' },
    ...(o.body ? { body: o.body } : {}),
    ...(o.headers ? { extraHeaders: o.headers } : {}),
  }).replace(/^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:/m, `Via: SIP/2.0/UDP ${peer.address}:`);
  return { text, callId, branch };
}

const sdp = (port: number): string =>
  ['v=0', `o=- 1 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

/** The CANCEL for an INVITE sent with `request` (same branch, Call-ID, CSeq number, RFC 3261 section 9.1). */
function cancelOf(invite: { text: string }): string {
  return invite.text
    .replace(/^INVITE /, 'CANCEL ')
    .replace(/^CSeq: (\d+) INVITE/m, 'CSeq: $1 CANCEL')
    .replace(/\r\nContent-Type: [^\r]*/, '')
    .replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
}

/** ACK for a non-2xx final response (RFC 3261 section 17.1.1.3): To with the response's tag. */
function ackFor(invite: { text: string }, response: string): string {
  const to = /^To: .*$/m.exec(response)![0];
  return invite.text
    .replace(/^INVITE /, 'ACK ')
    .replace(/^CSeq: (\d+) INVITE/m, 'CSeq: $1 ACK')
    .replace(/^To: .*$/m, to)
    .replace(/\r\nContent-Type: [^\r]*/, '')
    .replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
}

const statusOf = (m: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1] ?? 0);
const callIdOf = (m: string): string => /^Call-ID: *(.*)$/m.exec(m)?.[1]?.trim() ?? '';

const dir = mkdtempSync(join(tmpdir(), 'access-every-request-'));
const lines: string[] = [];
let productA: ProductProcess | undefined;
let productB: ProductProcess | undefined;

beforeAll(async () => {
  const dirA = join(dir, 'a');
  const dirB = join(dir, 'b');
  const users = join(dir, 'users.yaml');
  writeFileSync(users, 'users:\n  - username: alice\n    password: wonderland\n');
  for (const d of [dirA, dirB]) rmSync(d, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dirA);
  mkdirSync(dirB);
  [productA, productB] = await Promise.all([
    startProductProcess({
      dir: dirA,
      ports: A,
      provisioningFile: writeDemoProvisioning(dirA, { callee: A_CALLEE, carrier: A_CARRIER, srs: A.srs }),
      env: { CALLS_RATE_LIMIT_PER_SOURCE: '2', CALLS_RATE_LIMIT_BURST: '4', CALLS_DENY: '127.0.0.66', CALLS_RING_TIMEOUT_MS: '3000' },
      readyTimeoutMs: 30_000,
    }),
    startProductProcess({
      dir: dirB,
      ports: B,
      provisioningFile: writeDemoProvisioning(dirB, { callee: 19604, carrier: 19605, srs: B.srs }),
      env: { CALLS_DIGEST_REALM: REALM, CALLS_DIGEST_CREDENTIALS_FILE: users },
      onLine: (line) => lines.push(line),
      readyTimeoutMs: 30_000,
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([productA?.kill(), productB?.kill()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('access control on every request (product, raw UDP)', () => {
  it('MUST answer nothing at all to a denied source: OPTIONS, REGISTER, MESSAGE, INVITE and CANCEL get 0 bytes', async () => {
    const peer = await Peer.bind('127.0.0.66', 19520, A.sip);
    try {
      peer.send(request(peer, 'OPTIONS').text);
      peer.send(request(peer, 'REGISTER').text);
      peer.send(request(peer, 'MESSAGE', { body: 'hi', headers: [] }).text.replace('application/sdp', 'text/plain'));
      const invite = request(peer, 'INVITE', { body: sdp(19524) });
      peer.send(invite.text);
      peer.send(cancelOf(invite));
      await sleep(1500);
      console.log(`denied source: sent ${peer.bytesOut} bytes, received ${peer.bytesIn}`);
      expect(peer.received).toEqual([]);
      expect(peer.bytesIn).toBe(0);
      const metrics = await (await fetch(`http://127.0.0.1:${A.admin}/v1/metrics`)).text();
      expect(sampleValue(metrics, 'siprec_b2bua_sip_requests_refused_total', { method: 'options', reason: 'source-denied', action: 'drop' })).toBe(1);
      expect(sampleValue(metrics, 'siprec_b2bua_sip_requests_refused_total', { method: 'cancel', reason: 'source-denied', action: 'drop' })).toBe(1);
    } finally {
      await peer.close();
    }
  });

  it('MUST answer a rate-limited source doing INVITE + CANCEL with no more bytes than it sent: no 487, no 100 Trying, at most one 503 a second', async () => {
    const victim = await Peer.bind('127.0.0.77', 19521, A.sip);
    try {
      // the bucket (burst 4) is spent on OPTIONS first
      for (let i = 0; i < 6; i++) victim.send(request(victim, 'OPTIONS').text);
      await sleep(300);
      victim.reset();
      for (let i = 0; i < 40; i++) {
        const invite = request(victim, 'INVITE', { body: sdp(19525) });
        victim.send(invite.text);
        victim.send(cancelOf(invite));
      }
      await sleep(2500); // Timer G would have retransmitted a 487 at 0.5, 1 and 2 s
      const ratio = victim.bytesIn / victim.bytesOut;
      const statuses = victim.received.map(statusOf);
      console.log(`reflection, limited source, 40 x INVITE+CANCEL: sent ${victim.bytesOut} B, received ${victim.bytesIn} B (${victim.received.length} messages: ${statuses.join(',')}), ratio ${ratio.toFixed(3)}`);
      expect(statuses.filter((s) => s === 487)).toHaveLength(0);
      expect(statuses.filter((s) => s === 100 || s === 200)).toHaveLength(0);
      expect(statuses.every((s) => s === 503)).toBe(true);
      expect(statuses.length).toBeLessThanOrEqual(2);
      expect(ratio).toBeLessThanOrEqual(1);
    } finally {
      await victim.close();
    }
  });

  it("MUST keep answering the carrier from its configured address:port while a flood from the carrier's address on another port is limited", async () => {
    const carrier = await Peer.bind('127.0.0.1', A_CARRIER, A.sip);
    const flood = await Peer.bind('127.0.0.1', 19522, A.sip);
    const invites: Array<{ text: string; callId: string }> = [];
    try {
      const floodDone = (async () => {
        for (let i = 0; i < 60; i++) {
          for (let k = 0; k < 10; k++) flood.send(request(flood, 'OPTIONS').text); // 400 requests/s for 1.5 s
          await sleep(25);
        }
      })();
      for (let i = 0; i < 3; i++) {
        await sleep(400);
        const invite = request(carrier, 'INVITE', { body: sdp(19526 + i), user: ALICE_NUMBER });
        invites.push(invite);
        carrier.send(invite.text);
      }
      await floodDone;
      const answered = (): number => invites.filter((inv) => carrier.received.some((m) => callIdOf(m) === inv.callId && statusOf(m) >= 100)).length;
      await until(() => answered() === invites.length, 'every carrier INVITE answered', 3000).catch(() => undefined);
      const floodOk = flood.received.filter((m) => statusOf(m) === 200).length;
      console.log(`carrier ${invites.length} INVITEs answered: ${answered()}; flood ${flood.bytesOut} B in ${60 * 10} OPTIONS, ${floodOk} got 200, ${flood.received.length} answers in all`);
      expect(answered()).toBe(invites.length);
      expect(floodOk).toBeLessThanOrEqual(4 + 2 * 2 + 1); // burst + 2/s over the flood + rounding
    } finally {
      // end the carrier's calls: CANCEL each, ACK every final response
      for (const inv of invites) carrier.send(cancelOf(inv));
      await sleep(500);
      for (const inv of invites) {
        const final = carrier.received.find((m) => callIdOf(m) === inv.callId && /CSeq: \d+ INVITE/.test(m) && statusOf(m) >= 300);
        if (final) carrier.send(ackFor(inv, final));
      }
      await Promise.all([carrier.close(), flood.close()]);
    }
  });

  it('MUST answer a method the product does not serve (REGISTER, SUBSCRIBE, MESSAGE) with 405 and Allow, not 503', async () => {
    const peer = await Peer.bind('127.0.0.3', 19523, A.sip);
    try {
      for (const method of ['REGISTER', 'SUBSCRIBE']) peer.send(request(peer, method, { headers: method === 'SUBSCRIBE' ? ['Event: presence'] : [] }).text);
      await until(() => peer.received.length >= 2, 'two answers', 3000);
      for (const m of peer.received) {
        expect(statusOf(m), m).toBe(405);
        expect(m).toMatch(/^Allow: INVITE, ACK, CANCEL, BYE, OPTIONS/m);
      }
    } finally {
      await peer.close();
    }
  });
});

describe('digest: password guessing is limited by default (product B, raw UDP)', () => {
  it('MUST refuse a guessing user from its 5th wrong password and its source from its 20th, logging each lockout once', async () => {
    const attacker = await Peer.bind('127.0.0.88', 19620, B.sip);
    try {
      const exchange = async (headers: string[]): Promise<number> => {
        const invite = request(attacker, 'INVITE', { body: sdp(19621), user: '2002', headers });
        const from = attacker.received.length;
        attacker.send(invite.text);
        await until(() => attacker.received.slice(from).some((m) => callIdOf(m) === invite.callId && statusOf(m) >= 300), 'a final answer', 3000);
        const final = attacker.received.slice(from).find((m) => callIdOf(m) === invite.callId && statusOf(m) >= 300)!;
        attacker.send(ackFor(invite, final));
        return statusOf(final);
      };
      const challenge = attacker.received.length;
      expect(await exchange([])).toBe(407);
      const nonce = /nonce="([^"]+)"/.exec(attacker.received.slice(challenge).find((m) => statusOf(m) === 407)!)![1]!;
      const guess = (user: string, i: number): string[] => [
        `Proxy-Authorization: Digest username="${user}", realm="${REALM}", nonce="${nonce}", uri="sip:2002@127.0.0.1", response="${i.toString(16).padStart(32, '0')}", algorithm=MD5`,
      ];
      const started = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push(await exchange(guess(i < 8 ? 'alice' : `user${i}`, i)));
      const seconds = (Date.now() - started) / 1000;
      const evaluated = statuses.filter((s) => s === 407).length;
      console.log(`digest guessing: ${statuses.length} guesses in ${seconds.toFixed(2)} s, ${evaluated} evaluated (407), ${statuses.filter((s) => s === 403).length} refused (403): ${statuses.join(',')}`);
      // alice: the 5th failure locks her (that guess already gets 403, as would the right password now)
      expect(statuses.slice(0, 8)).toEqual([407, 407, 407, 407, 403, 403, 403, 403]);
      // the source: its 20th failure locks it (every guess counts for the source, also those at locked alice)
      expect(statuses.slice(8, 19)).toEqual(new Array(11).fill(407));
      expect(statuses.slice(19)).toEqual(new Array(11).fill(403));
      await sleep(200);
      const lockLines = lines.filter((l) => l.includes('too many failures, locked out'));
      expect(lockLines).toHaveLength(2);
      expect(lockLines.join('\n')).not.toContain('wonderland');
    } finally {
      await attacker.close();
    }
  });
});

describe('Contact in every response that creates a dialog (embedded engine)', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await startHarness({ sipPort: ENGINE.sip, adminPort: ENGINE.admin });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('MUST put a Contact in a 183 (and a 180) with a To tag, RFC 3261 section 12.1.1', async () => {
    const app = await h.connectApp({ routes: ['invite'] });
    app.handle('invite', (_req, res) => {
      sendResponse(res, 180);
      sendResponse(res, 183, { body: sdp(19692), headers: { 'Content-Type': 'application/sdp' } });
      setTimeout(() => sendResponse(res, 486), 100);
    });
    const peer = await Peer.bind('127.0.0.1', 19693, ENGINE.sip);
    try {
      const invite = request(peer, 'INVITE', { body: sdp(19694) });
      peer.send(invite.text);
      await until(() => peer.received.some((m) => statusOf(m) === 486), 'the final answer', 3000);
      for (const status of [180, 183]) {
        const m = peer.received.find((r) => statusOf(r) === status)!;
        expect(m, `${status}`).toMatch(/^To: .*;tag=/m);
        expect(m, `${status}`).toMatch(/^Contact: <sip:/m);
      }
      peer.send(ackFor(invite, peer.received.find((m) => statusOf(m) === 486)!));
    } finally {
      await peer.close();
      await app.close();
    }
  });
});

describe('the request gate answers statelessly (embedded engine)', () => {
  it('MUST answer a refused INVITE with one 503 and no 100 Trying, send nothing for its CANCEL, and stay silent when the answer would be larger than the request', async () => {
    const engine = await startEngine({
      sipContacts: [`sip:127.0.0.1:${GATED.sip};transport=udp`],
      adminPort: GATED.admin,
      secret: 'gate-test',
      requestGate: () => ({ action: 'reject', status: 503, headers: { 'Retry-After': '5' } }),
    });
    const peer = await Peer.bind('127.0.0.78', 19697, GATED.sip);
    try {
      const invite = request(peer, 'INVITE', { body: sdp(19698) });
      peer.send(invite.text);
      peer.send(cancelOf(invite));
      // a request smaller than its 503 would be (a bare OPTIONS with no Contact, no Max-Forwards)
      peer.send(['OPTIONS sip:x SIP/2.0', `Via: SIP/2.0/UDP 127.0.0.78:19697;branch=z9hG4bK-tiny`, 'From: <sip:a@b>;tag=1', 'To: <sip:x>', 'Call-ID: tiny', 'CSeq: 1 OPTIONS', '', ''].join('\r\n'));
      await sleep(1500);
      const statuses = peer.received.map(statusOf);
      console.log(`stateless gate: sent ${peer.bytesOut} B, received ${peer.bytesIn} B (${statuses.join(',')})`);
      expect(statuses).toEqual([503]);
      expect(peer.received[0]).toMatch(/^Retry-After: 5$/m);
      expect(peer.bytesIn).toBeLessThanOrEqual(Buffer.byteLength(invite.text));
    } finally {
      await peer.close();
      await engine.close();
    }
  });
});
