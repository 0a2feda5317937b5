import { AppError } from '../../common/errors.js';
import type { ProviderInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { providerCreateSchema, providerPatchSchema, termsSchema } from '../admin-schemas.js';

/** Recording providers of an organisation (R-01, R-05, R-06, R-08, R-40..R-42) and their terms. */
export const providersPlugin: AdminPlugin = {
  name: 'providers',
  register(app, { service, repository, settingsChanged }) {
    const tags = ['providers'];
    const base = '/orgs/:orgId/providers';
    defineRoute(app, {
      method: 'GET',
      url: base,
      tags,
      summary: 'List providers',
      handler: async ({ params }) => {
        await service.getOrganisation(params.orgId!);
        return repository.providers.list(params.orgId!);
      },
    });
    defineRoute<ProviderInput>(app, {
      method: 'POST',
      url: base,
      tags,
      summary: 'Add a provider from a profile (dubber, imagicle, callcabinet, custom)',
      body: providerCreateSchema,
      status: 201,
      handler: async ({ params, body }) => {
        const p = await service.createProvider(params.orgId!, body);
        settingsChanged(params.orgId!);
        return p;
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:providerId`,
      tags,
      summary: 'Get a provider',
      handler: async ({ params }) => {
        const p = await repository.providers.get(params.orgId!, params.providerId!);
        if (!p) throw new AppError('POLICY_NOT_FOUND', `provider ${params.providerId}`);
        return p;
      },
    });
    defineRoute<ProviderInput>(app, {
      method: 'PATCH',
      url: `${base}/:providerId`,
      tags,
      summary: 'Update servers, transport, dialect, plan, failure policy...',
      body: providerPatchSchema,
      handler: async ({ params, body }) => {
        const p = await service.updateProvider(params.orgId!, params.providerId!, body);
        settingsChanged(params.orgId!);
        return p;
      },
    });
    defineRoute(app, {
      method: 'DELETE',
      url: `${base}/:providerId`,
      tags,
      summary: 'Delete a provider that nobody selects',
      handler: async ({ params }) => {
        await service.deleteProvider(params.orgId!, params.providerId!);
        settingsChanged(params.orgId!);
        return undefined;
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:providerId/terms`,
      tags,
      summary: 'The terms acceptance (R-05), or 404 when not accepted',
      handler: async ({ params }) => {
        const t = await service.getTerms(params.orgId!, params.providerId!);
        if (!t) throw new AppError('POLICY_NOT_FOUND', `terms of provider ${params.providerId} not accepted`);
        return t;
      },
    });
    defineRoute<{ acceptedBy: string }>(app, {
      method: 'POST',
      url: `${base}/:providerId/terms`,
      tags,
      summary: "Accept the provider's terms on the organisation's behalf, once (R-05)",
      body: termsSchema,
      status: 201,
      handler: ({ params, body }) => service.acceptTerms(params.orgId!, params.providerId!, body.acceptedBy),
    });
  },
};
