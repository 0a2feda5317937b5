/**
 * docs/admin-api.md lists every route the product serves: its "Every route" table must equal the
 * OpenAPI document the running product publishes (GET /v1/openapi.json), method for method and path
 * for path, the way docs/errors.md is kept in step with the error registry. The product runs as
 * `npm start` does, on ports 47100-47199 (this file's block), temporary database and recordings.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portBlock } from '../../support/ports.js';
import { ROOT, startProductProcess, type ProductProcess } from '../../support/product-process.js';

const ports = portBlock({ from: 47100, to: 47199 }, 0, 100);
let dir = '';
let product: ProductProcess | undefined;
let adminPort = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'admin-api-doc-'));
  const [sip, drachtio, admin, srs] = ports.take(4);
  const media = ports.take(10);
  const srsRtp = ports.take(10);
  adminPort = admin!;
  product = await startProductProcess({
    dir,
    ports: { sip: sip!, drachtio: drachtio!, admin: admin!, mediaMin: media[0]!, mediaMax: media.at(-1)!, srs: srs!, srsRtpMin: srsRtp[0]!, srsRtpMax: srsRtp.at(-1)! },
    provisioningFile: join(ROOT, 'test', 'fixtures', 'provisioning', 'acme.yaml'),
  });
}, 30_000);

afterAll(async () => {
  await product?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `METHOD /path` of the rows of the "Every route" table in docs/admin-api.md. */
function documentedRoutes(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'admin-api.md'), 'utf8');
  const start = doc.indexOf('## Every route');
  expect(start, 'docs/admin-api.md has an "Every route" section').toBeGreaterThan(0);
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1) === -1 ? undefined : doc.indexOf('\n## ', start + 1));
  return [...section.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE)` \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
}

describe('docs/admin-api.md covers every route', () => {
  it('its "Every route" table equals the OpenAPI document of the running product', async () => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/v1/openapi.json`);
    expect(res.status).toBe(200);
    const openapi = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const served = Object.entries(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const documented = documentedRoutes();
    expect(documented.length, 'no route listed twice').toBe(new Set(documented).size);
    expect({ undocumented: served.filter((r) => !documented.includes(r)).sort(), notServed: documented.filter((r) => !served.includes(r)).sort() }).toEqual({ undocumented: [], notServed: [] });
  });
});
