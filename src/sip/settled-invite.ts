/**
 * drachtio-srf keeps a dialog's INVITE (`dialog.req`) for the life of the dialog, and with it the
 * listeners put on that request while the INVITE was pending: createUAC's 'response' and 'update',
 * createUAS's and the B2BUA's 'cancel'. Each captures the whole set-up of the call: the options with
 * the offer and its headers, the promise callbacks, the leg. Once the INVITE has its final response
 * none of them can fire again: srf forgets a client transaction at its final response (no later
 * 'response' or 'update' reaches the request), and it stops routing a CANCEL to a server INVITE
 * once the final response is sent. Dropped when the dialog exists, they free about 12 kB per call
 * (docs/benchmarks.md, "Goals not met").
 */

/** Events of a pending INVITE; none fires after the final response. */
const PENDING_INVITE_EVENTS = ['response', 'update', 'cancel'] as const;

interface RequestEvents {
  removeAllListeners(event: string): unknown;
}

/** Drops the pending-INVITE listeners of an established dialog's INVITE (a dialog without one is left alone). */
export function dropPendingInviteListeners(dialog: { req?: unknown }): void {
  const req = dialog.req as Partial<RequestEvents> | undefined;
  if (typeof req?.removeAllListeners !== 'function') return;
  for (const event of PENDING_INVITE_EVENTS) req.removeAllListeners(event);
}
