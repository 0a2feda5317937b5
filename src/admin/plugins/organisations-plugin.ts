import { PROVIDER_PROFILES, retentionDays } from '../../policy/policy-defaults.js';
import type { ServiceSettingsInput } from '../../policy/settings-input-types.js';
import type { VoicemailDestination } from '../../policy/policy-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { serviceSettingsSchema, voicemailSchema } from '../admin-schemas.js';
import { registerResource } from '../resource-table.js';
import { ORGANISATIONS } from '../resources.js';

/**
 * Organisations and the "organisation service settings" screen: provider (R-05..R-08) and
 * compliance announcement; plus the voicemail destination and the provider profiles.
 */
export const organisationsPlugin: AdminPlugin = {
  name: 'organisations',
  register(app, ctx) {
    const { service } = ctx;
    const { tags } = ORGANISATIONS;
    defineRoute(app, { method: 'GET', url: '/provider-profiles', tags: ['providers'], summary: 'Built-in provider profiles and their defaults', handler: async () => Object.values(PROVIDER_PROFILES) });
    registerResource(app, ctx, ORGANISATIONS);

    const serviceSettingsView = async (orgId: string) => {
      const snap = await service.snapshot(orgId);
      const p = snap.providers.find((x) => x.id === snap.org.serviceSettings.providerId);
      return {
        providerId: snap.org.serviceSettings.providerId,
        provider: p ? { id: p.id, name: p.name, profile: p.profile, plan: p.plan, retentionDays: retentionDays(p.plan) } : null,
        compliance: snap.org.serviceSettings.compliance,
        termsAccepted: snap.termsAcceptances.map((t) => t.providerId),
      };
    };
    defineRoute(app, {
      method: 'GET',
      url: '/orgs/:orgId/service-settings',
      tags,
      summary: 'Organisation service settings: provider (with plan, R-08) and compliance announcement (R-01)',
      handler: ({ params }) => serviceSettingsView(params.orgId!),
    });
    defineRoute<ServiceSettingsInput>(app, {
      method: 'PUT',
      url: '/orgs/:orgId/service-settings',
      tags,
      summary: 'Choose the provider (R-05 terms, R-06 region, R-07 confirmation for none) and compliance settings (R-01)',
      body: serviceSettingsSchema,
      handler: async ({ params, body }) => {
        await service.putServiceSettings(params.orgId!, body);
        return serviceSettingsView(params.orgId!);
      },
    });
    defineRoute(app, { method: 'GET', url: '/orgs/:orgId/voicemail', tags, summary: 'Voicemail destination (R-21)', handler: async ({ params }) => (await service.getOrganisation(params.orgId!)).voicemail });
    defineRoute<Partial<VoicemailDestination>>(app, {
      method: 'PUT',
      url: '/orgs/:orgId/voicemail',
      tags,
      summary: 'Set the voicemail destination numbers / SIP identities (R-21)',
      body: voicemailSchema,
      handler: ({ params, body }) => service.putVoicemail(params.orgId!, body),
    });
  },
};
