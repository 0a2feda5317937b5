/**
 * Outbound mode (docs/engine.md protocol section 2, like drachtio's `<request-handler>tcp://host:port`):
 * a new request that no connected app routed makes the engine dial the handler app (`srf.listen()`)
 * and hand it the request on the new connection. Connections that no dialog or transaction uses
 * any more are closed (checked every 32 s, after at least 5 s).
 */
import type { Timers } from '../common/clock.js';
import type { DialogTable } from './dialog-table.js';
import type { EngineContext } from './engine-context.js';
import { makeDialogId } from './dialog.js';
import { newTag } from './ids.js';
import { buildResponse } from './message-builder.js';
import { getHeader, getTag, serializeSipMessage, type SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import type { TransactionTable } from './transaction-table.js';

export class OutboundApps {
  /** When each dialled connection authenticated (monotonic ms): the sweep closes unused ones older than 5 s. */
  readonly #since = new Map<number, number>();
  #sweepTimer: ReturnType<Timers['setInterval']> | undefined;

  constructor(private readonly ctx: EngineContext, private readonly txns: TransactionTable, private readonly dialogs: DialogTable) {}

  /** Dial the request handler, then hand it the request on the new connection (503 if unreachable). */
  dialOut(msg: SipMessage, buf: Buffer, source: MessageSource, key: string, handler: { host: string; port: number }): void {
    const t = this.txns.createServer(msg, source, key);
    if (msg.method === 'INVITE') {
      t.respond(100, serializeSipMessage(buildResponse(msg, 100)));
      t.dialogId = makeDialogId(getHeader(msg, 'call-id') ?? '', getTag(getHeader(msg, 'from')) ?? '');
    }
    this.#armSweep();
    this.ctx.apps.dial(handler.host, handler.port).then(
      (app) => {
        this.#since.set(app.id, this.ctx.clock.monotonic());
        if (!t.open || t.detached) return;
        t.appId = app.id;
        this.ctx.forwardToApp(app, buf, source, t.id, '', true);
      },
      (err: unknown) => {
        this.ctx.log.warn({ err, handler }, 'engine: outbound app unreachable');
        if (t.open && !t.detached) {
          this.txns.detach(t);
          t.respond(503, serializeSipMessage(buildResponse(msg, 503, newTag())));
        }
      },
    );
  }

  /** The app disconnected: nothing left to sweep for it. */
  forget(appId: number): void {
    this.#since.delete(appId);
  }

  /** Idempotent: stop the sweep. */
  close(): void {
    this.ctx.timers.clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  /** Close outbound connections that no dialog or transaction uses any more (checked every 32 s). */
  #armSweep(): void {
    if (this.#sweepTimer !== undefined || this.ctx.closed) return;
    this.#sweepTimer = this.ctx.timers.setInterval(() => {
      const inUse = new Set<number | undefined>();
      this.dialogs.collectAppIds(inUse);
      this.txns.collectAppIds(inUse);
      const now = this.ctx.clock.monotonic();
      for (const app of this.ctx.apps.outboundApps()) {
        const since = this.#since.get(app.id) ?? now;
        if (!inUse.has(app.id) && now - since > 5000) {
          this.#since.delete(app.id);
          app.close();
        }
      }
    }, 32_000);
  }
}
