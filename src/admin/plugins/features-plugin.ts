import { AppError } from '../../common/errors.js';
import type { FeatureKind } from '../../policy/policy-types.js';
import type { FeatureInput } from '../../policy/settings-input-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { featureCreateSchema, featurePatchSchema } from '../admin-schemas.js';

const PATHS: readonly [string, FeatureKind][] = [
  ['auto-attendants', 'auto-attendant'],
  ['call-queues', 'call-queue'],
  ['hunt-groups', 'hunt-group'],
];

/** Auto attendants, call queues and hunt groups: numbers and announcement language. */
export const featuresPlugin: AdminPlugin = {
  name: 'features',
  register(app, { service, repository, settingsChanged }) {
    for (const [path, kind] of PATHS) {
      const tags = [path];
      const base = `/orgs/:orgId/${path}`;
      defineRoute(app, {
        method: 'GET',
        url: base,
        tags,
        summary: `List ${path}`,
        handler: async ({ params }) => {
          await service.getOrganisation(params.orgId!);
          return repository.features.listByKind(params.orgId!, kind);
        },
      });
      defineRoute<Omit<FeatureInput, 'kind'>>(app, {
        method: 'POST',
        url: base,
        tags,
        summary: `Create a ${kind} (R-04 language)`,
        body: featureCreateSchema,
        status: 201,
        handler: async ({ params, body }) => {
          const f = await service.createFeature(params.orgId!, { ...body, kind });
          settingsChanged(params.orgId!);
          return f;
        },
      });
      defineRoute(app, {
        method: 'GET',
        url: `${base}/:featureId`,
        tags,
        summary: `Get a ${kind}`,
        handler: async ({ params }) => {
          const f = await repository.features.get(params.orgId!, params.featureId!);
          if (!f || f.kind !== kind) throw new AppError('POLICY_NOT_FOUND', `${kind} ${params.featureId}`);
          return f;
        },
      });
      defineRoute<Omit<FeatureInput, 'kind'>>(app, {
        method: 'PATCH',
        url: `${base}/:featureId`,
        tags,
        summary: `Update a ${kind}`,
        body: featurePatchSchema,
        handler: async ({ params, body }) => {
          const f = await service.updateFeature(params.orgId!, kind, params.featureId!, body);
          settingsChanged(params.orgId!);
          return f;
        },
      });
      defineRoute(app, {
        method: 'DELETE',
        url: `${base}/:featureId`,
        tags,
        summary: `Delete a ${kind}`,
        handler: async ({ params }) => {
          await service.deleteFeature(params.orgId!, kind, params.featureId!);
          settingsChanged(params.orgId!);
          return undefined;
        },
      });
    }
  },
};
