import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { rebindDialogSocket } from '../../../src/sip/dialog-socket.js';

function dialogOn(socket: Socket, live: Socket | undefined) {
  return { req: { socket }, agent: { _getDefaultSocket: () => live } };
}

describe('rebindDialogSocket (in-dialog requests after an app-link reconnect)', () => {
  it('moves a dialog whose link socket is destroyed to the live link socket', () => {
    const dead = new Socket();
    dead.destroy();
    const live = new Socket();
    const d = dialogOn(dead, live);
    rebindDialogSocket(d);
    expect(d.req.socket).toBe(live);
    live.destroy();
  });

  it('leaves a dialog on a live socket, or when no live socket exists, as it is', () => {
    const own = new Socket();
    const other = new Socket();
    const d1 = dialogOn(own, other);
    rebindDialogSocket(d1);
    expect(d1.req.socket).toBe(own);
    const dead = new Socket();
    dead.destroy();
    const d2 = dialogOn(dead, undefined);
    rebindDialogSocket(d2);
    expect(d2.req.socket).toBe(dead);
    own.destroy();
    other.destroy();
  });

  it('never throws on shapes that are not srf dialogs', () => {
    expect(() => rebindDialogSocket(undefined)).not.toThrow();
    expect(() => rebindDialogSocket({})).not.toThrow();
    const dead = new Socket();
    dead.destroy();
    expect(() => rebindDialogSocket({ req: { socket: dead }, agent: { _getDefaultSocket: () => { throw new Error('x'); } } })).not.toThrow();
  });
});
