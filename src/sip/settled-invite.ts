/**
 * What an established INVITE dialog keeps of its set-up. drachtio-srf keeps a dialog's INVITE
 * (`dialog.req`) and its final response (`dialog.res`) for the life of the dialog, each a parsed
 * message (headers, body, raw text) with the whole protocol frame it was read from: every header
 * value is a substring that keeps the frame alive. With them go the listeners put on the INVITE
 * while it was pending (createUAC's 'response' and 'update', createUAS's and the B2BUA's 'cancel'),
 * each capturing the call's whole set-up: the options with the offer and its headers, the promise
 * callbacks, the leg. None of it is read again once the dialog exists: srf forgets a client
 * transaction at its final response and stops routing a CANCEL to a server INVITE once the final
 * response is sent; its Dialog reads only the INVITE's method (`dialogType`), its link socket
 * (`socket`, where in-dialog requests go; dialog-socket.ts re-points it after a reconnect) and the
 * response's dialog id (`id`). settleDialog keeps exactly those, drops the listeners, and copies
 * the dialog's own identifiers (Call-ID, tags, URIs, Contact, SDPs) so that nothing pins the frames: about
 * 30 kB per recorded call (docs/benchmarks.md, "Goals not met"). Callers read what they need from
 * `dialog.res` (Supported, the recording id) before settling.
 */
import { ownOptional } from '../common/own-string.js';

/** Events of a pending INVITE; none fires after the final response. */
const PENDING_INVITE_EVENTS = ['response', 'update', 'cancel'] as const;

interface PendingRequest {
  method?: unknown;
  socket?: unknown;
  removeAllListeners?: (event: string) => unknown;
}

interface SettlingDialog {
  req?: PendingRequest;
  res?: { stackDialogId?: unknown };
  sip?: { callId?: string; localTag?: string; remoteTag?: string };
  local?: { uri?: string; sdp?: string; contact?: string };
  remote?: { uri?: string; sdp?: string };
}

/** The INVITE as a settled dialog still reads it. */
interface SettledRequest {
  readonly method: 'INVITE';
  socket: unknown;
}

/** The final response as a settled dialog still reads it. */
interface SettledResponse {
  readonly stackDialogId: unknown;
}

/**
 * Lets an established dialog's INVITE and 2xx go (see above). A dialog created by anything but an
 * INVITE (a SUBSCRIBE dialog reads its request's Event header later) only loses the listeners;
 * one without a request is left alone. Call once the dialog exists, after reading `dialog.res`.
 */
export function settleDialog(dialog: object): void {
  const d = dialog as SettlingDialog;
  const req = d.req;
  if (!req) return;
  if (typeof req.removeAllListeners === 'function') for (const event of PENDING_INVITE_EVENTS) req.removeAllListeners(event);
  if (req.method !== 'INVITE') return;
  const settledReq: SettledRequest = { method: 'INVITE', socket: req.socket };
  d.req = settledReq;
  if (d.res) {
    const settledRes: SettledResponse = { stackDialogId: ownOptional(d.res.stackDialogId as string | undefined) };
    d.res = settledRes;
  }
  if (d.sip) d.sip = { callId: ownOptional(d.sip.callId), localTag: ownOptional(d.sip.localTag), remoteTag: ownOptional(d.sip.remoteTag) };
  if (d.local) {
    d.local.uri = ownOptional(d.local.uri);
    d.local.sdp = ownOptional(d.local.sdp);
    d.local.contact = ownOptional(d.local.contact);
  }
  if (d.remote) {
    d.remote.uri = ownOptional(d.remote.uri);
    d.remote.sdp = ownOptional(d.remote.sdp);
  }
}
