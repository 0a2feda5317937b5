/**
 * drachtio-srf resolves createUAS when the engine confirms the 200 OK was sent, and routes a BYE to
 * the dialog as soon as it is read. When both arrive in the same read from the app link (a peer that
 * ACKs and hangs up at once, or a busy host), srf handles the BYE, emits the dialog's 'destroy' with
 * nobody listening and only then lets the awaiting caller see the dialog: the BYE was answered but
 * the call or recording would stay open for good. This subscribes to 'destroy' and, when the dialog
 * is already disconnected, reports the end on the next turn of the event loop instead (after the
 * caller's own listeners are in place).
 */

interface DestroyableDialog {
  connected?: boolean;
  on(event: 'destroy', fn: (req?: unknown, reason?: unknown) => void): unknown;
}

/** Calls `fn` once when the dialog ends (BYE from the peer), also for a BYE handled before this call. */
export function onDialogEnded(dialog: DestroyableDialog, fn: (req?: unknown, reason?: unknown) => void): void {
  let done = false;
  const once = (req?: unknown, reason?: unknown): void => {
    if (done) return;
    done = true;
    fn(req, reason);
  };
  dialog.on('destroy', once);
  if (dialog.connected === false) setImmediate(() => once(undefined, 'BYE'));
}
