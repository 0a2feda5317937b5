/**
 * A webhook receiver on 127.0.0.1 (port 0: the OS picks one) for the recording event log tests:
 * answers each POST with the next scripted status (default 200), can hold answers back until
 * released, and keeps every request.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() at arrival. */
  at: number;
}

export class FakeWebhookServer {
  readonly requests: WebhookRequest[] = [];
  /** Statuses for the next requests, in order; 200 once used up. */
  statuses: number[] = [];
  /** While true, answers wait for release(). */
  hold = false;
  readonly #held: Array<() => void> = [];
  readonly #waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeWebhookServer> {
    const ref: { self?: FakeWebhookServer } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => ref.self!.#onRequest({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() }, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    ref.self = new FakeWebhookServer(server, `http://127.0.0.1:${port}/events`);
    return ref.self;
  }

  #onRequest(request: WebhookRequest, res: ServerResponse): void {
    this.requests.push(request);
    const status = this.statuses.shift() ?? 200;
    const answer = (): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    };
    if (this.hold) this.#held.push(answer);
    else answer();
    for (const w of [...this.#waiters]) {
      if (this.requests.length >= w.count) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Answer every held request (and stop holding). */
  release(): void {
    this.hold = false;
    for (const answer of this.#held.splice(0)) answer();
  }

  /** Resolves once `count` requests have arrived (rejects after timeoutMs). */
  waitForRequests(count: number, timeoutMs = 3000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.requests.length} of ${count} webhook requests arrived`)), timeoutMs);
      this.#waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** The events of every request, in arrival order. */
  events(): Array<Record<string, unknown>> {
    return this.requests.flatMap((r) => (JSON.parse(r.body) as { events: Array<Record<string, unknown>> }).events);
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
