import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as adminSchemas from '../../../../src/admin/admin-schemas.js';
import type { KeyMap, KeyShape } from '../../../../src/common/unknown-keys.js';
import { SettingsService } from '../../../../src/policy/settings-service.js';
import { PROVISIONING_FILE_KEYS, parseProvisioningFile } from '../../../../src/policy/store/provisioning-file.js';
import { applyProvisioningFileIfChanged, lastAppliedProvisioningFile } from '../../../../src/policy/store/provisioning-file-state.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../../src/policy/store/sqlite-repository.js';
import { FakeClock } from '../../../fakes/fake-clock.js';

const acme = readFileSync(new URL('../../../fixtures/provisioning/acme.yaml', import.meta.url), 'utf8');

describe('provisioning file: unknown keys and syntax errors (issue 13 item 6)', () => {
  it('MUST refuse an unknown key, naming its path and the nearest known key', () => {
    const typo = acme.replace('        firstName: Alice', '        firstNme: Alice');
    expect(() => parseProvisioningFile(typo, 'p.yaml')).toThrow(expect.objectContaining({ code: 'POLICY_PROVISIONING_FILE_INVALID' }));
    expect(() => parseProvisioningFile(typo, 'p.yaml')).toThrow('p.yaml: organisations[0].users[0].firstNme: unknown key; did you mean organisations[0].users[0].firstName?');
    const nested = acme.replace('repeatTone: { enabled: true, intervalSeconds: 30 }', 'repeatTone: { enabled: true, intervalSecs: 30 }');
    expect(() => parseProvisioningFile(nested, 'p.yaml')).toThrow('organisations[0].users[0].recording.repeatTone.intervalSecs: unknown key; did you mean organisations[0].users[0].recording.repeatTone.intervalSeconds?');
    expect(() => parseProvisioningFile('organisation: []\n', 'p.yaml')).toThrow('p.yaml: organisation: unknown key; did you mean organisations?');
  });

  it('MUST report a syntax error as one line with its line and column', () => {
    let message = '';
    try {
      parseProvisioningFile('organisations:\n  - id: a\n    name: A\n    name: B\n', 'p.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('invalid provisioning file: p.yaml: line 4, column 5: Map keys must be unique');
  });

  it('knows exactly the keys of the admin API request bodies, plus the file\'s own (terms, callHandling, platformInfo, nested lists)', () => {
    const keysOf = (schema: { properties: Record<string, unknown> }): string[] => Object.keys(schema.properties).sort();
    const org = (PROVISIONING_FILE_KEYS.organisations as readonly [KeyMap])[0];
    const item = (k: string): KeyMap => (org[k] as readonly [KeyMap])[0];
    const own = (shape: KeyShape, ...extra: string[]): string[] => Object.keys(shape).filter((k) => !extra.includes(k)).sort();
    expect(own(org, 'providers', 'serviceSettings', 'locations', 'users', 'virtualLines', 'autoAttendants', 'callQueues', 'huntGroups', 'trunks', 'voicemail')).toEqual(keysOf(adminSchemas.organisationCreateSchema));
    expect(own(item('providers'), 'terms')).toEqual(keysOf(adminSchemas.providerCreateSchema));
    expect(own(item('providers').terms!)).toEqual(keysOf(adminSchemas.termsSchema));
    expect(own(org.serviceSettings!)).toEqual(keysOf(adminSchemas.serviceSettingsSchema));
    expect(own(item('locations'), 'callHandling')).toEqual(keysOf(adminSchemas.locationCreateSchema));
    expect(own(item('locations').callHandling!)).toEqual(keysOf(adminSchemas.callHandlingSchema));
    expect(own(item('users'), 'platformInfo')).toEqual(keysOf(adminSchemas.userCreateSchema));
    expect(own((item('users').recording as KeyMap))).toEqual(keysOf(adminSchemas.recordingSchema));
    expect(own(item('virtualLines'), 'platformInfo')).toEqual(keysOf(adminSchemas.virtualLineCreateSchema));
    for (const k of ['autoAttendants', 'callQueues', 'huntGroups']) expect(own(item(k))).toEqual(keysOf(adminSchemas.featureCreateSchema));
    expect(own(item('trunks'))).toEqual(keysOf(adminSchemas.trunkCreateSchema));
    expect(own(org.voicemail!)).toEqual(keysOf(adminSchemas.voicemailSchema));
  });
});

describe('provisioning file and the admin API: applied when its content changed since it was last applied', () => {
  let dir: string;
  let path: string;
  let repo: SqlitePolicyRepository;
  let service: SettingsService;
  const open = (): void => {
    repo = openSqliteRepository({ path: join(dir, 'settings.db') });
    service = new SettingsService({ repository: repo, clock: new FakeClock() });
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prov-state-'));
    path = join(dir, 'provisioning.yaml');
    writeFileSync(path, acme);
    open();
  });
  afterEach(() => repo.close());

  it('MUST keep a change made through the API when the same file is read again at the next start', async () => {
    const first = await applyProvisioningFileIfChanged(service, repo, path);
    expect(first).toMatchObject({ applied: true, previous: undefined });
    await service.updateLocation('acme', 'hq', { name: 'Changed through the API' });
    await repo.close();
    open(); // a restart
    const second = await applyProvisioningFileIfChanged(service, repo, path);
    expect(second.applied).toBe(false);
    expect((await repo.locations.get('acme', 'hq'))?.name).toBe('Changed through the API');
  });

  it('MUST apply the file again when its content changed, over the API change', async () => {
    await applyProvisioningFileIfChanged(service, repo, path);
    await service.updateLocation('acme', 'hq', { name: 'Changed through the API' });
    writeFileSync(path, acme.replace('name: Paris office', 'name: Paris'));
    const again = await applyProvisioningFileIfChanged(service, repo, path);
    expect(again).toMatchObject({ applied: true, result: { created: 0, updated: 2 } });
    expect((await repo.locations.get('acme', 'hq'))?.name).toBe('Headquarters');
    expect((await repo.locations.get('acme', 'paris'))?.name).toBe('Paris');
    expect(await lastAppliedProvisioningFile(repo)).toMatchObject({ path, result: { updated: 2 } });
  });

  it('MUST refuse a file with an unknown key and record nothing, so that the next start tries it again', async () => {
    writeFileSync(path, acme.replace('        firstName: Alice', '        firstNme: Alice'));
    await expect(applyProvisioningFileIfChanged(service, repo, path)).rejects.toMatchObject({ code: 'POLICY_PROVISIONING_FILE_INVALID' });
    expect(await lastAppliedProvisioningFile(repo)).toBeUndefined();
  });
});
