import { AppError } from '../../common/errors.js';
import type { TrunkInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { trunkCreateSchema, trunkPatchSchema } from '../admin-schemas.js';

/** Trunks / PSTN sources: calls from their addresses are PSTN calls. */
export const trunksPlugin: AdminPlugin = {
  name: 'trunks',
  register(app, { service, repository, settingsChanged }) {
    const tags = ['trunks'];
    const base = '/orgs/:orgId/trunks';
    defineRoute(app, {
      method: 'GET',
      url: base,
      tags,
      summary: 'List trunks',
      handler: async ({ params }) => {
        await service.getOrganisation(params.orgId!);
        return repository.trunks.list(params.orgId!);
      },
    });
    defineRoute<TrunkInput>(app, {
      method: 'POST',
      url: base,
      tags,
      summary: 'Add a trunk (source addresses of PSTN signalling)',
      body: trunkCreateSchema,
      status: 201,
      handler: async ({ params, body }) => {
        const t = await service.createTrunk(params.orgId!, body);
        settingsChanged(params.orgId!);
        return t;
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:trunkId`,
      tags,
      summary: 'Get a trunk',
      handler: async ({ params }) => {
        const t = await repository.trunks.get(params.orgId!, params.trunkId!);
        if (!t) throw new AppError('POLICY_NOT_FOUND', `trunk ${params.trunkId}`);
        return t;
      },
    });
    defineRoute<TrunkInput>(app, {
      method: 'PATCH',
      url: `${base}/:trunkId`,
      tags,
      summary: 'Update a trunk',
      body: trunkPatchSchema,
      handler: async ({ params, body }) => {
        const t = await service.updateTrunk(params.orgId!, params.trunkId!, body);
        settingsChanged(params.orgId!);
        return t;
      },
    });
    defineRoute(app, {
      method: 'DELETE',
      url: `${base}/:trunkId`,
      tags,
      summary: 'Delete a trunk',
      handler: async ({ params }) => {
        await service.deleteTrunk(params.orgId!, params.trunkId!);
        settingsChanged(params.orgId!);
        return undefined;
      },
    });
  },
};
