/**
 * drachtio-srf sends every in-dialog request (BYE, re-INVITE, INFO, ...) on the app-link socket the
 * dialog was created on (`dialog.req.socket`). After the link to the drachtio server is lost and
 * srf has reconnected, that socket is destroyed and srf fails the request with ESOCKETDESTROYED, so
 * a call that survived the outage could never be hung up or re-offered. The server keeps its
 * dialogs across the reconnect and accepts their requests on the new connection, so re-pointing
 * the dialog at srf's current link socket is all it takes.
 */
import type { Socket } from 'node:net';

interface DialogWithSocket {
  req?: { socket?: Socket };
  agent?: { _getDefaultSocket?: () => Socket | undefined };
}

/** Before an in-dialog request: move the dialog to srf's live link socket when its own is gone. Never throws. */
export function rebindDialogSocket(dialog: unknown): void {
  const d = dialog as DialogWithSocket | undefined;
  const req = d?.req;
  if (!req?.socket || !req.socket.destroyed) return;
  try {
    const live = d?.agent?._getDefaultSocket?.();
    if (live && !live.destroyed) req.socket = live;
  } catch {
    // srf internals changed: leave the dialog as it is (the request then fails as before)
  }
}
