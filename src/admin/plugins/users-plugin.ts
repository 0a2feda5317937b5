import { AppError } from '../../common/errors.js';
import { resolveEffectiveSettings } from '../../policy/effective-settings.js';
import type { User } from '../../policy/policy-types.js';
import type { CallExperienceInput, UserInput } from '../../policy/settings-input-types.js';
import type { RecordingWrite } from '../../policy/settings-service.js';
import type { AdminContext, AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { callExperienceSchema, userCreateSchema, userPatchSchema } from '../admin-schemas.js';

/** After a write that turned recording on, auto-provision and return the outcome with the entity. */
export async function withProvisioning<T extends { id: string; orgId: string }>(
  ctx: AdminContext,
  kind: 'user' | 'virtual-line',
  write: RecordingWrite<T>,
  actor: string | undefined,
): Promise<T & { provisioning?: unknown }> {
  ctx.settingsChanged(write.entity.orgId);
  if (!write.recordingTurnedOn) return write.entity;
  const provisioning = await ctx.provisioning.recordingEnabled(write.entity.orgId, { kind, id: write.entity.id }, actor);
  return provisioning ? { ...write.entity, provisioning } : write.entity;
}

const callExperience = (u: User) => ({ announcementLanguage: u.announcementLanguage, recording: u.recording });

/** Users, the "user call experience" screen, platform information. */
export const usersPlugin: AdminPlugin = {
  name: 'users',
  register(app, ctx) {
    const { service, repository } = ctx;
    const tags = ['users'];
    const base = '/orgs/:orgId/users';
    const get = async (orgId: string, id: string) => {
      const u = await repository.users.get(orgId, id);
      if (!u) throw new AppError('POLICY_NOT_FOUND', `user ${id}`);
      return u;
    };
    defineRoute(app, {
      method: 'GET',
      url: base,
      tags,
      summary: 'List users',
      handler: async ({ params }) => {
        await service.getOrganisation(params.orgId!);
        return repository.users.list(params.orgId!);
      },
    });
    defineRoute<UserInput>(app, {
      method: 'POST',
      url: base,
      tags,
      summary: 'Create a user (recording off unless given; R-03 licence rule applies)',
      body: userCreateSchema,
      status: 201,
      handler: async ({ params, body, actor }) => withProvisioning(ctx, 'user', await service.createUser(params.orgId!, body), actor),
    });
    defineRoute(app, { method: 'GET', url: `${base}/:userId`, tags, summary: 'Get a user', handler: ({ params }) => get(params.orgId!, params.userId!) });
    defineRoute<UserInput>(app, {
      method: 'PATCH',
      url: `${base}/:userId`,
      tags,
      summary: 'Update a user (licence, numbers, location, names...)',
      body: userPatchSchema,
      handler: async ({ params, body, actor }) => withProvisioning(ctx, 'user', await service.updateUser(params.orgId!, params.userId!, body), actor),
    });
    defineRoute(app, {
      method: 'DELETE',
      url: `${base}/:userId`,
      tags,
      summary: 'Delete a user',
      handler: async ({ params }) => {
        await service.deleteUser(params.orgId!, params.userId!);
        ctx.settingsChanged(params.orgId!);
        return undefined;
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:userId/call-experience`,
      tags,
      summary: 'User call experience: announcement language and recording settings (R-03)',
      handler: async ({ params }) => callExperience(await get(params.orgId!, params.userId!)),
    });
    defineRoute<CallExperienceInput>(app, {
      method: 'PUT',
      url: `${base}/:userId/call-experience`,
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
      url: `${base}/:userId/platform-info`,
      tags,
      summary: 'Read-only platform information for provider support (R-33)',
      handler: async ({ params }) => (await get(params.orgId!, params.userId!)).platformInfo,
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:userId/effective-settings`,
      tags,
      summary: 'Settings in effect for the user: org -> location -> user (R-02, R-03, R-10)',
      handler: async ({ params }) => resolveEffectiveSettings(await service.snapshot(params.orgId!), 'user', params.userId!),
    });
  },
};
