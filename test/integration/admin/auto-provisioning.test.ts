import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/fake-clock.js';
import { startFakeProvisioningServer, type FakeProvisioningServer } from './fake-provisioning-server.js';
import { startHarness, tempDbPath, type Harness, type Json } from './admin-harness.js';
import { sleep } from '../../support/wait.js';

describe('auto-provisioning through a local fake provider endpoint (R-06)', () => {
  let db: ReturnType<typeof tempDbPath>;
  let fake: FakeProvisioningServer;
  let h: Harness;
  let clock: FakeClock;

  beforeEach(async () => {
    db = tempDbPath();
    fake = await startFakeProvisioningServer();
    clock = new FakeClock();
    h = await startHarness(db.path, { clock, timers: clock, provisioning: { defaultBaseUrl: fake.baseUrl, attempts: 1, retryDelayMs: 60_000 } });
    await h.call('POST', '/v1/orgs', { id: 'acme', name: 'Acme', customerName: 'Acme Inc' });
    await h.call('POST', '/v1/orgs/acme/providers', { profile: 'dubber', recordingServers: [{ uri: 'sips:rec@dubber.example' }] });
    await h.call('POST', '/v1/orgs/acme/providers/dubber/terms', { acceptedBy: 'admin@acme.example' });
    await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: 'dubber' });
    await h.call('POST', '/v1/orgs/acme/locations', { id: 'hq', name: 'HQ', timeZone: 'America/New_York' });
    for (const id of ['alice', 'bob']) {
      await h.call('POST', '/v1/orgs/acme/users', { id, locationId: 'hq', firstName: id, lastName: 'Example', email: `${id}@acme.example`, licence: 'basic' });
    }
  });
  afterEach(async () => {
    await h.stop();
    await fake.close();
    db.cleanup();
  });

  const enable = (id: string) => h.call('PUT', `/v1/orgs/acme/users/${id}/call-experience`, { recording: { enabled: true, mode: 'always' } }, { 'x-admin-user': 'admin@acme.example' });

  it('R-06 enabling the first user creates the organisation account, then provisions the user and the enabling admin', async () => {
    const res = await enable('alice');
    expect(res.status).toBe(200);
    expect(res.body.provisioning.map((r: Json) => [r.subjectKind, r.subjectId, r.status])).toEqual([
      ['organisation', 'acme', 'provisioned'],
      ['user', 'alice', 'provisioned'],
      ['admin', 'admin@acme.example', 'provisioned'],
    ]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/accounts', '/accounts/acct-1/users', '/accounts/acct-1/users']);
    // the account carries the plan; only the agreed user data is shared (dubber: no customer name).
    expect(fake.requests[0]?.body).toEqual({ organisationId: 'acme', name: 'Acme', region: 'US', plan: 'free' });
    expect(fake.requests[1]?.body).toMatchObject({ role: 'user', firstName: 'alice', lastName: 'Example', email: 'alice@acme.example', timeZone: 'America/New_York' });
    expect(fake.requests[2]?.body).toMatchObject({ role: 'admin', externalIdentifier: 'admin@acme.example' });
  });

  it('R-06 enabling a further user provisions that user only (the account exists)', async () => {
    await enable('alice');
    fake.requests.length = 0;
    await enable('bob');
    expect(fake.requests.map((r) => r.path)).toEqual(['/accounts/acct-1/users']);
    const records = (await h.call('GET', '/v1/orgs/acme/provisioning')).body;
    expect(records.filter((r: Json) => r.status === 'provisioned').map((r: Json) => r.subjectId).sort()).toEqual(['acme', 'admin@acme.example', 'alice', 'bob']);
  });

  it('R-06 a failure is reported with its reason and stored, not swallowed; a manual retry provisions', async () => {
    fake.failNext(1, 503);
    const res = await enable('alice');
    expect(res.status).toBe(200);
    const [account, user] = res.body.provisioning;
    expect(account).toMatchObject({ subjectKind: 'organisation', status: 'failed', attempts: 1, nextRetryAt: '2025-03-04T10:16:00.000Z' });
    expect(account.lastError).toMatch(/HTTP 503/);
    expect(user).toMatchObject({ subjectKind: 'user', status: 'failed' });
    expect(user.lastError).toMatch(/provider account not provisioned/);
    expect((await h.call('GET', '/v1/orgs/acme/provisioning')).body.filter((r: Json) => r.status === 'failed')).toHaveLength(3);
    const retry = await h.call('POST', '/v1/orgs/acme/provisioning/retry');
    expect(retry.body.retried.every((r: Json) => r.status === 'provisioned')).toBe(true);
    expect((await h.call('GET', '/v1/orgs/acme/provisioning')).body.every((r: Json) => r.status === 'provisioned')).toBe(true);
  });

  it('R-06 failed provisioning is retried in the background after the retry delay', async () => {
    fake.failNext(1, 500);
    await enable('alice');
    expect(clock.pending).toBe(1);
    clock.advance(60_000);
    for (let i = 0; i < 50; i++) {
      const records = (await h.call('GET', '/v1/orgs/acme/provisioning')).body;
      if (records.every((r: Json) => r.status === 'provisioned')) break;
      await sleep(20);
    }
    const records = (await h.call('GET', '/v1/orgs/acme/provisioning')).body;
    expect(records.map((r: Json) => [r.subjectKind, r.status])).toEqual([
      ['organisation', 'provisioned'],
      ['user', 'provisioned'],
      ['admin', 'provisioned'],
    ]);
    expect(records[0].attempts).toBe(2);
  });

  it('R-06 an unreachable endpoint is reported with the network reason', async () => {
    await fake.close();
    const res = await enable('alice');
    expect(res.body.provisioning[0].status).toBe('failed');
    expect(res.body.provisioning[0].lastError).toMatch(/ECONNREFUSED|fetch failed/);
    fake = await startFakeProvisioningServer();
  });

  it('R-06 providers without auto-provisioning are not contacted', async () => {
    await h.call('POST', '/v1/orgs/acme/providers', { id: 'imagicle', profile: 'imagicle', recordingServers: [{ uri: 'sips:rec@imagicle.example' }] });
    await h.call('POST', '/v1/orgs/acme/providers/imagicle/terms', { acceptedBy: 'admin@acme.example' });
    await h.call('PUT', '/v1/orgs/acme/locations/hq/call-handling', { provider: { mode: 'provider', providerId: 'imagicle' } });
    const res = await enable('alice');
    expect(res.body.provisioning).toBeUndefined();
    expect(fake.requests).toHaveLength(0);
  });

  it('R-20 enabling a virtual line provisions the line and its assigned user', async () => {
    await h.call('POST', '/v1/orgs/acme/virtual-lines', { id: 'lobby', locationId: 'hq', displayName: 'Lobby', assignedUserId: 'bob' });
    const res = await h.call('PUT', '/v1/orgs/acme/virtual-lines/lobby/recording', { enabled: true, mode: 'always' });
    expect(res.body.provisioning.map((r: Json) => [r.subjectKind, r.subjectId, r.status])).toEqual([
      ['organisation', 'acme', 'provisioned'],
      ['virtual-line', 'lobby', 'provisioned'],
      ['user', 'bob', 'provisioned'],
    ]);
  });
});

describe('auto-provisioning retries within a request (R-06)', () => {
  it('R-06 a transient failure is retried with back-off and succeeds within the request', async () => {
    const db = tempDbPath();
    const fake = await startFakeProvisioningServer();
    const h = await startHarness(db.path, { provisioning: { defaultBaseUrl: fake.baseUrl, attempts: 3, backoffMs: 5 } });
    try {
      await h.call('POST', '/v1/orgs', { id: 'acme', name: 'Acme' });
      await h.call('POST', '/v1/orgs/acme/providers', { profile: 'dubber', recordingServers: [{ uri: 'sips:rec@dubber.example' }] });
      await h.call('POST', '/v1/orgs/acme/providers/dubber/terms', { acceptedBy: 'admin@acme.example' });
      await h.call('PUT', '/v1/orgs/acme/service-settings', { providerId: 'dubber' });
      await h.call('POST', '/v1/orgs/acme/locations', { id: 'hq', name: 'HQ' });
      fake.failNext(2, 503);
      const res = await h.call('POST', '/v1/orgs/acme/users', { id: 'alice', locationId: 'hq', firstName: 'A', lastName: 'E', licence: 'professional', recording: { enabled: true, mode: 'always' } });
      expect(res.status).toBe(201);
      expect(res.body.provisioning[0]).toMatchObject({ subjectKind: 'organisation', status: 'provisioned', attempts: 3, lastError: null });
      expect(fake.requests.filter((r) => r.path === '/accounts')).toHaveLength(3);
    } finally {
      await h.stop();
      await fake.close();
      db.cleanup();
    }
  });
});
