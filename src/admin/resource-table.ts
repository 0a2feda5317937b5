import type { FastifyInstance } from 'fastify';
import { AppError } from '../common/errors.js';
import type { AdminContext } from './admin-options.js';
import { defineRoute } from './admin-route.js';

/**
 * One entity kind of the settings model as the admin API serves it: the collection path, the id
 * parameter, the JSON schemas of its writes, the route summaries, and the settings-service calls.
 * registerResource() turns a row into the five routes every entity has (list, create, get, update,
 * delete); the rows themselves are in resources.ts, the screens beyond them in the plugins.
 * Writes go through the settings service, which announces each change (SettingsService onChanged).
 */
export interface Resource<In = never> {
  /** Collection path under /v1, e.g. '/orgs/:orgId/trunks'. */
  readonly base: string;
  /** Path parameter naming one entity, e.g. 'trunkId'. */
  readonly idParam: string;
  /** For "not found" errors, e.g. 'trunk'. */
  readonly noun: string;
  readonly tags: readonly string[];
  readonly summary: { readonly list: string; readonly create: string; readonly get: string; readonly update: string; readonly remove: string };
  readonly createSchema: object;
  readonly patchSchema: object;
  list(ctx: AdminContext, params: Record<string, string>): Promise<unknown>;
  /** The entity, or undefined/null when there is none (404 POLICY_NOT_FOUND). */
  find(ctx: AdminContext, params: Record<string, string>, id: string): Promise<unknown>;
  create(ctx: AdminContext, params: Record<string, string>, body: In, actor: string | undefined): Promise<unknown>;
  update(ctx: AdminContext, params: Record<string, string>, id: string, body: In, actor: string | undefined): Promise<unknown>;
  remove(ctx: AdminContext, params: Record<string, string>, id: string): Promise<void>;
}

/** The entity `params[r.idParam]` names, or POLICY_NOT_FOUND. */
export async function findOr404<T>(ctx: AdminContext, r: Resource<never> | Resource<unknown>, params: Record<string, string>): Promise<T> {
  const id = params[r.idParam]!;
  const found = await (r as Resource<unknown>).find(ctx, params, id);
  if (found === undefined || found === null) throw new AppError('POLICY_NOT_FOUND', `${r.noun} ${id}`);
  return found as T;
}

/** Registers the five routes of one resource row: GET/POST on the collection, GET/PATCH/DELETE on one entity. */
export function registerResource<In>(app: FastifyInstance, ctx: AdminContext, r: Resource<In>): void {
  const one = `${r.base}/:${r.idParam}`;
  const { tags } = r;
  defineRoute(app, { method: 'GET', url: r.base, tags, summary: r.summary.list, handler: ({ params }) => r.list(ctx, params) });
  defineRoute<In>(app, {
    method: 'POST',
    url: r.base,
    tags,
    summary: r.summary.create,
    body: r.createSchema,
    status: 201,
    handler: ({ params, body, actor }) => r.create(ctx, params, body, actor),
  });
  defineRoute(app, { method: 'GET', url: one, tags, summary: r.summary.get, handler: ({ params }) => findOr404(ctx, r as Resource<unknown>, params) });
  defineRoute<In>(app, {
    method: 'PATCH',
    url: one,
    tags,
    summary: r.summary.update,
    body: r.patchSchema,
    handler: ({ params, body, actor }) => r.update(ctx, params, params[r.idParam]!, body, actor),
  });
  defineRoute(app, {
    method: 'DELETE',
    url: one,
    tags,
    summary: r.summary.remove,
    handler: async ({ params }) => {
      await r.remove(ctx, params, params[r.idParam]!);
      return undefined;
    },
  });
}
