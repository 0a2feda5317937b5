import type { AdminPlugin } from '../admin-options.js';
import { registerResource } from '../resource-table.js';
import { FEATURES } from '../resources.js';

/** Auto attendants, call queues and hunt groups: numbers and announcement language. */
export const featuresPlugin: AdminPlugin = {
  name: 'features',
  register(app, ctx) {
    for (const resource of FEATURES) registerResource(app, ctx, resource);
  },
};
