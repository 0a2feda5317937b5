/**
 * Connection exhaustion of the whole product, scaled down (docs/hardening.md "Connections"): the
 * product runs as `npm start` does with low limits set through the environment (ports 19400-19499):
 * SIP_MAX_CONNECTIONS=60 (6 kept for trunks and trusted sources), SIP_MAX_CONNECTIONS_PER_SOURCE=10,
 * SIP_IDLE_CONNECTION_SECONDS=1, SIP_MESSAGE_DEADLINE_SECONDS=2.
 *
 *  - 25 idle connections from 127.0.0.1: 15 refused at accept (per-source), the 10 kept are closed
 *    after about 1 s, all counted;
 *  - a sender of one byte per 200 ms is closed at the 2 s deadline;
 *  - a flood from 127.0.0.3-127.0.0.10 keeps the global cap full (an OPTIONS every 400 ms on each
 *    connection, so none is idle; reconnecting as connections close)
 *    while the carrier (the trunk at 127.0.0.2) places a recorded call over TCP with SIPp: the call
 *    completes, its connection outlives the idle time because it carries a dialog.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleValue } from '../../support/prometheus-text.js';
import {
  makeTestAudio,
  runPackSipp,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type PackSippRun,
  type ProductPorts,
  type ProductProcess,
} from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep, until } from '../../support/wait.js';

const P: ProductPorts = { sip: 19400, drachtio: 19401, admin: 19402, mediaMin: 19420, mediaMax: 19459, srs: 19403, srsRtpMin: 19460, srsRtpMax: 19479 };
const CARRIER = { host: '127.0.0.2', port: 19404, control: 19405, media: 19480 };
const CALLEE = { port: 19406, control: 19407, media: 19486 };
const ALICE = '+15550002001';
const LIMITS = { max: 60, perSource: 10, idleSeconds: 1, deadlineSeconds: 2 };
const FLOOD_HOSTS = ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9', '127.0.0.10'];

let dir: string;
let product: ProductProcess;
const sockets = new Set<net.Socket>();
const sipps: PackSippRun[] = [];

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${P.admin}/v1/metrics`);
  return sampleValue(await res.text(), `siprec_b2bua_${name}`, labels) ?? Number.NaN;
}

interface Client {
  socket: net.Socket;
  closed: Promise<number>;
}

/** A TCP connection to the product from `localAddress`; `closed` resolves with the time the product closed it. */
function connect(localAddress: string): Promise<Client> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: P.sip, localAddress });
    sockets.add(socket);
    const closed = new Promise<number>((r) => socket.once('close', () => {
      sockets.delete(socket);
      r(Date.now());
    }));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', () => resolve({ socket, closed }));
  });
}

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'connection-limits-'));
  makeTestAudio(dir);
  const provisioningFile = writeDemoProvisioning(dir, { callee: CALLEE.port, carrier: CARRIER.port, srs: P.srs, hosts: { carrier: CARRIER.host } });
  product = await startProductProcess({
    dir,
    ports: P,
    provisioningFile,
    env: {
      SIP_MAX_CONNECTIONS: String(LIMITS.max),
      SIP_MAX_CONNECTIONS_PER_SOURCE: String(LIMITS.perSource),
      SIP_IDLE_CONNECTION_SECONDS: String(LIMITS.idleSeconds),
      SIP_MESSAGE_DEADLINE_SECONDS: String(LIMITS.deadlineSeconds),
      // the demo's trusted phone would make all of 127.0.0.1 privileged (connections are matched by address)
      CALLS_TRUSTED_SOURCES: '127.0.0.11:5072',
    },
  });
}, 30_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  for (const s of sipps) s.child.kill('SIGKILL');
  await product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('connection limits of the product (scaled down)', () => {
  it('MUST refuse connections from one address beyond the per-source cap at accept, and close the idle ones after the idle time, counted', async () => {
    const t0 = Date.now();
    const clients = await Promise.all(Array.from({ length: 25 }, () => connect('127.0.0.1')));
    const closedAt = await withTimeout(Promise.all(clients.map((c) => c.closed)), 5000, 'every idle connection closed');
    const refusedFast = closedAt.filter((t) => t - t0 < 500).length;
    const closedIdle = closedAt.filter((t) => t - t0 >= LIMITS.idleSeconds * 1000 - 100).length;
    expect(refusedFast).toBe(15);
    expect(closedIdle).toBe(10);
    expect(Math.max(...closedAt) - t0).toBeLessThan(LIMITS.idleSeconds * 1000 + 1500);
    expect(await metric('sip_connections_refused_total', { reason: 'per-source' })).toBe(15);
    expect(await metric('sip_connections_closed_total', { reason: 'idle' })).toBe(10);
    expect(await metric('sip_connections')).toBe(0);
  });

  it('MUST close a connection sending one byte at a time when its message is not complete by the deadline', async () => {
    const slow = await connect('127.0.0.1');
    const t0 = Date.now();
    const text = `OPTIONS sip:127.0.0.1:${P.sip} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5090;branch=z9hG4bKslow\r\n`;
    let sent = 0;
    const timer = setInterval(() => {
      if (!slow.socket.destroyed) slow.socket.write(text[sent++ % text.length]!);
    }, 200);
    const closedAt = await withTimeout(slow.closed, 6000, 'slow connection closed').finally(() => clearInterval(timer));
    expect(closedAt - t0).toBeGreaterThanOrEqual(LIMITS.deadlineSeconds * 1000 - 100);
    expect(closedAt - t0).toBeLessThan(LIMITS.deadlineSeconds * 1000 + 1500);
    expect(await metric('sip_connections_closed_total', { reason: 'slow' })).toBe(1);
  });

  it('MUST let the carrier (a trunk) place a recorded call over TCP while a flood from other addresses holds the global cap', async () => {
    // the flood: every flooding address keeps its per-source share open, an OPTIONS every 400 ms
    // keeping each one active (so the idle time does not free them), reconnecting when closed
    let flooding = true;
    let n = 0;
    const floodOne = async (host: string): Promise<void> => {
      while (flooding) {
        const c = await connect(host);
        const ping = setInterval(() => {
          const id = `flood${n++}`;
          c.socket.write(
            `OPTIONS sip:127.0.0.1:${P.sip} SIP/2.0\r\nVia: SIP/2.0/TCP ${host}:5060;branch=z9hG4bK${id}\r\nFrom: <sip:f@${host}>;tag=${id}\r\n` +
              `To: <sip:127.0.0.1>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
          );
        }, 400);
        await Promise.race([c.closed, new Promise<void>((r) => { const t = setInterval(() => { if (!flooding) { clearInterval(t); c.socket.destroy(); r(); } }, 100); })]);
        clearInterval(ping);
        await sleep(20);
      }
    };
    const floods = FLOOD_HOSTS.flatMap((h) => Array.from({ length: LIMITS.perSource }, () => floodOne(h)));
    const held: number[] = [];
    try {
      await until(async () => (await metric('sip_connections')) >= LIMITS.max - 6, `${LIMITS.max - 6} open connections`, 2000, 50);
      held.push(await metric('sip_connections'));
      expect(held[0]).toBe(LIMITS.max - 6);
      const callee = runPackSipp(dir, 'user-callee', { port: CALLEE.port, controlPort: CALLEE.control, mediaPort: CALLEE.media, timeoutSec: 20 });
      sipps.push(callee);
      await sleep(300);
      const caller = runPackSipp(dir, 'pstn-caller', {
        remote: `127.0.0.1:${P.sip}`,
        service: ALICE,
        localIp: CARRIER.host,
        transport: 't1',
        port: CARRIER.port,
        controlPort: CARRIER.control,
        mediaPort: CARRIER.media,
        pauseMs: 2500, // longer than the idle time: the carrier's connection carries a dialog and stays
        timeoutSec: 20,
      });
      sipps.push(caller);
      const interval = setInterval(() => void metric('sip_connections').then((n) => held.push(n), () => undefined), 500);
      const callerDone = await caller.done.finally(() => clearInterval(interval));
      const calleeDone = await withTimeout(callee.done, 10_000, 'callee');
      expect(callerDone.code, callerDone.describe).toBe(0);
      expect(calleeDone.code, calleeDone.describe).toBe(0);
      expect(await metric('sip_connections_refused_total', { reason: 'global' })).toBeGreaterThan(0);
    } finally {
      flooding = false;
      await Promise.all(floods);
    }
    expect(Math.min(...held)).toBeGreaterThanOrEqual(LIMITS.max - 6);
    expect(product.running()).toBe(true);
  }, 40_000);
});
