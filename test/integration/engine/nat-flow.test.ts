/**
 * NAT traversal in signalling (src/engine/nat-flow.ts; RFC 3581, the flow reuse of RFC 5626): SIPp
 * plays a phone behind a NAT. It sends from its real socket while its Via (without rport) and
 * Contact name 127.0.0.1:<port>, a port where only the test's capture listens (an unreachable
 * address would do in the field; tests stay on loopback). The engine's natFlow option decides:
 *   'flow'    responses and in-dialog requests (re-INVITE, BYE, the ACK for a 2xx) reach SIPp's real
 *             socket (UDP) or its connection (TCP); the Request-URI is still the Contact;
 *   'contact' responses still reach it (forced rport), in-dialog requests go to the Contact;
 *   'detect'  drachtio-server's NAT detection (the default): a UDP Contact port other than the source's.
 * Ports: block 6 of the conformance range (15900-16049).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Flow, NatFlowMode } from '../../../src/engine/index.js';
import {
  deferred,
  externalServerConfigured,
  rawRequest,
  RawSipPeer,
  startHarness,
  testSdp,
  within,
  type EngineHarness,
  type SrfDialog,
  type TestApp,
} from '../../support/engine-harness.js';
import { ENGINE_CONFORMANCE_PORTS, portBlock, sippPorts } from '../../support/ports.js';
import { findMessages, runSipp, scenarioPath, startSipp, type SippResult, type SippTransport } from '../../support/sipp.js';
import { sleep, until } from '../../support/wait.js';

const ports = portBlock(ENGINE_CONFORMANCE_PORTS, 6, 150);
let harness: EngineHarness;
let app: TestApp;
let mode: NatFlowMode = 'flow';
const peers: Flow[] = [];

/** What arrives at the address the phone's Contact names (UDP datagrams and TCP bytes). */
interface Capture {
  readonly text: () => string;
  close(): Promise<void>;
}

async function captureAt(port: number): Promise<Capture> {
  const chunks: string[] = [];
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (m) => chunks.push(m.toString('utf8')));
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const tcp: Server = createServer((s) => {
    s.on('data', (d) => chunks.push(d.toString('utf8')));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    text: () => chunks.join(''),
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      tcp.close();
    },
  };
}

beforeAll(async () => {
  harness = await startHarness({
    sipPort: ports.next(),
    adminPort: ports.next(),
    natFlow: (peer) => {
      peers.push(peer);
      return mode;
    },
  });
  app = await harness.connectApp({ routes: ['invite'] });
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(() => {
  app.handle('invite', undefined);
  peers.length = 0;
});

function expectSippOk(result: SippResult): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(1);
}

/** Answers the INVITE; `then` runs on the dialog (re-INVITE, BYE). */
function answer(then: (dialog: SrfDialog) => Promise<unknown>): Promise<void> {
  const done = deferred();
  app.handle('invite', (req, res) => {
    app.srf
      .createUAS(req, res, { localSdp: testSdp(40100) })
      .then((dialog) => then(dialog))
      .then(() => done.resolve(), done.reject);
  });
  return done.promise;
}

const natPhone = (transport: SippTransport, natPort: number) => ({
  remote: harness.target,
  ...sippPorts(ports),
  service: 'nat',
  transport,
  timeoutSec: 10,
  keys: { nat_host: '127.0.0.1', nat_port: natPort },
});

/** dialog.destroy() (srf types it void; it returns a promise that fails when the BYE gets no answer). */
const bye = (dialog: SrfDialog): Promise<void> => Promise.resolve(dialog.destroy() as unknown).then(() => undefined, () => undefined);

const transports: Array<[string, SippTransport]> = [
  ['UDP', 'u1'],
  ['TCP', 't1'],
];

describe.skipIf(externalServerConfigured())('engine NAT traversal: requests reach a phone behind a NAT at its flow', () => {
  for (const [name, transport] of transports) {
    it(`'flow' (${name}): the 200, a re-INVITE and a BYE reach the phone's real socket, not its Contact; the Request-URI stays the Contact`, async () => {
      mode = 'flow';
      const natPort = ports.next();
      const capture = await captureAt(natPort);
      const before = harness.stats()!.natFlowRequests;
      try {
        const appDone = answer(async (dialog) => {
          await sleep(150);
          await dialog.modify(testSdp(40100, 'sendonly', 2));
          await dialog.destroy();
        });
        const result = await runSipp({ scenario: scenarioPath('uac-nat-call-expect-reinvite'), ...natPhone(transport, natPort) });
        expectSippOk(result);
        await within(appDone, 3000, 're-INVITE and BYE');
        const reinvite = findMessages(result.messages, { direction: 'received', method: 'INVITE' })[0];
        expect(reinvite?.startLine, result.describe()).toBe(`INVITE sip:sipp@127.0.0.1:${natPort};transport=${transport === 'u1' ? 'UDP' : 'TCP'} SIP/2.0`);
        expect(findMessages(result.messages, { direction: 'received', method: 'BYE' }).length, result.describe()).toBe(1);
        expect(capture.text()).toBe('');
        // re-INVITE, its ACK and the BYE went to the flow
        expect(harness.stats()!.natFlowRequests - before).toBeGreaterThanOrEqual(3);
        expect(peers[0]?.protocol).toBe(transport === 'u1' ? 'udp' : 'tcp');
        expect(peers[0]?.host).toBe('127.0.0.1');
      } finally {
        await capture.close();
      }
    });

    it(`'contact' (${name}): the 200 still reaches the phone (forced rport), the BYE goes to the Contact it wrote`, async () => {
      mode = 'contact';
      const natPort = ports.next();
      const capture = await captureAt(natPort);
      const before = harness.stats()!.natFlowRequests;
      try {
        void answer(async (dialog) => {
          await sleep(200);
          await bye(dialog);
        }).catch(() => undefined);
        const result = await runSipp({ scenario: scenarioPath('uac-nat-call-hold'), ...natPhone(transport, natPort) });
        expectSippOk(result);
        await until(() => capture.text().includes('BYE sip:sipp@127.0.0.1'), 'the BYE at the Contact address', 3000);
        expect(findMessages(result.messages, { direction: 'received', method: 'BYE' }).length).toBe(0);
        expect(harness.stats()!.natFlowRequests).toBe(before);
      } finally {
        await capture.close();
      }
    });

    it(`'flow' (${name}), app as UAC: the called phone's 200 names an unreachable Contact; the ACK and the BYE reach its socket`, async () => {
      mode = 'flow';
      const natPort = ports.next();
      const capture = await captureAt(natPort);
      const phonePorts = sippPorts(ports);
      try {
        const phone = startSipp({
          scenario: scenarioPath('uas-nat-answer'),
          ...phonePorts,
          transport,
          timeoutSec: 10,
          keys: { nat_host: '127.0.0.1', nat_port: natPort },
        });
        await phone.ready();
        // SIPp binds its TCP port a moment before it listens on it
        if (transport === 't1') await sleep(300);
        const uri = `sip:phone@127.0.0.1:${phonePorts.port}${transport === 't1' ? ';transport=tcp' : ''}`;
        const dialog = await within(app.srf.createUAC(uri, { localSdp: testSdp(40102) }).catch(async (err: unknown) => {
          const raw = (err as { res?: { raw?: string } }).res?.raw ?? String(err);
          const seen = await phone.stop();
          throw new Error(`createUAC failed:\n${raw}\n${seen.describe()}`);
        }), 5000, 'createUAC');
        await sleep(100);
        await dialog.destroy();
        const result = await phone.done;
        expectSippOk(result);
        const ack = findMessages(result.messages, { direction: 'received', method: 'ACK' })[0];
        expect(ack?.startLine, result.describe()).toContain(`sip:sipp@127.0.0.1:${natPort}`);
        expect(capture.text()).toBe('');
        expect(peers[0]).toEqual(transport === 'u1' ? { protocol: 'udp', host: '127.0.0.1', port: phonePorts.port } : { protocol: 'tcp', host: '127.0.0.1', port: phonePorts.port });
      } finally {
        await capture.close();
      }
    });
  }

  it("'contact' (UDP), app as UAC: the ACK goes to the Contact of the 200, so the phone never sees it", async () => {
    mode = 'contact';
    const natPort = ports.next();
    const capture = await captureAt(natPort);
    const phonePorts = sippPorts(ports);
    try {
      const phone = startSipp({ scenario: scenarioPath('uas-nat-answer'), ...phonePorts, timeoutSec: 3, keys: { nat_host: '127.0.0.1', nat_port: natPort } });
      await phone.ready();
      const dialog = await within(app.srf.createUAC(`sip:phone@127.0.0.1:${phonePorts.port}`, { localSdp: testSdp(40104) }), 5000, 'createUAC');
      await until(() => capture.text().includes('ACK sip:sipp@127.0.0.1'), 'the ACK at the Contact address', 3000);
      await bye(dialog);
      const result = await phone.done;
      expect(result.exitCode, result.describe()).not.toBe(0);
      expect(findMessages(result.messages, { direction: 'received', method: 'ACK' }).length).toBe(0);
    } finally {
      await capture.close();
    }
  });

  it("'flow' (TCP): once the phone's connection is closed, the BYE dials its Contact (RFC 3261), as without NAT handling", async () => {
    mode = 'flow';
    const natPort = ports.next();
    const capture = await captureAt(natPort);
    const phone = await RawSipPeer.tcp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
    try {
      const hangUp = deferred();
      // (the capture never answers the BYE: its transaction ends with a 408 later, so the test does not wait for it)
      void answer(async (dialog) => {
        await hangUp.promise;
        await bye(dialog);
      }).catch(() => undefined);
      const call = { uri: `sip:nat@${harness.target}`, callId: `nat-tcp-close-${natPort}`, fromTag: 'ft1', local: { port: natPort, transport: 'TCP' as const } };
      await phone.send(rawRequest({ ...call, method: 'INVITE', branch: 'z9hG4bK-nat-c1', cseq: 1, body: testSdp(40108) }));
      const ok = await phone.waitFor((m) => m.startsWith('SIP/2.0 200'), 3000, 'the 200 on the connection');
      const toTag = /^To:.*;tag=([^;\s]+)/im.exec(ok)?.[1] ?? '';
      await phone.send(rawRequest({ ...call, method: 'ACK', branch: 'z9hG4bK-nat-c2', cseq: 1, toTag }));
      await sleep(100);
      await phone.close();
      await sleep(100);
      hangUp.resolve();
      await until(() => capture.text().includes(`BYE sip:raw@127.0.0.1:${natPort};transport=tcp SIP/2.0`), 'the BYE at the Contact address', 3000);
    } finally {
      await phone.close();
      await capture.close();
    }
  });

  it('TCP response whose connection is gone: sent to the source address at the Via port (RFC 3261 section 18.2.2)', async () => {
    mode = 'flow';
    const natPort = ports.next();
    const capture = await captureAt(natPort);
    const phone = await RawSipPeer.tcp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
    try {
      const closed = deferred();
      app.handle('invite', (req, res) => {
        void closed.promise.then(() => res.send(486));
      });
      const call = { uri: `sip:nat@${harness.target}`, callId: `nat-tcp-resp-${natPort}`, fromTag: 'ft2', local: { port: natPort, transport: 'TCP' as const } };
      await phone.send(rawRequest({ ...call, method: 'INVITE', branch: 'z9hG4bK-nat-r1', cseq: 1, body: testSdp(40110) }));
      await phone.waitFor((m) => m.startsWith('SIP/2.0 100'), 3000, '100 Trying');
      await phone.close();
      await sleep(100);
      closed.resolve();
      await until(() => capture.text().includes('SIP/2.0 486'), 'the 486 at the Via sent-by port', 3000);
    } finally {
      await phone.close();
      await capture.close();
    }
  });

  it("'detect' (drachtio-server's default, UDP): a Contact port other than the source port means NAT, requests go to the flow", async () => {
    mode = 'detect';
    const natPort = ports.next();
    const capture = await captureAt(natPort);
    try {
      const appDone = answer(async (dialog) => {
        await sleep(150);
        await dialog.modify(testSdp(40106, 'sendonly', 2));
        await dialog.destroy();
      });
      const result = await runSipp({ scenario: scenarioPath('uac-nat-call-expect-reinvite'), ...natPhone('u1', natPort) });
      expectSippOk(result);
      await within(appDone, 3000, 're-INVITE and BYE');
      expect(capture.text()).toBe('');
    } finally {
      await capture.close();
    }
  });
});
