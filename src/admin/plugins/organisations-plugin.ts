import { PROVIDER_PROFILES, retentionDays } from '../../policy/policy-defaults.js';
import type { OrganisationInput, ServiceSettingsInput } from '../../policy/settings-input-types.js';
import type { VoicemailDestination } from '../../policy/policy-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { organisationCreateSchema, organisationPatchSchema, serviceSettingsSchema, voicemailSchema } from '../admin-schemas.js';

/**
 * Organisations and the "organisation service settings" screen: provider (R-05..R-08) and
 * compliance announcement; plus the voicemail destination and the provider profiles.
 */
export const organisationsPlugin: AdminPlugin = {
  name: 'organisations',
  register(app, { service, repository, settingsChanged }) {
    const tags = ['organisations'];
    defineRoute(app, { method: 'GET', url: '/provider-profiles', tags: ['providers'], summary: 'Built-in provider profiles and their defaults', handler: async () => Object.values(PROVIDER_PROFILES) });
    defineRoute(app, { method: 'GET', url: '/orgs', tags, summary: 'List organisations', handler: () => repository.listOrganisations() });
    defineRoute<OrganisationInput>(app, {
      method: 'POST',
      url: '/orgs',
      tags,
      summary: 'Create an organisation (provider none, compliance off)',
      body: organisationCreateSchema,
      status: 201,
      handler: async ({ body }) => {
        const org = await service.createOrganisation(body);
        settingsChanged(org.id);
        return org;
      },
    });
    defineRoute(app, { method: 'GET', url: '/orgs/:orgId', tags, summary: 'Get an organisation', handler: ({ params }) => service.getOrganisation(params.orgId!) });
    defineRoute<OrganisationInput>(app, {
      method: 'PATCH',
      url: '/orgs/:orgId',
      tags,
      summary: 'Update name, region (R-06), customer name, default language',
      body: organisationPatchSchema,
      handler: async ({ params, body }) => {
        const org = await service.updateOrganisation(params.orgId!, body);
        settingsChanged(org.id);
        return org;
      },
    });
    defineRoute(app, {
      method: 'DELETE',
      url: '/orgs/:orgId',
      tags,
      summary: 'Delete an organisation and everything it owns',
      handler: async ({ params }) => {
        await service.deleteOrganisation(params.orgId!);
        settingsChanged(params.orgId!);
        return undefined;
      },
    });

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
        settingsChanged(params.orgId!);
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
      handler: async ({ params, body }) => {
        const v = await service.putVoicemail(params.orgId!, body);
        settingsChanged(params.orgId!);
        return v;
      },
    });
  },
};
