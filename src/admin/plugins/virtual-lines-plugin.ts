import { AppError } from '../../common/errors.js';
import { resolveEffectiveSettings } from '../../policy/effective-settings.js';
import type { RecordingInput, VirtualLineInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { recordingSchema, virtualLineCreateSchema, virtualLinePatchSchema } from '../admin-schemas.js';
import { withProvisioning } from './users-plugin.js';

/** Virtual lines and their recording screen, platform information. */
export const virtualLinesPlugin: AdminPlugin = {
  name: 'virtual-lines',
  register(app, ctx) {
    const { service, repository } = ctx;
    const tags = ['virtual-lines'];
    const base = '/orgs/:orgId/virtual-lines';
    const get = async (orgId: string, id: string) => {
      const v = await repository.virtualLines.get(orgId, id);
      if (!v) throw new AppError('POLICY_NOT_FOUND', `virtual line ${id}`);
      return v;
    };
    defineRoute(app, {
      method: 'GET',
      url: base,
      tags,
      summary: 'List virtual lines',
      handler: async ({ params }) => {
        await service.getOrganisation(params.orgId!);
        return repository.virtualLines.list(params.orgId!);
      },
    });
    defineRoute<VirtualLineInput>(app, {
      method: 'POST',
      url: base,
      tags,
      summary: 'Create a virtual line (recording off by default, R-20)',
      body: virtualLineCreateSchema,
      status: 201,
      handler: async ({ params, body, actor }) => withProvisioning(ctx, 'virtual-line', await service.createVirtualLine(params.orgId!, body), actor),
    });
    defineRoute(app, { method: 'GET', url: `${base}/:lineId`, tags, summary: 'Get a virtual line', handler: ({ params }) => get(params.orgId!, params.lineId!) });
    defineRoute<VirtualLineInput>(app, {
      method: 'PATCH',
      url: `${base}/:lineId`,
      tags,
      summary: 'Update a virtual line',
      body: virtualLinePatchSchema,
      handler: async ({ params, body, actor }) => withProvisioning(ctx, 'virtual-line', await service.updateVirtualLine(params.orgId!, params.lineId!, body), actor),
    });
    defineRoute(app, {
      method: 'DELETE',
      url: `${base}/:lineId`,
      tags,
      summary: 'Delete a virtual line',
      handler: async ({ params }) => {
        await service.deleteVirtualLine(params.orgId!, params.lineId!);
        ctx.settingsChanged(params.orgId!);
        return undefined;
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:lineId/recording`,
      tags,
      summary: 'Virtual line recording settings (R-20)',
      handler: async ({ params }) => (await get(params.orgId!, params.lineId!)).recording,
    });
    defineRoute<RecordingInput>(app, {
      method: 'PUT',
      url: `${base}/:lineId/recording`,
      tags,
      summary: 'Set recording (R-20: needs a provider at the location or organisation; off clears the settings)',
      body: recordingSchema,
      handler: async ({ params, body, actor }) => {
        const r = await withProvisioning(ctx, 'virtual-line', await service.updateVirtualLine(params.orgId!, params.lineId!, { recording: body }), actor);
        return { ...r.recording, ...('provisioning' in r ? { provisioning: r.provisioning } : {}) };
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:lineId/platform-info`,
      tags,
      summary: 'Read-only platform information for provider support (R-33)',
      handler: async ({ params }) => (await get(params.orgId!, params.lineId!)).platformInfo,
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:lineId/effective-settings`,
      tags,
      summary: 'Settings in effect for the virtual line (R-20)',
      handler: async ({ params }) => resolveEffectiveSettings(await service.snapshot(params.orgId!), 'virtual-line', params.lineId!),
    });
  },
};
