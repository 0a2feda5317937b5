import { resolveEffectiveSettings } from '../../policy/effective-settings.js';
import type { User } from '../../policy/policy-types.js';
import type { CallExperienceInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { callExperienceSchema } from '../admin-schemas.js';
import { findOr404, registerResource } from '../resource-table.js';
import { USERS, withProvisioning } from '../resources.js';

const callExperience = (u: User) => ({ announcementLanguage: u.announcementLanguage, recording: u.recording });

/** Users, the "user call experience" screen, platform information. */
export const usersPlugin: AdminPlugin = {
  name: 'users',
  register(app, ctx) {
    const { service } = ctx;
    const { tags } = USERS;
    const one = `${USERS.base}/:${USERS.idParam}`;
    registerResource(app, ctx, USERS);
    defineRoute(app, {
      method: 'GET',
      url: `${one}/call-experience`,
      tags,
      summary: 'User call experience: announcement language and recording settings (R-03)',
      handler: async ({ params }) => callExperience(await findOr404<User>(ctx, USERS, params)),
    });
    defineRoute<CallExperienceInput>(app, {
      method: 'PUT',
      url: `${one}/call-experience`,
      tags,
      summary: 'Set recording (R-03: licence required; off clears the settings; tone 10..90) and language',
      body: callExperienceSchema,
      handler: async ({ params, body, actor }) => {
        const r = await withProvisioning(ctx, 'user', await service.putUserCallExperience(params.orgId!, params.userId!, body), actor);
        return { ...callExperience(r), ...('provisioning' in r ? { provisioning: r.provisioning } : {}) };
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${one}/platform-info`,
      tags,
      summary: 'Read-only platform information for provider support (R-33)',
      handler: async ({ params }) => (await findOr404<User>(ctx, USERS, params)).platformInfo,
    });
    defineRoute(app, {
      method: 'GET',
      url: `${one}/effective-settings`,
      tags,
      summary: 'Settings in effect for the user: org -> location -> user (R-02, R-03, R-10)',
      handler: async ({ params }) => resolveEffectiveSettings(await service.snapshot(params.orgId!), 'user', params.userId!),
    });
  },
};
