import type { AdminPlugin } from '../admin-options.js';
import { registerResource } from '../resource-table.js';
import { TRUNKS } from '../resources.js';

/** Trunks / PSTN sources: calls from their addresses are PSTN calls. */
export const trunksPlugin: AdminPlugin = {
  name: 'trunks',
  register: (app, ctx) => registerResource(app, ctx, TRUNKS),
};
