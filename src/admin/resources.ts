import type { FeatureKind } from '../policy/policy-types.js';
import type { FeatureInput, LocationInput, OrganisationInput, ProviderInput, TrunkInput, UserInput, VirtualLineInput } from '../policy/settings-input-types.js';
import type { RecordingWrite } from '../policy/settings-service.js';
import type { AdminContext } from './admin-options.js';
import {
  featureCreateSchema,
  featurePatchSchema,
  locationCreateSchema,
  locationPatchSchema,
  organisationCreateSchema,
  organisationPatchSchema,
  providerCreateSchema,
  providerPatchSchema,
  trunkCreateSchema,
  trunkPatchSchema,
  userCreateSchema,
  userPatchSchema,
  virtualLineCreateSchema,
  virtualLinePatchSchema,
} from './admin-schemas.js';
import type { Resource } from './resource-table.js';

/**
 * The admin API's entities, one row each (docs/admin-api.md "Resources"): path, schemas, summaries
 * and the settings-service calls. The plugins register these rows (resource-table.ts) and add each
 * entity's screens (service settings, call handling, call experience, terms ...).
 */

/** After a write that turned recording on, auto-provision and return the outcome with the entity. */
export async function withProvisioning<T extends { id: string; orgId: string }>(
  ctx: AdminContext,
  kind: 'user' | 'virtual-line',
  write: RecordingWrite<T>,
  actor: string | undefined,
): Promise<T & { provisioning?: unknown }> {
  if (!write.recordingTurnedOn) return write.entity;
  const provisioning = await ctx.provisioning.recordingEnabled(write.entity.orgId, { kind, id: write.entity.id }, actor);
  return provisioning ? { ...write.entity, provisioning } : write.entity;
}

/** Lists of an organisation's entities answer 404 for an unknown organisation. */
async function ofOrg<T>(ctx: AdminContext, orgId: string, list: () => Promise<T>): Promise<T> {
  await ctx.service.getOrganisation(orgId);
  return list();
}

export const ORGANISATIONS: Resource<OrganisationInput> = {
  base: '/orgs',
  idParam: 'orgId',
  noun: 'organisation',
  tags: ['organisations'],
  summary: {
    list: 'List organisations',
    create: 'Create an organisation (provider none, compliance off)',
    get: 'Get an organisation',
    update: 'Update name, region (R-06), customer name, default language',
    remove: 'Delete an organisation and everything it owns',
  },
  createSchema: organisationCreateSchema,
  patchSchema: organisationPatchSchema,
  list: (ctx) => ctx.repository.listOrganisations(),
  find: (ctx, _p, id) => ctx.service.getOrganisation(id),
  create: (ctx, _p, body) => ctx.service.createOrganisation(body),
  update: (ctx, _p, id, body) => ctx.service.updateOrganisation(id, body),
  remove: (ctx, _p, id) => ctx.service.deleteOrganisation(id),
};

export const PROVIDERS: Resource<ProviderInput> = {
  base: '/orgs/:orgId/providers',
  idParam: 'providerId',
  noun: 'provider',
  tags: ['providers'],
  summary: {
    list: 'List providers',
    create: 'Add a provider from a profile (dubber, imagicle, callcabinet, custom)',
    get: 'Get a provider',
    update: 'Update servers, transport, dialect, plan, failure policy...',
    remove: 'Delete a provider that nobody selects',
  },
  createSchema: providerCreateSchema,
  patchSchema: providerPatchSchema,
  list: (ctx, p) => ofOrg(ctx, p.orgId!, () => ctx.repository.providers.list(p.orgId!)),
  find: (ctx, p, id) => ctx.repository.providers.get(p.orgId!, id),
  create: (ctx, p, body) => ctx.service.createProvider(p.orgId!, body),
  update: (ctx, p, id, body) => ctx.service.updateProvider(p.orgId!, id, body),
  remove: (ctx, p, id) => ctx.service.deleteProvider(p.orgId!, id),
};

export const LOCATIONS: Resource<LocationInput> = {
  base: '/orgs/:orgId/locations',
  idParam: 'locationId',
  noun: 'location',
  tags: ['locations'],
  summary: {
    list: 'List locations',
    create: 'Create a location (provider and compliance start at orgDefault, R-02)',
    get: 'Get a location',
    update: 'Update name, time zone, announcement language',
    remove: 'Delete an empty location',
  },
  createSchema: locationCreateSchema,
  patchSchema: locationPatchSchema,
  list: (ctx, p) => ofOrg(ctx, p.orgId!, () => ctx.repository.locations.list(p.orgId!)),
  find: (ctx, p, id) => ctx.repository.locations.get(p.orgId!, id),
  create: (ctx, p, body) => ctx.service.createLocation(p.orgId!, body),
  update: (ctx, p, id, body) => ctx.service.updateLocation(p.orgId!, id, body),
  remove: (ctx, p, id) => ctx.service.deleteLocation(p.orgId!, id),
};

export const USERS: Resource<UserInput> = {
  base: '/orgs/:orgId/users',
  idParam: 'userId',
  noun: 'user',
  tags: ['users'],
  summary: {
    list: 'List users',
    create: 'Create a user (recording off unless given; R-03 licence rule applies)',
    get: 'Get a user',
    update: 'Update a user (licence, numbers, location, names...)',
    remove: 'Delete a user',
  },
  createSchema: userCreateSchema,
  patchSchema: userPatchSchema,
  list: (ctx, p) => ofOrg(ctx, p.orgId!, () => ctx.repository.users.list(p.orgId!)),
  find: (ctx, p, id) => ctx.repository.users.get(p.orgId!, id),
  create: async (ctx, p, body, actor) => withProvisioning(ctx, 'user', await ctx.service.createUser(p.orgId!, body), actor),
  update: async (ctx, p, id, body, actor) => withProvisioning(ctx, 'user', await ctx.service.updateUser(p.orgId!, id, body), actor),
  remove: (ctx, p, id) => ctx.service.deleteUser(p.orgId!, id),
};

export const VIRTUAL_LINES: Resource<VirtualLineInput> = {
  base: '/orgs/:orgId/virtual-lines',
  idParam: 'lineId',
  noun: 'virtual line',
  tags: ['virtual-lines'],
  summary: {
    list: 'List virtual lines',
    create: 'Create a virtual line (recording off by default, R-20)',
    get: 'Get a virtual line',
    update: 'Update a virtual line',
    remove: 'Delete a virtual line',
  },
  createSchema: virtualLineCreateSchema,
  patchSchema: virtualLinePatchSchema,
  list: (ctx, p) => ofOrg(ctx, p.orgId!, () => ctx.repository.virtualLines.list(p.orgId!)),
  find: (ctx, p, id) => ctx.repository.virtualLines.get(p.orgId!, id),
  create: async (ctx, p, body, actor) => withProvisioning(ctx, 'virtual-line', await ctx.service.createVirtualLine(p.orgId!, body), actor),
  update: async (ctx, p, id, body, actor) => withProvisioning(ctx, 'virtual-line', await ctx.service.updateVirtualLine(p.orgId!, id, body), actor),
  remove: (ctx, p, id) => ctx.service.deleteVirtualLine(p.orgId!, id),
};

/** Auto attendants, call queues, hunt groups: one row per kind. */
function feature(path: string, kind: FeatureKind, article: 'a' | 'an'): Resource<Omit<FeatureInput, 'kind'>> {
  return {
    base: `/orgs/:orgId/${path}`,
    idParam: 'featureId',
    noun: kind,
    tags: [path],
    summary: { list: `List ${path}`, create: `Create ${article} ${kind} (R-04 language)`, get: `Get ${article} ${kind}`, update: `Update ${article} ${kind}`, remove: `Delete ${article} ${kind}` },
    createSchema: featureCreateSchema,
    patchSchema: featurePatchSchema,
    list: (ctx, p) => ofOrg(ctx, p.orgId!, () => ctx.repository.features.listByKind(p.orgId!, kind)),
    find: async (ctx, p, id) => {
      const f = await ctx.repository.features.get(p.orgId!, id);
      return f?.kind === kind ? f : undefined;
    },
    create: (ctx, p, body) => ctx.service.createFeature(p.orgId!, { ...body, kind }),
    update: (ctx, p, id, body) => ctx.service.updateFeature(p.orgId!, kind, id, body),
    remove: (ctx, p, id) => ctx.service.deleteFeature(p.orgId!, kind, id),
  };
}

export const FEATURES = [feature('auto-attendants', 'auto-attendant', 'an'), feature('call-queues', 'call-queue', 'a'), feature('hunt-groups', 'hunt-group', 'a')] as const;

export const TRUNKS: Resource<TrunkInput> = {
  base: '/orgs/:orgId/trunks',
  idParam: 'trunkId',
  noun: 'trunk',
  tags: ['trunks'],
  summary: { list: 'List trunks', create: 'Add a trunk (source addresses of PSTN signalling)', get: 'Get a trunk', update: 'Update a trunk', remove: 'Delete a trunk' },
  createSchema: trunkCreateSchema,
  patchSchema: trunkPatchSchema,
  list: (ctx, p) => ofOrg(ctx, p.orgId!, () => ctx.repository.trunks.list(p.orgId!)),
  find: (ctx, p, id) => ctx.repository.trunks.get(p.orgId!, id),
  create: (ctx, p, body) => ctx.service.createTrunk(p.orgId!, body),
  update: (ctx, p, id, body) => ctx.service.updateTrunk(p.orgId!, id, body),
  remove: (ctx, p, id) => ctx.service.deleteTrunk(p.orgId!, id),
};
