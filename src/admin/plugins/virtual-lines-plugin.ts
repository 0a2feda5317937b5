import { resolveEffectiveSettings } from '../../policy/effective-settings.js';
import type { VirtualLine } from '../../policy/policy-types.js';
import type { RecordingInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { recordingSchema } from '../admin-schemas.js';
import { findOr404, registerResource } from '../resource-table.js';
import { VIRTUAL_LINES, withProvisioning } from '../resources.js';

/** Virtual lines and their recording screen, platform information. */
export const virtualLinesPlugin: AdminPlugin = {
  name: 'virtual-lines',
  register(app, ctx) {
    const { service } = ctx;
    const { tags } = VIRTUAL_LINES;
    const one = `${VIRTUAL_LINES.base}/:${VIRTUAL_LINES.idParam}`;
    registerResource(app, ctx, VIRTUAL_LINES);
    defineRoute(app, {
      method: 'GET',
      url: `${one}/recording`,
      tags,
      summary: 'Virtual line recording settings (R-20)',
      handler: async ({ params }) => (await findOr404<VirtualLine>(ctx, VIRTUAL_LINES, params)).recording,
    });
    defineRoute<RecordingInput>(app, {
      method: 'PUT',
      url: `${one}/recording`,
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
      url: `${one}/platform-info`,
      tags,
      summary: 'Read-only platform information for provider support (R-33)',
      handler: async ({ params }) => (await findOr404<VirtualLine>(ctx, VIRTUAL_LINES, params)).platformInfo,
    });
    defineRoute(app, {
      method: 'GET',
      url: `${one}/effective-settings`,
      tags,
      summary: 'Settings in effect for the virtual line (R-20)',
      handler: async ({ params }) => resolveEffectiveSettings(await service.snapshot(params.orgId!), 'virtual-line', params.lineId!),
    });
  },
};
