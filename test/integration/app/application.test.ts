import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startApplication } from '../../../src/app/application.js';
import { buildConfig } from '../../../src/config/load-config.js';
import { silentLogger } from '../../../src/observability/logger.js';

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
});
