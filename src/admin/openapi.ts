import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * An OpenAPI 3.1 document built from the registered routes and their JSON schemas (served at
 * GET /v1/openapi.json). Call collectRoutes() before registering plugins; document() afterwards.
 */
export interface OpenApiCollector {
  document(): Record<string, unknown>;
}

interface Collected {
  method: string;
  url: string;
  schema: Record<string, unknown>;
  status: number | undefined;
}

export function collectRoutes(app: FastifyInstance, info: { title: string; version: string }): OpenApiCollector {
  const routes: Collected[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      if (m === 'HEAD' || r.url === '*') continue;
      const status = (r.config as { successStatus?: number } | undefined)?.successStatus;
      routes.push({ method: m.toLowerCase(), url: r.url, schema: (r.schema ?? {}) as Record<string, unknown>, status });
    }
  });
  return {
    document() {
      const paths: Record<string, Record<string, unknown>> = {};
      for (const r of routes) {
        const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
        const params = r.schema.params as { properties?: Record<string, unknown> } | undefined;
        const op: Record<string, unknown> = {
          summary: r.schema.summary,
          tags: r.schema.tags,
          parameters: Object.entries(params?.properties ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
          responses: {
            [String(r.status ?? 200)]: { description: 'success' },
            '4XX': { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          },
          security: r.url === '/v1/openapi.json' || r.url === '/healthz' ? [] : [{ bearer: [] }],
        };
        if (r.schema.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
        (paths[path] ??= {})[r.method] = op;
      }
      return {
        openapi: '3.1.0',
        info,
        servers: [{ url: '/' }],
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
          schemas: {
            Error: {
              type: 'object',
              required: ['error'],
              properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
            },
          },
        },
        paths,
      };
    },
  };
}
