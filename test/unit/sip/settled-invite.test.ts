/** dropPendingInviteListeners (src/sip/settled-invite.ts): an established dialog's INVITE lets go of its set-up. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { dropPendingInviteListeners } from '../../../src/sip/settled-invite.js';

describe('dropPendingInviteListeners', () => {
  it("MUST remove the INVITE's response, update and cancel listeners and keep every other one", () => {
    const req = new EventEmitter();
    for (const event of ['response', 'update', 'cancel', 'cancel', 'authenticate']) req.on(event, () => undefined);
    dropPendingInviteListeners({ req });
    expect(['response', 'update', 'cancel'].map((e) => req.listenerCount(e))).toEqual([0, 0, 0]);
    expect(req.listenerCount('authenticate')).toBe(1);
  });

  it('MUST leave a dialog without an INVITE request alone', () => {
    expect(() => dropPendingInviteListeners({})).not.toThrow();
    expect(() => dropPendingInviteListeners({ req: { method: 'INVITE' } })).not.toThrow();
  });
});
