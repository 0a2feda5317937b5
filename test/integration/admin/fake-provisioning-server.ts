import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local stand-in for a provider's auto-provisioning endpoint, on 127.0.0.1, ephemeral port. */
export interface FakeProvisioningServer {
  readonly baseUrl: string;
  /** Every request received: method, path, JSON body. */
  readonly requests: { method: string; path: string; body: Record<string, unknown> }[];
  /** Answer the next n requests with this status (then succeed again). */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

export async function startFakeProvisioningServer(): Promise<FakeProvisioningServer> {
  const requests: FakeProvisioningServer['requests'] = [];
  let failures = 0;
  let failStatus = 503;
  let seq = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      requests.push({ method: req.method ?? '', path: req.url ?? '', body });
      res.setHeader('content-type', 'application/json');
      if (failures > 0) {
        failures -= 1;
        res.statusCode = failStatus;
        res.end(JSON.stringify({ message: 'provider busy' }));
        return;
      }
      seq += 1;
      if (req.method === 'POST' && req.url === '/accounts') {
        res.statusCode = 201;
        res.end(JSON.stringify({ accountId: `acct-${seq}` }));
      } else if (req.method === 'POST' && /^\/accounts\/[^/]+\/users$/.test(req.url ?? '')) {
        res.statusCode = 201;
        res.end(JSON.stringify({ userId: `u-${seq}` }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failNext(n, status = 503) {
      failures = n;
      failStatus = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
