import type { AdminPlugin } from '../admin-options.js';
import { errorResponseSchema } from '../admin-schemas.js';

/** What the plugin needs of the metrics registry (src/observability/metrics.ts Metrics). */
export interface MetricsScraper {
  readonly contentType: string;
  scrape(): Promise<string>;
}

/**
 * GET /v1/metrics: every metric in the Prometheus text exposition format (version 0.0.4), behind
 * the same bearer auth as the rest of the API (Prometheus: `authorization: { credentials: <token> }`).
 * The metric list is docs/observability.md.
 */
export function metricsPlugin(metrics: MetricsScraper): AdminPlugin {
  return {
    name: 'metrics',
    register(app) {
      app.get(
        '/metrics',
        {
          config: { successStatus: 200 },
          schema: {
            summary: 'Prometheus metrics (text exposition format 0.0.4)',
            tags: ['metrics'],
            response: { '4XX': errorResponseSchema, '5XX': errorResponseSchema },
          },
        },
        async (_req, reply) => {
          const text = await metrics.scrape();
          return reply.code(200).header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
        },
      );
    },
  };
}
