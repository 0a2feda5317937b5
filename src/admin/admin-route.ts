import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clean, errorResponseSchema } from './admin-schemas.js';

/** A request as handlers see it: path params, parsed body, query, and the acting administrator. */
export interface RouteRequest<B = unknown> {
  readonly params: Record<string, string>;
  readonly body: B;
  readonly query: Record<string, string>;
  /** The `x-admin-user` header (R-05 acceptedBy default, R-06 provider admin), when sent. */
  readonly actor: string | undefined;
}

export interface RouteSpec<B> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify path, e.g. '/orgs/:orgId/users/:userId' (registered under /v1). */
  readonly url: string;
  readonly summary: string;
  readonly tags: readonly string[];
  /** JSON schema of the body. */
  readonly body?: object;
  /** Success status; default 200 (204 when the handler returns undefined). */
  readonly status?: number;
  readonly handler: (req: RouteRequest<B>) => Promise<unknown>;
}

/** Register one route with a params schema derived from its path and the shared error response. */
export function defineRoute<B = unknown>(app: FastifyInstance, spec: RouteSpec<B>): void {
  const names = [...spec.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);
  const params =
    names.length > 0
      ? { type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, { type: 'string', minLength: 1, maxLength: 256 }])) }
      : undefined;
  app.route({
    method: spec.method,
    url: spec.url,
    config: { successStatus: spec.status ?? (spec.method === 'DELETE' ? 204 : 200) },
    schema: clean({
      summary: spec.summary,
      tags: spec.tags,
      ...(params ? { params } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { '4XX': errorResponseSchema, '5XX': errorResponseSchema },
    }),
    handler: async (req: FastifyRequest, reply) => {
      const actorHeader = req.headers['x-admin-user'];
      const result = await spec.handler({
        params: req.params as Record<string, string>,
        body: req.body as B,
        query: req.query as Record<string, string>,
        actor: typeof actorHeader === 'string' && actorHeader !== '' ? actorHeader : undefined,
      });
      if (result === undefined) return reply.code(204).send();
      return reply.code(spec.status ?? 200).send(result);
    },
  });
}
