import { AppError } from '../../common/errors.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { termsSchema } from '../admin-schemas.js';
import { registerResource } from '../resource-table.js';
import { PROVIDERS } from '../resources.js';

/** Recording providers of an organisation (R-01, R-05, R-06, R-08, R-40..R-42) and their terms. */
export const providersPlugin: AdminPlugin = {
  name: 'providers',
  register(app, ctx) {
    const { service } = ctx;
    const { tags } = PROVIDERS;
    const one = `${PROVIDERS.base}/:${PROVIDERS.idParam}`;
    registerResource(app, ctx, PROVIDERS);
    defineRoute(app, {
      method: 'GET',
      url: `${one}/terms`,
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
      url: `${one}/terms`,
      tags,
      summary: "Accept the provider's terms on the organisation's behalf, once (R-05)",
      body: termsSchema,
      status: 201,
      handler: ({ params, body }) => service.acceptTerms(params.orgId!, params.providerId!, body.acceptedBy),
    });
  },
};
