/**
 * Engine conformance, the app link: authentication, and what happens to SIP traffic while the app
 * connection is lost (503) and after srf reconnects by itself (calls route again).
 * The app connects through a LinkRelay the test cuts and restores.
 * Ports: block 4 of the conformance range (15600-15749).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { LinkRelay, startHarness, testSdp, within, type EngineHarness, type TestApp } from '../../support/engine-harness.js';
import { ENGINE_CONFORMANCE_PORTS, portBlock, sippPorts } from '../../support/ports.js';
import { findMessages, runSipp, scenarioPath, type SippResult } from '../../support/sipp.js';
import { sleep, until } from '../../support/wait.js';

const ports = portBlock(ENGINE_CONFORMANCE_PORTS, 4, 150);
let harness: EngineHarness;
let relay: LinkRelay;
let app: TestApp;
let invites = 0;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  relay = new LinkRelay(ports.next(), { host: harness.admin.host, port: harness.admin.port });
  await relay.start();
  app = await harness.connectApp({ routes: ['invite'], relay });
  app.handle('invite', (req, res) => {
    invites++;
    app.srf
      .createUAS(req, res, { localSdp: testSdp(40300) })
      .then(() => undefined)
      .catch(() => undefined);
  });
});

afterAll(async () => {
  await harness?.close();
  await relay?.close();
});

function call(scenario: string): Promise<SippResult> {
  return runSipp({ scenario: scenarioPath(scenario), remote: harness.target, ...sippPorts(ports), timeoutSec: 10 });
}

function expectSippOk(result: SippResult): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(1);
}

describe('engine conformance: app link', () => {
  it('A2 authenticate: a wrong secret is refused (srf reports a connect error) and the connection is closed', async () => {
    const srf = new Srf();
    srf.on('error', () => undefined);
    const outcome = new Promise<Error | null>((resolve) => {
      srf.on('connect', (err: Error | null) => resolve(err));
    });
    void srf.connect({ host: harness.admin.host, port: harness.admin.port, secret: 'not-the-secret' });
    const err = await within(outcome, 3000, 'the connect outcome');
    expect(err).toBeInstanceOf(Error);
    try {
      srf.disconnect();
    } catch {
      // already closed by the server
    }
    const stats = harness.stats();
    if (stats) await until(() => harness.stats()!.connectedApps === 1, 'only the test app to stay connected', 3000);
  });

  it('F26 lost app connection: new INVITEs get 503 while the app is gone; after srf reconnects, calls route again', async () => {
    const before = invites;
    expectSippOk(await call('uac-call-bye'));
    expect(invites).toBe(before + 1);

    const reconnected = app.nextConnect(10_000);
    relay.cut();
    if (harness.stats()) await until(() => harness.stats()!.connectedApps === 0, 'the engine to notice the lost app', 3000);
    else await sleep(300);

    const refused = await call('uac-call-expect-503');
    expectSippOk(refused);
    expect(findMessages(refused.messages, { direction: 'received', status: 503 })).toHaveLength(1);
    expect(invites, 'no INVITE reached the app while it was disconnected').toBe(before + 1);

    relay.restore();
    await within(reconnected, 10_000, 'srf to reconnect');
    if (harness.stats()) await until(() => harness.stats()!.connectedApps === 1, 'the engine to count the app again', 3000);
    expectSippOk(await call('uac-call-bye'));
    expect(invites).toBe(before + 2);
  });
});
