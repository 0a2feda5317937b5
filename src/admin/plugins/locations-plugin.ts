import { resolveLocationSettings } from '../../policy/effective-settings.js';
import type { Location } from '../../policy/policy-types.js';
import type { CallHandlingInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { callHandlingSchema } from '../admin-schemas.js';
import { findOr404, registerResource } from '../resource-table.js';
import { LOCATIONS } from '../resources.js';

/** Locations and the "location call handling" screen. */
export const locationsPlugin: AdminPlugin = {
  name: 'locations',
  register(app, ctx) {
    const { service } = ctx;
    const { tags } = LOCATIONS;
    const one = `${LOCATIONS.base}/:${LOCATIONS.idParam}`;
    registerResource(app, ctx, LOCATIONS);
    defineRoute(app, {
      method: 'GET',
      url: `${one}/call-handling`,
      tags,
      summary: 'Location call handling: provider and compliance, each orgDefault or overridden (R-02)',
      handler: async ({ params }) => (await findOr404<Location>(ctx, LOCATIONS, params)).callHandling,
    });
    defineRoute<CallHandlingInput>(app, {
      method: 'PUT',
      url: `${one}/call-handling`,
      tags,
      summary: 'Override or inherit the provider / compliance settings (R-02)',
      body: callHandlingSchema,
      handler: ({ params, body }) => service.putCallHandling(params.orgId!, params.locationId!, body),
    });
    defineRoute(app, {
      method: 'GET',
      url: `${one}/effective-settings`,
      tags,
      summary: 'The provider and compliance settings in effect at the location',
      handler: async ({ params }) => resolveLocationSettings(await service.snapshot(params.orgId!), params.locationId!),
    });
  },
};
