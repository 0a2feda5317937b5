import { AppError } from '../../common/errors.js';
import { resolveLocationSettings } from '../../policy/effective-settings.js';
import type { CallHandlingInput, LocationInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { callHandlingSchema, locationCreateSchema, locationPatchSchema } from '../admin-schemas.js';

/** Locations and the "location call handling" screen. */
export const locationsPlugin: AdminPlugin = {
  name: 'locations',
  register(app, { service, repository, settingsChanged }) {
    const tags = ['locations'];
    const base = '/orgs/:orgId/locations';
    const get = async (orgId: string, id: string) => {
      const l = await repository.locations.get(orgId, id);
      if (!l) throw new AppError('POLICY_NOT_FOUND', `location ${id}`);
      return l;
    };
    defineRoute(app, {
      method: 'GET',
      url: base,
      tags,
      summary: 'List locations',
      handler: async ({ params }) => {
        await service.getOrganisation(params.orgId!);
        return repository.locations.list(params.orgId!);
      },
    });
    defineRoute<LocationInput>(app, {
      method: 'POST',
      url: base,
      tags,
      summary: 'Create a location (provider and compliance start at orgDefault, R-02)',
      body: locationCreateSchema,
      status: 201,
      handler: async ({ params, body }) => {
        const l = await service.createLocation(params.orgId!, body);
        settingsChanged(params.orgId!);
        return l;
      },
    });
    defineRoute(app, { method: 'GET', url: `${base}/:locationId`, tags, summary: 'Get a location', handler: ({ params }) => get(params.orgId!, params.locationId!) });
    defineRoute<LocationInput>(app, {
      method: 'PATCH',
      url: `${base}/:locationId`,
      tags,
      summary: 'Update name, time zone, announcement language',
      body: locationPatchSchema,
      handler: async ({ params, body }) => {
        const l = await service.updateLocation(params.orgId!, params.locationId!, body);
        settingsChanged(params.orgId!);
        return l;
      },
    });
    defineRoute(app, {
      method: 'DELETE',
      url: `${base}/:locationId`,
      tags,
      summary: 'Delete an empty location',
      handler: async ({ params }) => {
        await service.deleteLocation(params.orgId!, params.locationId!);
        settingsChanged(params.orgId!);
        return undefined;
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:locationId/call-handling`,
      tags,
      summary: 'Location call handling: provider and compliance, each orgDefault or overridden (R-02)',
      handler: async ({ params }) => (await get(params.orgId!, params.locationId!)).callHandling,
    });
    defineRoute<CallHandlingInput>(app, {
      method: 'PUT',
      url: `${base}/:locationId/call-handling`,
      tags,
      summary: 'Override or inherit the provider / compliance settings (R-02)',
      body: callHandlingSchema,
      handler: async ({ params, body }) => {
        const ch = await service.putCallHandling(params.orgId!, params.locationId!, body);
        settingsChanged(params.orgId!);
        return ch;
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: `${base}/:locationId/effective-settings`,
      tags,
      summary: 'The provider and compliance settings in effect at the location',
      handler: async ({ params }) => resolveLocationSettings(await service.snapshot(params.orgId!), params.locationId!),
    });
  },
};
