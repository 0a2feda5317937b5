/**
 * Issue 13 item 6, with the product as a child process (`npm start`'s command, environment
 * overrides only): a misspelt key in the config file or the provisioning file, a syntax error and
 * a port in use each refuse the start with one line on stderr and no stack trace; the provisioning
 * file is applied only when its content changed since it was last applied, so a change made
 * through the admin API survives a restart with the same file (the syntax errors' line and column:
 * test/unit/config/config-file-errors.test.ts). Ports 19900-19999.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { exited, spawnProduct, startProductProcess, withTimeout, writeDemoProvisioning, type ProductPorts, type ProductProcess } from '../../support/product-process.js';

// the tests run concurrently, each on its own ports (the demo's phones are never called)
const P: ProductPorts = { sip: 19901, drachtio: 19902, admin: 19903, srs: 19904, mediaMin: 19910, mediaMax: 19929, srsRtpMin: 19930, srsRtpMax: 19949 };
const P_TYPO: ProductPorts = { sip: 19951, drachtio: 19952, admin: 19953, srs: 19954, mediaMin: 19970, mediaMax: 19979, srsRtpMin: 19980, srsRtpMax: 19989 };
const P_IN_USE: ProductPorts = { sip: 19955, drachtio: 19956, admin: 19957, srs: 19958, mediaMin: 19990, mediaMax: 19993, srsRtpMin: 19994, srsRtpMax: 19997 };
const DEMO = { callee: 19960, carrier: 19961, srs: P.srs };

const dir = mkdtempSync(join(tmpdir(), 'config-start-'));
const running: ProductProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.kill();
});

/** Starts the product, expecting it to refuse: its exit code and the lines it wrote on stderr. */
async function refusedStart(ports: ProductPorts, env: Record<string, string>, provisioningFile = writeDemoProvisioning(dir, DEMO)): Promise<{ code: number | null; stderr: string[] }> {
  const child = spawnProduct({ dir: mkdtempSync(join(dir, 'refused-')), ports, provisioningFile, logLevel: 'warn', env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exit = await withTimeout(exited(child), 40_000, 'waiting for the product to refuse the start').finally(() => child.kill('SIGKILL'));
  return { code: exit.code, stderr: stderr.split('\n').filter((l) => l.trim() !== '') };
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe.concurrent('configuration errors refuse the start with one line, no stack trace (issue 13 item 6)', () => {
  it('MUST refuse a misspelt config key, naming its path and the nearest known key', async ({ expect }) => {
    const config = write('typo.yaml', `${readFileSync('config/embedded.yaml', 'utf8')}\n  maxConcurentCalls: 3\n`);
    const r = await refusedStart(P, { CONFIG_FILE: config });
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([`CONFIG_INVALID: invalid configuration: ${config}: calls.maxConcurentCalls: unknown key; did you mean calls.maxConcurrentCalls?`]);
  }, 60_000);

  it('MUST refuse a misspelt key in the provisioning file, naming its path and the nearest known key', async ({ expect }) => {
    const provisioning = write('provisioning-typo.yaml', readFileSync(writeDemoProvisioning(dir, DEMO), 'utf8').replace('    locations:', '    location:'));
    const r = await refusedStart(P_TYPO, {}, provisioning);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([`POLICY_PROVISIONING_FILE_INVALID: invalid provisioning file: ${provisioning}: organisations[0].location: unknown key; did you mean organisations[0].locations?`]);
  }, 60_000);

  it('MUST name the port in use and the setting that chose it', async ({ expect }) => {
    const holder: Server = createServer();
    await new Promise<void>((res) => holder.listen(P_IN_USE.admin, '127.0.0.1', res));
    try {
      const r = await refusedStart(P_IN_USE, {});
      expect(r.code).toBe(1);
      expect(r.stderr).toEqual([`EADDRINUSE: 127.0.0.1:${P_IN_USE.admin} is already in use (admin.port, ADMIN_PORT)`]);
    } finally {
      await new Promise((res) => holder.close(res));
    }
  }, 60_000);
});

describe('the provisioning file and the admin API across restarts (docs/policy.md)', () => {
  const api = (path: string, init?: RequestInit): Promise<Response> => fetch(`http://127.0.0.1:${P.admin}/v1${path}`, init);
  const locationName = async (): Promise<string> => ((await (await api('/orgs/demo/locations/hq')).json()) as { name: string }).name;
  const start = async (provisioningFile: string, log: string[]): Promise<ProductProcess> => {
    const p = await startProductProcess({ dir: join(dir, 'restarts'), ports: P, provisioningFile, onLine: (l) => log.push(l), readyTimeoutMs: 40_000 });
    running.push(p);
    return p;
  };

  it('MUST keep a change made through the API when the product restarts with the same file, and apply the file once it changed', async ({ expect }) => {
    const provisioning = writeDemoProvisioning(mkdtempSync(join(dir, 'prov-')), DEMO);
    const log: string[] = [];
    let product = await start(provisioning, log);
    expect(log.some((l) => l.includes('provisioning file applied'))).toBe(true);
    const patch = await api('/orgs/demo/locations/hq', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Renamed through the API' }) });
    expect(patch.status).toBe(200);
    await product.kill();

    log.length = 0;
    product = await start(provisioning, log); // same file
    expect(log.some((l) => l.includes('provisioning file unchanged since it was last applied'))).toBe(true);
    expect(await locationName()).toBe('Renamed through the API');
    await product.kill();

    writeFileSync(provisioning, readFileSync(provisioning, 'utf8').replace('name: Headquarters', 'name: Head office'));
    log.length = 0;
    product = await start(provisioning, log); // changed file
    expect(log.some((l) => l.includes('provisioning file applied (content changed'))).toBe(true);
    expect(await locationName()).toBe('Head office');
    await product.kill();
  }, 150_000);
});
