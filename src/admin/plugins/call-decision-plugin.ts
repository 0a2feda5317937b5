import { AppError } from '../../common/errors.js';
import { decideCall } from '../../policy/call-decision.js';
import type { CallDecisionInput } from '../../policy/call-decision-types.js';
import { createPolicyDirectory, type SignalingFacts } from '../../policy/policy-directory.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { callDecisionSchema, classifySchema } from '../admin-schemas.js';

/**
 * What the product would do for a call, without placing one: the per-call decision (R-10..R-21) for
 * given call facts, or classification from signalling facts followed by the decision.
 */
export const callDecisionPlugin: AdminPlugin = {
  name: 'call-decision',
  register(app, { service, repository }) {
    const tags = ['call-decision'];
    defineRoute<CallDecisionInput>(app, {
      method: 'POST',
      url: '/orgs/:orgId/call-decision',
      tags,
      summary: 'The per-call decision for the given call facts',
      body: callDecisionSchema,
      handler: async ({ params, body }) => decideCall(await service.snapshot(params.orgId!), body),
    });
    defineRoute<SignalingFacts>(app, {
      method: 'POST',
      url: '/classify',
      tags,
      summary: 'Classify a call from its signalling facts (trunk source, From, To, diversion) and decide it',
      body: classifySchema,
      handler: async ({ body }) => {
        const snapshots = await repository.loadAllSnapshots();
        const classified = createPolicyDirectory(snapshots).classify(body);
        if (!classified) throw new AppError('POLICY_NOT_FOUND', 'no organisation party matches this call');
        const snap = snapshots.find((s) => s.org.id === classified.orgId)!;
        return { ...classified, decision: decideCall(snap, classified.input) };
      },
    });
  },
};
