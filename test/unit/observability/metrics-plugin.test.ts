import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '../../../src/admin/admin-server.js';
import { metricsPlugin } from '../../../src/admin/plugins/metrics-plugin.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../src/policy/store/sqlite-repository.js';
import { sampleValue } from '../../support/prometheus-text.js';

const TOKEN = 'metrics-test-token-0123456789';

describe('GET /v1/metrics (admin plugin)', () => {
  let repo: SqlitePolicyRepository;
  let server: AdminServer;
  let metrics: Metrics;

  beforeAll(async () => {
    repo = openSqliteRepository({ path: ':memory:' });
    metrics = createMetrics({}, { defaultMetrics: false });
    server = await createAdminServer({ repository: repo, token: TOKEN, extraPlugins: [metricsPlugin(metrics)] });
  });

  afterAll(async () => {
    await server.close();
    repo.close();
    metrics.close();
  });

  it('MUST refuse a scrape without the bearer token (401)', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/v1/metrics' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'ADMIN_UNAUTHORIZED' } });
    const wrong = await server.app.inject({ method: 'GET', url: '/v1/metrics', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
  });

  it('serves the registry in the Prometheus text format with the token', async () => {
    metrics.calls.srsFailover();
    const res = await server.app.inject({ method: 'GET', url: '/v1/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sampleValue(res.body, 'siprec_b2bua_srs_failovers_total')).toBe(1);
  });

  it('is listed in the OpenAPI document', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/v1/metrics');
  });
});
