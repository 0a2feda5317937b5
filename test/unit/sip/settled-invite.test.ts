/** settleDialog (src/sip/settled-invite.ts): an established dialog lets go of its set-up. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { settleDialog } from '../../../src/sip/settled-invite.js';

/** The shape of drachtio-srf's Dialog as settleDialog sees it, with an INVITE that still has its listeners. */
function dialogOf(method: string) {
  const req = Object.assign(new EventEmitter(), { method, socket: { name: 'link' }, msg: { raw: 'INVITE ...' }, get: (h: string) => `value of ${h}` });
  for (const event of ['response', 'update', 'cancel', 'cancel', 'authenticate']) req.on(event, () => undefined);
  const res = { stackDialogId: 'call-1;from-tag=a', msg: { raw: 'SIP/2.0 200 OK ...' }, get: () => 'x' };
  const dialog = {
    req: req as unknown,
    res: res as unknown,
    sip: { callId: 'call-1', localTag: 'local-tag-1', remoteTag: 'remote-tag-1' },
    local: { uri: 'sip:b2bua@10.0.0.1', sdp: 'v=0 local', contact: '<sip:b2bua@10.0.0.1>' },
    remote: { uri: 'sip:phone@10.0.0.2', sdp: 'v=0 remote' },
  };
  return { dialog, req };
}

describe('settleDialog', () => {
  it("MUST remove the INVITE's response, update and cancel listeners and keep every other one", () => {
    const { dialog, req } = dialogOf('INVITE');
    settleDialog(dialog);
    expect(['response', 'update', 'cancel'].map((e) => req.listenerCount(e))).toEqual([0, 0, 0]);
    expect(req.listenerCount('authenticate')).toBe(1);
  });

  it("MUST keep of an INVITE dialog's request and response only what srf's Dialog reads later", () => {
    const { dialog, req } = dialogOf('INVITE');
    settleDialog(dialog);
    // dialogType, socket (re-pointed after a reconnect) and id
    expect(dialog.req).toEqual({ method: 'INVITE', socket: req.socket });
    expect(dialog.req).not.toBe(req);
    (dialog.req as { socket: unknown }).socket = { name: 'new link' };
    expect((dialog.req as { socket: unknown }).socket).toEqual({ name: 'new link' });
    expect(dialog.res).toEqual({ stackDialogId: 'call-1;from-tag=a' });
  });

  it("MUST leave the dialog's identifiers, URIs, Contact and SDP as they were", () => {
    const { dialog } = dialogOf('INVITE');
    settleDialog(dialog);
    expect(dialog.sip).toEqual({ callId: 'call-1', localTag: 'local-tag-1', remoteTag: 'remote-tag-1' });
    expect(dialog.local).toEqual({ uri: 'sip:b2bua@10.0.0.1', sdp: 'v=0 local', contact: '<sip:b2bua@10.0.0.1>' });
    expect(dialog.remote).toEqual({ uri: 'sip:phone@10.0.0.2', sdp: 'v=0 remote' });
  });

  it('MUST keep the request of a dialog not created by an INVITE (a SUBSCRIBE dialog reads its Event later)', () => {
    const { dialog, req } = dialogOf('SUBSCRIBE');
    const res = dialog.res;
    settleDialog(dialog);
    expect(dialog.req).toBe(req);
    expect(dialog.res).toBe(res);
    expect(req.listenerCount('response')).toBe(0);
  });

  it('MUST leave a dialog without a request alone', () => {
    const bare = { sip: { callId: 'c' } };
    expect(() => settleDialog(bare)).not.toThrow();
    expect(bare).toEqual({ sip: { callId: 'c' } });
  });
});
