import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';

/** Auto-provisioning outcomes and a manual retry. */
export const provisioningPlugin: AdminPlugin = {
  name: 'provisioning',
  register(app, { service, repository, provisioning }) {
    const tags = ['provisioning'];
    defineRoute(app, {
      method: 'GET',
      url: '/orgs/:orgId/provisioning',
      tags,
      summary: 'Auto-provisioning records: status, attempts, last error, next retry (R-06)',
      handler: async ({ params }) => {
        await service.getOrganisation(params.orgId!);
        return repository.listProvisioningRecords(params.orgId!);
      },
    });
    defineRoute(app, {
      method: 'POST',
      url: '/orgs/:orgId/provisioning/retry',
      tags,
      summary: 'Retry every failed auto-provisioning record now',
      handler: async ({ params }) => ({ retried: await provisioning.retryFailed(params.orgId!) }),
    });
  },
};
