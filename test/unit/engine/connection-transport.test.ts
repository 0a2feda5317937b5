/**
 * The engine's stream connections under abuse, over real loopback sockets (ports 19300-19349):
 * per-source and global caps at accept, idle connections closed, a slow message closed at its
 * deadline, privileged sources kept working while the caps are full.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEngine, type Engine, type EngineOptions } from '../../../src/engine/index.js';
import { sleep, until } from '../../support/wait.js';

let nextPort = 19300;
const engines: Engine[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function engineWith(o: Partial<EngineOptions>): Promise<{ engine: Engine; port: number }> {
  const port = nextPort++;
  const engine = await startEngine({ sipContacts: [`sip:127.0.0.1:${port};transport=tcp`], adminPort: 0, secret: 's', ...o });
  engines.push(engine);
  return { engine, port };
}

/** A client connection from `localAddress`; resolves once connected, records when the server closes it. */
function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket & { closedByPeer?: boolean }> {
  return new Promise((resolve, reject) => {
    const s: net.Socket & { closedByPeer?: boolean } = net.connect({ host: '127.0.0.1', port, localAddress });
    sockets.push(s);
    s.on('error', () => undefined);
    s.on('close', () => (s.closedByPeer = true));
    s.on('end', () => (s.closedByPeer = true));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

const options = (port: number, branch: string): string =>
  `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5090;branch=z9hG4bK${branch}\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n` +
  `To: <sip:b@127.0.0.1>\r\nCall-ID: ${branch}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;

describe('engine connection limits (TCP)', () => {
  it('MUST close at accept, and count, connections from one address beyond the per-source cap', async () => {
    const { engine, port } = await engineWith({ maxConnectionsPerSource: 3, maxConnections: 100 });
    const conns = await Promise.all([1, 2, 3, 4, 5].map(() => connect(port)));
    await until(() => engine.stats().connectionsRefusedPerSource === 2, 'two refused');
    await until(() => conns.filter((c) => c.closedByPeer).length === 2, 'two closed by the engine');
    expect(engine.stats().connectionsOpen).toBe(3);
    expect(engine.stats().connectionsRefusedGlobal).toBe(0);
  });

  it('MUST close idle connections that carry no dialog after the idle time, and count them', async () => {
    const { engine, port } = await engineWith({ idleConnectionMs: 300 });
    const conns = await Promise.all([1, 2, 3].map(() => connect(port)));
    await sleep(150);
    expect(conns.some((c) => c.closedByPeer)).toBe(false);
    await until(() => conns.every((c) => c.closedByPeer), 'idle connections closed', 3000);
    expect(engine.stats().connectionsClosedIdle).toBe(3);
    expect(engine.stats().connectionsOpen).toBe(0);
  });

  it('MUST close a connection whose message is not complete by the deadline (one byte at a time), even though bytes keep coming', async () => {
    const { engine, port } = await engineWith({ messageDeadlineMs: 600, idleConnectionMs: 300 });
    const slow = await connect(port);
    const text = options(port, 'slow');
    let i = 0;
    const t = setInterval(() => {
      if (!slow.destroyed && i < text.length) slow.write(text[i++]!);
    }, 50);
    try {
      await until(() => slow.closedByPeer === true, 'slow connection closed', 3000);
    } finally {
      clearInterval(t);
    }
    expect(i).toBeLessThan(text.length);
    expect(engine.stats().connectionsClosedSlow).toBe(1);
    expect(engine.stats().connectionsClosedIdle).toBe(0);
  });

  it('MUST keep a connection that carries a transaction open past the idle time', async () => {
    const { engine, port } = await engineWith({ idleConnectionMs: 200 });
    const c = await connect(port);
    let answer = '';
    c.on('data', (d: Buffer) => (answer += d.toString()));
    // no app is connected: the engine answers the INVITE itself and its server transaction waits for the ACK (Timer H, 32 s)
    c.write(options(port, 'inuse').replace(/OPTIONS/g, 'INVITE'));
    await until(() => answer.startsWith('SIP/2.0 '), 'an answer');
    expect(engine.stats().activeServerTransactions).toBe(1);
    await sleep(700);
    expect(c.closedByPeer).toBeUndefined();
    expect(engine.stats().connectionsClosedIdle).toBe(0);
  });

  it('MUST admit a privileged source (trunk) into the reserved headroom while a flood fills the global cap', async () => {
    const { engine, port } = await engineWith({
      maxConnections: 10, privilegedConnections: 2, maxConnectionsPerSource: 0,
      privilegedSource: (h) => h === '127.0.0.2',
    });
    const flood = await Promise.all(Array.from({ length: 12 }, () => connect(port)));
    await until(() => engine.stats().connectionsRefusedGlobal === 4, 'flood beyond 8 refused');
    const trunk = await connect(port, '127.0.0.2');
    let answer = '';
    trunk.on('data', (d: Buffer) => (answer += d.toString()));
    trunk.write(options(port, 'trunk'));
    await until(() => answer.startsWith('SIP/2.0 '), 'the trunk is answered');
    expect(trunk.closedByPeer).toBeUndefined();
    expect(engine.stats().connectionsOpen).toBe(9);
    expect(flood.filter((c) => c.closedByPeer).length).toBe(4);
  });
});
