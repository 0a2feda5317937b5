import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { decideCall } from '../../../../src/policy/call-decision.js';
import { SettingsService } from '../../../../src/policy/settings-service.js';
import { applyProvisioning, parseProvisioningFile, readProvisioningFile } from '../../../../src/policy/store/provisioning-file.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../../src/policy/store/sqlite-repository.js';

const fixture = (name: string) => new URL(`../../../fixtures/provisioning/${name}`, import.meta.url);

describe('provisioning file bootstrap', () => {
  let repo: SqlitePolicyRepository;
  let service: SettingsService;
  let n = 0;
  beforeEach(() => {
    repo = openSqliteRepository({ path: ':memory:' });
    service = new SettingsService({ repository: repo, clock: new FakeClock(), newId: () => `generated-${++n}` });
  });
  afterEach(() => repo.close());

  it('creates every entity of the file, through the same rules as the API', async () => {
    const result = await applyProvisioning(service, await readProvisioningFile(fixture('acme.yaml').pathname));
    // org 1, providers 2, terms 1, locations 2, users 2, virtual line 1, features 3, trunk 1
    expect(result.created).toBe(13);
    const snap = (await repo.loadSnapshot('acme'))!;
    expect(snap.org.serviceSettings).toEqual({ providerId: 'srs', compliance: { inboundPstn: true, outboundPstn: true, outboundDelay: true, delaySeconds: 3 } });
    expect(snap.termsAcceptances).toEqual([
      { orgId: 'acme', providerId: 'srs', acceptedBy: 'admin@acme.example', acceptedAt: '2025-03-04T10:15:00.000Z', sharedData: ['timeZone', 'firstName', 'lastName', 'email'] },
    ]);
    expect(snap.locations.find((l) => l.id === 'paris')?.callHandling.compliance).toEqual({
      mode: 'custom',
      settings: { inboundPstn: true, outboundPstn: false, outboundDelay: true, delaySeconds: 3 },
    });
    expect(snap.users.find((u) => u.id === 'alice')?.platformInfo).toEqual({
      serviceProvider: 'acme-sp',
      externalGroup: 'acme-hq',
      externalIdentifier: 'alice.example@acme',
      externalType: 'BroadWorks',
    });
    expect(snap.providers.find((p) => p.id === 'dubber')).toMatchObject({ autoProvisioning: true, plan: 'free', dialect: 'broadworks' });
    expect(snap.features.map((f) => `${f.kind}:${f.id}`)).toEqual(['auto-attendant:main-menu', 'call-queue:support', 'hunt-group:sales']);
    const d = decideCall(snap, { direction: 'outbound-pstn', caller: { kind: 'user', id: 'alice' }, callee: { kind: 'pstn', number: '+1' } });
    expect(d.parties[0]).toMatchObject({ record: true, reason: 'alwaysWithPauseResume', repeatToneIntervalSeconds: 30 });
    expect(d.compliance).toMatchObject({ play: true, delaySeconds: 3 });
  });

  it('is idempotent: applying the same file again changes nothing', async () => {
    const file = await readProvisioningFile(fixture('acme.yaml').pathname);
    await applyProvisioning(service, file);
    const before = await repo.loadSnapshot('acme');
    const again = await applyProvisioning(service, file);
    expect(again.created).toBe(0);
    expect(again.updated).toBe(0);
    expect(await repo.loadSnapshot('acme')).toEqual(before);
  });

  it('a changed file updates what changed and keeps the rest', async () => {
    await applyProvisioning(service, await readProvisioningFile(fixture('acme.yaml').pathname));
    const changed = readFileSync(fixture('acme.yaml'), 'utf8').replace('name: Headquarters', 'name: Head office');
    const r = await applyProvisioning(service, parseProvisioningFile(changed));
    expect(r.updated).toBe(1);
    expect((await repo.locations.get('acme', 'hq'))?.name).toBe('Head office');
  });

  it('R-05 a file selecting a provider without accepted terms is refused, naming the entry and the rule', async () => {
    const p = applyProvisioning(service, await readProvisioningFile(fixture('terms-missing.yaml').pathname));
    await expect(p).rejects.toThrow(expect.objectContaining({ code: 'POLICY_PROVISIONING_FILE_INVALID' }));
    await expect(applyProvisioning(service, await readProvisioningFile(fixture('terms-missing.yaml').pathname))).rejects.toThrow(/serviceSettings: POLICY_TERMS_NOT_ACCEPTED/);
  });

  it('malformed files are refused with POLICY_PROVISIONING_FILE_INVALID', async () => {
    expect(() => parseProvisioningFile('organisations: [{ name: no-id }]')).toThrow(/needs an id/);
    expect(() => parseProvisioningFile(': : :')).toThrow(expect.objectContaining({ code: 'POLICY_PROVISIONING_FILE_INVALID' }));
    await expect(readProvisioningFile('/nonexistent/provisioning.yaml')).rejects.toThrow(expect.objectContaining({ code: 'POLICY_PROVISIONING_FILE_INVALID' }));
  });
});
