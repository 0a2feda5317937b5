import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startApplication } from '../../../src/app/application.js';
import { buildConfig } from '../../../src/config/load-config.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { rawRequest } from '../../support/engine-harness.js';

// Ports 19000-19299 belong to this file.
function testConfig(dir: string) {
  return buildConfig({
    log: { level: 'silent' },
    sip: { contacts: ['sip:127.0.0.1:19060;transport=udp,tcp'] },
    drachtio: { port: 19022 },
    admin: { port: 19080 },
    media: { portMin: 19200, portMax: 19299 },
    store: { sqlitePath: join(dir, 'settings.db') },
    srs: { enabled: true, sipUri: 'sip:srs@127.0.0.1:19090', rtpPortMin: 19100, rtpPortMax: 19199, recordingsDir: join(dir, 'recordings') },
  });
}

describe('application (composition root)', () => {
  it('starts the embedded engine, connects the app to it, serves the admin API, and frees every port on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-'));
    const config = testConfig(dir);
    for (let round = 0; round < 2; round++) {
      const app = await startApplication(config, silentLogger);
      try {
        expect(app.engine?.stats().connectedApps).toBe(1);
        expect(app.signaling.connected).toBe(true);
        expect(app.signaling.hostports).toContain('udp/127.0.0.1:19060');
        expect(app.srs?.engine.sipEndpoints).toContainEqual({ protocol: 'udp', host: '127.0.0.1', port: 19090 });
        expect(app.srs?.engine.stats().connectedApps).toBe(1);
        const session = await app.media.createSession();
        expect(session.local.a.rtpPort).toBeGreaterThanOrEqual(19200);
        await session.close();
        const health = await fetch(`${app.adminUrl}/healthz`);
        expect(health.status).toBe(200);
        const created = await fetch(`${app.adminUrl}/v1/orgs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: `org-${round}`, name: 'Acme', region: 'EU' }),
        });
        expect(created.status).toBe(201);
        const orgs = (await (await fetch(`${app.adminUrl}/v1/orgs`)).json()) as unknown[];
        // Settings persist across the restart of round 1.
        expect(orgs).toHaveLength(round + 1);
      } finally {
        await app.close();
        await app.close();
      }
    }
  });

  it('answers OPTIONS keep-alive pings (RFC 3261 section 11) with 200 and Allow, and with 503 + Retry-After once it drains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-'));
    const app = await startApplication(testConfig(dir), silentLogger);
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(19010, '127.0.0.1', () => r()));
    let n = 0;
    const ping = (): Promise<string> =>
      new Promise((resolve, reject) => {
        n++;
        const timer = setTimeout(() => reject(new Error('no answer to OPTIONS within 2 s')), 2000);
        sock.once('message', (msg) => {
          clearTimeout(timer);
          resolve(msg.toString('utf8'));
        });
        const text = rawRequest({
          method: 'OPTIONS',
          uri: 'sip:127.0.0.1:19060',
          callId: `ping-${n}-${Date.now()}`,
          branch: `z9hG4bK-ping-${n}-${Date.now()}`,
          fromTag: `p${n}`,
          cseq: n,
          local: { port: 19010, transport: 'UDP' },
        });
        sock.send(text, 19060, '127.0.0.1');
      });
    try {
      const ok = await ping();
      expect(ok).toMatch(/^SIP\/2\.0 200 /);
      expect(ok).toMatch(/^Allow: .*INVITE.*BYE.*OPTIONS/im);
      void app.calls.drain(60_000);
      const draining = await ping();
      expect(draining).toMatch(/^SIP\/2\.0 503 /);
      expect(draining).toMatch(/^Retry-After: (59|60)\s*$/im); // the drain time left
    } finally {
      sock.close();
      await app.close();
    }
  });
});
