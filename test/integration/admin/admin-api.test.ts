import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RECORDING } from '../../../src/policy/policy-defaults.js';
import { startHarness, tempDbPath, TOKEN, type Harness, type Json } from './admin-harness.js';

const SRS = { recordingServers: [{ uri: 'sip:srs@127.0.0.1:5090' }, { uri: 'sip:srs@127.0.0.1:5092', transport: 'tcp' }] };

describe('admin API over HTTP with a SQLite file', () => {
  let db: ReturnType<typeof tempDbPath>;
  let h: Harness;
  beforeEach(async () => {
    db = tempDbPath();
    h = await startHarness(db.path, { newId: (() => { let n = 0; return () => `gen-${++n}`; })() });
  });
  afterEach(async () => {
    await h.stop();
    db.cleanup();
  });

  const expectError = (res: { status: number; body: Json }, status: number, code: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
  };

  /** org acme with provider srs (terms accepted, selected), location hq, user alice (professional). */
  async function seed(): Promise<void> {
    expect((await h.call('POST', '/v1/orgs', { id: 'acme', name: 'Acme' })).status).toBe(201);
    expect((await h.call('POST', '/v1/orgs/acme/providers', { id: 'srs', ...SRS })).status).toBe(201);
    expect((await h.call('POST', '/v1/orgs/acme/providers/srs/terms', { acceptedBy: 'admin@acme.example' })).status).toBe(201);
    expect((await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: 'srs' })).status).toBe(200);
    expect((await h.call('POST', '/v1/orgs/acme/locations', { id: 'hq', name: 'HQ', announcementLanguage: 'fr-FR' })).status).toBe(201);
    const alice = { id: 'alice', locationId: 'hq', firstName: 'Alice', lastName: 'Example', licence: 'professional', numbers: ['+15550002001'], extension: '2001', sipIdentities: ['alice@acme.example'] };
    expect((await h.call('POST', '/v1/orgs/acme/users', alice)).status).toBe(201);
  }

  describe('authentication', () => {
    it('rejects requests without the bearer token with ADMIN_UNAUTHORIZED (401)', async () => {
      const res = await fetch(`${h.url}/v1/orgs`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as Json).error.code).toBe('ADMIN_UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });
    it('rejects a wrong token', async () => {
      expectError(await h.call('GET', '/v1/orgs', undefined, { authorization: 'Bearer nope' }), 401, 'ADMIN_UNAUTHORIZED');
    });
    it('accepts the configured token', async () => {
      expect((await h.call('GET', '/v1/orgs')).status).toBe(200);
    });
  });

  describe('OpenAPI', () => {
    it('serves an OpenAPI 3.1 document describing every resource, without a token', async () => {
      const res = await fetch(`${h.url}/v1/openapi.json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as Json;
      expect(doc.openapi).toBe('3.1.0');
      for (const p of [
        '/v1/orgs/{orgId}/service-settings',
        '/v1/orgs/{orgId}/providers/{providerId}/terms',
        '/v1/orgs/{orgId}/locations/{locationId}/call-handling',
        '/v1/orgs/{orgId}/users/{userId}/call-experience',
        '/v1/orgs/{orgId}/users/{userId}/platform-info',
        '/v1/orgs/{orgId}/virtual-lines/{lineId}/recording',
        '/v1/orgs/{orgId}/virtual-lines/{lineId}/platform-info',
        '/v1/orgs/{orgId}/auto-attendants',
        '/v1/orgs/{orgId}/call-queues/{featureId}',
        '/v1/orgs/{orgId}/hunt-groups',
        '/v1/orgs/{orgId}/trunks',
        '/v1/orgs/{orgId}/voicemail',
        '/v1/orgs/{orgId}/provisioning',
        '/v1/orgs/{orgId}/call-decision',
      ]) {
        expect(doc.paths[p], p).toBeDefined();
      }
      expect(doc.paths['/v1/orgs/{orgId}/users/{userId}/call-experience'].put.requestBody.content['application/json'].schema.properties.recording).toBeDefined();
      expect(Object.keys(doc.paths['/v1/orgs'].post.responses)).toContain('201');
      expect(Object.keys(doc.paths['/v1/orgs/{orgId}/call-decision'].post.responses)).toContain('200');
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    });
  });

  describe('organisation service settings (R-01, R-05, R-06, R-07, R-08)', () => {
    it('R-05 a provider cannot be selected before its terms are accepted', async () => {
      await h.call('POST', '/v1/orgs', { id: 'acme', name: 'Acme' });
      await h.call('POST', '/v1/orgs/acme/providers', { id: 'srs', ...SRS });
      expectError(await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: 'srs' }), 422, 'POLICY_TERMS_NOT_ACCEPTED');
      const terms = await h.call('POST', '/v1/orgs/acme/providers/srs/terms', { acceptedBy: 'admin@acme.example' });
      expect(terms.body).toMatchObject({ providerId: 'srs', acceptedBy: 'admin@acme.example', sharedData: ['timeZone', 'firstName', 'lastName', 'email'] });
      expect(Date.parse(terms.body.acceptedAt)).not.toBeNaN();
      expect((await h.call('GET', '/v1/orgs/acme/providers/srs/terms')).body).toEqual(terms.body);
      expect((await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: 'srs' })).body.providerId).toBe('srs');
    });

    it('R-06 a region-restricted profile (callcabinet, US only) is refused for an EU organisation', async () => {
      await h.call('POST', '/v1/orgs', { id: 'eu', name: 'EU org', region: 'EU' });
      const p = await h.call('POST', '/v1/orgs/eu/providers', { profile: 'callcabinet', recordingServers: [{ uri: 'sips:rec@cc.example' }] });
      expect(p.body).toMatchObject({ id: 'callcabinet', allowedRegions: ['US'], transport: 'tls', srtp: true });
      await h.call('POST', '/v1/orgs/eu/providers/callcabinet/terms', { acceptedBy: 'a@eu.example' });
      expectError(await h.call('PUT', '/v1/orgs/eu/service-settings', { providerId: 'callcabinet' }), 422, 'POLICY_REGION_RESTRICTED');
    });

    it('R-06 moving an organisation out of the selected provider\'s region is refused', async () => {
      await h.call('POST', '/v1/orgs', { id: 'us', name: 'US org' });
      await h.call('POST', '/v1/orgs/us/providers', { profile: 'callcabinet', recordingServers: [{ uri: 'sips:rec@cc.example' }] });
      await h.call('POST', '/v1/orgs/us/providers/callcabinet/terms', { acceptedBy: 'a@us.example' });
      expect((await h.call('PUT', '/v1/orgs/us/service-settings', { providerId: 'callcabinet' })).status).toBe(200);
      expectError(await h.call('PATCH', '/v1/orgs/us', { region: 'EU' }), 422, 'POLICY_REGION_RESTRICTED');
    });

    it('R-07 turning recording off for the organisation needs confirmRemoveForAllUsers', async () => {
      await seed();
      expectError(await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: null }), 422, 'POLICY_CONFIRMATION_REQUIRED');
      const ok = await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: null, confirmRemoveForAllUsers: true });
      expect(ok.body.providerId).toBeNull();
    });

    it('R-01 compliance announcement settings; delaySeconds above 60 or below 1 is refused', async () => {
      await seed();
      const put = await h.call('PUT', '/v1/orgs/acme/service-settings', { compliance: { inboundPstn: true, outboundPstn: true, outboundDelay: true, delaySeconds: 60 } });
      expect(put.body.compliance).toEqual({ inboundPstn: true, outboundPstn: true, outboundDelay: true, delaySeconds: 60 });
      expectError(await h.call('PUT', '/v1/orgs/acme/service-settings', { compliance: { delaySeconds: 61 } }), 400, 'POLICY_DELAY_OUT_OF_RANGE');
      expectError(await h.call('PUT', '/v1/orgs/acme/service-settings', { compliance: { delaySeconds: 0 } }), 400, 'POLICY_DELAY_OUT_OF_RANGE');
    });

    it('R-01/R-08 defaults are all off; the plan and retention of the provider are shown', async () => {
      await h.call('POST', '/v1/orgs', { id: 'acme', name: 'Acme' });
      expect((await h.call('GET', '/v1/orgs/acme/service-settings')).body).toEqual({
        providerId: null,
        provider: null,
        compliance: { inboundPstn: false, outboundPstn: false, outboundDelay: false, delaySeconds: 5 },
        termsAccepted: [],
      });
      await h.call('POST', '/v1/orgs/acme/providers', { profile: 'dubber', recordingServers: [{ uri: 'sips:r@dubber.example' }] });
      await h.call('POST', '/v1/orgs/acme/providers/dubber/terms', { acceptedBy: 'a' });
      const s = await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: 'dubber' });
      expect(s.body.provider).toEqual({ id: 'dubber', name: 'Dubber', profile: 'dubber', plan: 'free', retentionDays: 30 });
      await h.call('PATCH', '/v1/orgs/acme/providers/dubber', { plan: 'paid' });
      expect((await h.call('GET', '/v1/orgs/acme/service-settings')).body.provider).toMatchObject({ plan: 'paid', retentionDays: null });
    });

    it('R-40/R-41/R-42 a custom provider keeps servers in failover order, transport, dialect, SRTP and failure policy', async () => {
      await h.call('POST', '/v1/orgs', { id: 'acme', name: 'Acme' });
      const p = await h.call('POST', '/v1/orgs/acme/providers', { id: 'own', ...SRS, dialect: 'broadworks', transport: 'tls', srtp: true, failurePolicy: 'endCallWithAnnouncement' });
      expect(p.body).toMatchObject({ recordingServers: SRS.recordingServers, dialect: 'broadworks', transport: 'tls', srtp: true, failurePolicy: 'endCallWithAnnouncement', profile: 'custom' });
      expectError(await h.call('POST', '/v1/orgs/acme/providers', { id: 'bad', recordingServers: [] }), 400, 'POLICY_INVALID');
      expectError(await h.call('POST', '/v1/orgs/acme/providers', { id: 'own', ...SRS }), 409, 'POLICY_ALREADY_EXISTS');
    });

    it('a selected provider cannot be deleted', async () => {
      await seed();
      expectError(await h.call('DELETE', '/v1/orgs/acme/providers/srs'), 409, 'POLICY_IN_USE');
    });
  });

  describe('location call handling (R-02)', () => {
    it('R-02 a new location starts at orgDefault and can override provider and compliance', async () => {
      await seed();
      expect((await h.call('GET', '/v1/orgs/acme/locations/hq/call-handling')).body).toEqual({ provider: { mode: 'orgDefault' }, compliance: { mode: 'orgDefault' } });
      const put = await h.call('PUT', '/v1/orgs/acme/locations/hq/call-handling', {
        provider: { mode: 'none' },
        compliance: { mode: 'custom', settings: { inboundPstn: true, delaySeconds: 10 } },
      });
      expect(put.body).toEqual({
        provider: { mode: 'none' },
        compliance: { mode: 'custom', settings: { inboundPstn: true, outboundPstn: false, outboundDelay: false, delaySeconds: 10 } },
      });
      const eff = await h.call('GET', '/v1/orgs/acme/locations/hq/effective-settings');
      expect(eff.body).toMatchObject({ provider: null, providerSource: 'location', complianceSource: 'location' });
    });
    it('R-02 location compliance delay out of range is refused', async () => {
      await seed();
      expectError(await h.call('PUT', '/v1/orgs/acme/locations/hq/call-handling', { compliance: { mode: 'custom', settings: { delaySeconds: 90 } } }), 400, 'POLICY_DELAY_OUT_OF_RANGE');
    });
    it('R-02/R-05 a location provider needs accepted terms', async () => {
      await seed();
      await h.call('POST', '/v1/orgs/acme/providers', { id: 'alt', ...SRS });
      expectError(await h.call('PUT', '/v1/orgs/acme/locations/hq/call-handling', { provider: { mode: 'provider', providerId: 'alt' } }), 422, 'POLICY_TERMS_NOT_ACCEPTED');
    });
  });

  describe('user call experience (R-03, R-33)', () => {
    it('R-03 every recording setting can be set and read back', async () => {
      await seed();
      const recording = {
        enabled: true,
        mode: 'alwaysWithPauseResume',
        recordVoicemail: true,
        startStopAnnouncement: { pstn: true, internal: false },
        pauseResumeNotification: 'announcement',
        repeatTone: { enabled: true, intervalSeconds: 90 },
      };
      const put = await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { announcementLanguage: 'de-DE', recording });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ announcementLanguage: 'de-DE', recording });
      expect((await h.call('GET', '/v1/orgs/acme/users/alice/call-experience')).body).toEqual({ announcementLanguage: 'de-DE', recording });
    });

    it('R-03 enabling recording for a user without a Professional or Basic licence is refused', async () => {
      await seed();
      await h.call('POST', '/v1/orgs/acme/users', { id: 'bob', locationId: 'hq', firstName: 'Bob', lastName: 'Example' });
      expectError(await h.call('PUT', '/v1/orgs/acme/users/bob/call-experience', { recording: { enabled: true, mode: 'always' } }), 422, 'POLICY_LICENCE_REQUIRED');
      expectError(await h.call('POST', '/v1/orgs/acme/users', { id: 'carl', locationId: 'hq', firstName: 'C', lastName: 'E', licence: 'none', recording: { enabled: true } }), 422, 'POLICY_LICENCE_REQUIRED');
    });

    it('R-03 removing the licence of a recording user is refused', async () => {
      await seed();
      await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { enabled: true, mode: 'always' } });
      expectError(await h.call('PATCH', '/v1/orgs/acme/users/alice', { licence: 'none' }), 422, 'POLICY_LICENCE_REQUIRED');
    });

    it('R-03/R-19 repeat tone interval outside 10..90 is refused', async () => {
      await seed();
      expectError(await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { enabled: true, repeatTone: { enabled: true, intervalSeconds: 9 } } }), 400, 'POLICY_TONE_INTERVAL_OUT_OF_RANGE');
      expectError(await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { enabled: true, repeatTone: { enabled: true, intervalSeconds: 91 } } }), 400, 'POLICY_TONE_INTERVAL_OUT_OF_RANGE');
    });

    it('R-03 turning a user\'s recording off clears its settings', async () => {
      await seed();
      await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', {
        recording: { enabled: true, mode: 'onDemand', recordVoicemail: true, startStopAnnouncement: { pstn: true, internal: true }, repeatTone: { enabled: true, intervalSeconds: 30 } },
      });
      const off = await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { enabled: false } });
      expect(off.body.recording).toEqual(DEFAULT_RECORDING);
      expect((await h.call('GET', '/v1/orgs/acme/users/alice')).body.recording).toEqual(DEFAULT_RECORDING);
    });

    it('R-33 platform information is shown per user and cannot be written', async () => {
      await seed();
      const info = await h.call('GET', '/v1/orgs/acme/users/alice/platform-info');
      expect(info.body).toEqual({ serviceProvider: 'acme', externalGroup: 'hq', externalIdentifier: expect.any(String), externalType: 'BroadWorks' });
      expectError(await h.call('PUT', '/v1/orgs/acme/users/alice/platform-info', { serviceProvider: 'x' }), 404, 'ADMIN_ROUTE_NOT_FOUND');
      expectError(await h.call('PATCH', '/v1/orgs/acme/users/alice', { platformInfo: { serviceProvider: 'x' } }), 400, 'ADMIN_VALIDATION_FAILED');
    });

    it('R-10 a number already owned by another party is refused', async () => {
      await seed();
      expectError(await h.call('POST', '/v1/orgs/acme/users', { locationId: 'hq', firstName: 'D', lastName: 'E', numbers: ['+1 555 000 2001'] }), 409, 'POLICY_ADDRESS_IN_USE');
    });

    it('unknown fields, wrong types and unknown locations are refused with codes', async () => {
      await seed();
      expectError(await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { mode: 'sometimes' } }), 400, 'ADMIN_VALIDATION_FAILED');
      expectError(await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { colour: 'blue' }), 400, 'ADMIN_VALIDATION_FAILED');
      expectError(await h.call('POST', '/v1/orgs/acme/users', { locationId: 'mars', firstName: 'D', lastName: 'E' }), 422, 'POLICY_REFERENCE_INVALID');
      expectError(await h.call('GET', '/v1/orgs/acme/users/nobody'), 404, 'POLICY_NOT_FOUND');
      expectError(await h.call('GET', '/v1/orgs/nowhere/users'), 404, 'POLICY_NOT_FOUND');
      const bad = await fetch(`${h.url}/v1/orgs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{not json' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as Json).error.code).toBe('ADMIN_VALIDATION_FAILED');
    });
  });

  describe('virtual lines (R-20, R-33)', () => {
    it('R-20 recording is off by default and every setting can be set when a provider exists', async () => {
      await seed();
      const vl = await h.call('POST', '/v1/orgs/acme/virtual-lines', { id: 'lobby', locationId: 'hq', displayName: 'Lobby', numbers: ['+15550009000'] });
      expect(vl.body.recording).toEqual(DEFAULT_RECORDING);
      const rec = { enabled: true, mode: 'onDemand', recordVoicemail: true, startStopAnnouncement: { pstn: true, internal: true }, pauseResumeNotification: 'beep', repeatTone: { enabled: true, intervalSeconds: 10 } };
      expect((await h.call('PUT', '/v1/orgs/acme/virtual-lines/lobby/recording', rec)).body).toEqual(rec);
      expect((await h.call('GET', '/v1/orgs/acme/virtual-lines/lobby/platform-info')).body.externalType).toBe('BroadWorks');
      expect((await h.call('PUT', '/v1/orgs/acme/virtual-lines/lobby/recording', { enabled: false })).body).toEqual(DEFAULT_RECORDING);
    });

    it('R-20 enabling recording on a virtual line without a provider is refused', async () => {
      await seed();
      await h.call('POST', '/v1/orgs/acme/virtual-lines', { id: 'lobby', locationId: 'hq', displayName: 'Lobby' });
      await h.call('PUT', '/v1/orgs/acme/locations/hq/call-handling', { provider: { mode: 'none' } });
      expectError(await h.call('PUT', '/v1/orgs/acme/virtual-lines/lobby/recording', { enabled: true, mode: 'always' }), 422, 'POLICY_PROVIDER_REQUIRED');
    });
  });

  describe('features, trunks, voicemail and the call decision (R-04, R-10, R-11, R-21)', () => {
    it('R-04/R-11 a call classified from a trunk to an auto attendant gets the compliance announcement in its language', async () => {
      await seed();
      await h.call('PUT', '/v1/orgs/acme/service-settings', { compliance: { inboundPstn: true } });
      expect((await h.call('POST', '/v1/orgs/acme/auto-attendants', { id: 'menu', locationId: 'hq', name: 'Menu', numbers: ['+15550003000'], announcementLanguage: 'es-US' })).status).toBe(201);
      expect((await h.call('POST', '/v1/orgs/acme/call-queues', { id: 'support', locationId: 'hq', name: 'Support', extension: '3100' })).status).toBe(201);
      expect((await h.call('POST', '/v1/orgs/acme/hunt-groups', { id: 'sales', locationId: 'hq', name: 'Sales', extension: '3200' })).status).toBe(201);
      expect((await h.call('GET', '/v1/orgs/acme/call-queues')).body.map((f: Json) => f.id)).toEqual(['support']);
      expectError(await h.call('GET', '/v1/orgs/acme/hunt-groups/support'), 404, 'POLICY_NOT_FOUND');
      await h.call('POST', '/v1/orgs/acme/trunks', { id: 'carrier', name: 'Carrier', sourceAddresses: ['192.0.2.10'] });
      const res = await h.call('POST', '/v1/classify', { sourceAddress: '192.0.2.10:5060', from: 'sip:+442079460000@carrier', to: 'sip:+15550003000@sbc' });
      expect(res.body.input).toEqual({ direction: 'inbound-pstn', caller: { kind: 'pstn', number: '+442079460000' }, callee: { kind: 'auto-attendant', id: 'menu' } });
      expect(res.body.decision.compliance).toEqual({ play: true, to: 'pstn', language: 'es-US', phase: 'pre-answer', delaySeconds: 0 });
    });

    it('R-21 the voicemail destination is stored and used for classification', async () => {
      await seed();
      expect((await h.call('PUT', '/v1/orgs/acme/voicemail', { numbers: ['+15550008000'] })).body).toEqual({ numbers: ['+15550008000'], sipIdentities: [] });
      await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { enabled: true, mode: 'always', recordVoicemail: true } });
      const res = await h.call('POST', '/v1/classify', { sourceAddress: '10.0.0.1', from: 'sip:alice@acme.example', to: 'tel:+15550008000' });
      expect(res.body.input.callee).toEqual({ kind: 'voicemail', onBehalfOf: { kind: 'user', id: 'alice' } });
      expect(res.body.decision.parties[0]).toMatchObject({ record: true, reason: 'voicemail' });
    });

    it('R-10/R-17 the per-call decision is available for given call facts', async () => {
      await seed();
      await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { enabled: true, mode: 'onDemand' } });
      const d = await h.call('POST', '/v1/orgs/acme/call-decision', { direction: 'outbound-pstn', caller: { kind: 'user', id: 'alice' }, callee: { kind: 'pstn', number: '+442079460000' } });
      expect(d.body.parties[0]).toMatchObject({ record: true, start: 'onDemand', controls: { start: true, stop: true, pause: true, resume: true } });
      expect(d.body.parties[0].provider.recordingServers).toEqual([
        { uri: 'sip:srs@127.0.0.1:5090', transport: 'udp' },
        { uri: 'sip:srs@127.0.0.1:5092', transport: 'tcp' },
      ]);
    });
  });

  it('settings survive a restart of the server on the same database file', async () => {
    await seed();
    await h.call('PUT', '/v1/orgs/acme/users/alice/call-experience', { recording: { enabled: true, mode: 'always', repeatTone: { enabled: true, intervalSeconds: 45 } } });
    await h.call('PUT', '/v1/orgs/acme/locations/hq/call-handling', { compliance: { mode: 'custom', settings: { outboundPstn: true, outboundDelay: true, delaySeconds: 7 } } });
    const before = await h.call('GET', '/v1/orgs/acme/users/alice/effective-settings');
    await h.stop();
    h = await startHarness(db.path);
    const after = await h.call('GET', '/v1/orgs/acme/users/alice/effective-settings');
    expect(after.body).toEqual(before.body);
    expect(after.body.recording.repeatTone.intervalSeconds).toBe(45);
    expect(after.body.compliance.delaySeconds).toBe(7);
    expect((await h.call('GET', '/v1/orgs/acme/providers/srs/terms')).body.acceptedBy).toBe('admin@acme.example');
  });
});

describe('admin server binding', () => {
  it('with no token configured binds to 127.0.0.1 only, whatever host is asked, and logs that it does', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const db = tempDbPath();
    const h = await startHarness(db.path, { token: undefined, host: '0.0.0.0', logger });
    try {
      expect(new URL(h.url).hostname).toBe('127.0.0.1');
      expect((h.server.app.server.address() as { address: string }).address).toBe('127.0.0.1');
      expect(lines.join('')).toMatch(/no token configured, binding to 127.0.0.1 only/);
      expect((await h.call('GET', '/v1/orgs')).status).toBe(200);
    } finally {
      await h.stop();
      db.cleanup();
    }
  });

  it('extra plugins add resources under /v1 behind the same auth and error handling', async () => {
    const db = tempDbPath();
    const h = await startHarness(db.path, {
      extraPlugins: [
        {
          name: 'calls',
          register(app) {
            app.get('/calls', async () => [{ callId: 'c1' }]);
            app.get('/calls/fail', async () => {
              throw new Error('boom');
            });
          },
        },
      ],
    });
    try {
      expect((await h.call('GET', '/v1/calls')).body).toEqual([{ callId: 'c1' }]);
      expect((await fetch(`${h.url}/v1/calls`)).status).toBe(401);
      const fail = await h.call('GET', '/v1/calls/fail');
      expect(fail).toEqual({ status: 500, body: { error: { code: 'ADMIN_INTERNAL', message: 'internal error' } } });
    } finally {
      await h.stop();
      db.cleanup();
    }
  });

  it('close() is idempotent and listen() after close rejects with CLOSED', async () => {
    const db = tempDbPath();
    const h = await startHarness(db.path);
    await h.server.close();
    await h.server.close();
    await expect(h.server.listen()).rejects.toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await h.repo.close();
    db.cleanup();
  });
});
