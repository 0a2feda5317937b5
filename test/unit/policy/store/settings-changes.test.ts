import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { SettingsService } from '../../../../src/policy/settings-service.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../../src/policy/store/sqlite-repository.js';

describe('the settings service announces every settings change itself (writers never do)', () => {
  let repo: SqlitePolicyRepository;
  let service: SettingsService;
  let changed: string[];

  beforeEach(() => {
    repo = openSqliteRepository({ path: ':memory:' });
    changed = [];
    service = new SettingsService({ repository: repo, clock: new FakeClock(), onChanged: (orgId) => changed.push(orgId) });
  });
  afterEach(() => repo.close());

  it('announces each successful write once, with the organisation it changed', async () => {
    await service.createOrganisation({ id: 'acme', name: 'Acme' });
    await service.createLocation('acme', { id: 'hq', name: 'HQ' });
    await service.createTrunk('acme', { id: 't1', name: 'carrier', sourceAddresses: ['192.0.2.1'] });
    await service.updateTrunk('acme', 't1', { name: 'carrier 2' });
    await service.createUser('acme', { id: 'alice', locationId: 'hq', firstName: 'A', lastName: 'B', licence: 'professional', numbers: ['+15550001'] });
    await service.putUserCallExperience('acme', 'alice', { recording: { enabled: false } });
    await service.deleteTrunk('acme', 't1');
    expect(changed).toEqual(['acme', 'acme', 'acme', 'acme', 'acme', 'acme', 'acme']);
  });

  it('announces nothing for a write the rules refuse, nor for reads', async () => {
    await service.createOrganisation({ id: 'acme', name: 'Acme' });
    changed = [];
    await expect(service.putServiceSettings('acme', { compliance: { outboundDelay: true, delaySeconds: 61 } })).rejects.toThrow();
    await expect(service.deleteTrunk('acme', 'missing')).rejects.toThrow();
    await service.snapshot('acme');
    await service.getOrganisation('acme');
    expect(changed).toEqual([]);
  });
});
