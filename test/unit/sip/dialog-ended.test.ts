import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onDialogEnded } from '../../../src/sip/dialog-ended.js';

class Dialog extends EventEmitter {
  connected = true;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('onDialogEnded: the end of a dialog is never missed', () => {
  it('reports a BYE that comes after subscribing, with its request and reason, once', async () => {
    const d = new Dialog();
    const seen: unknown[][] = [];
    onDialogEnded(d, (req, reason) => seen.push([req, reason]));
    d.connected = false;
    d.emit('destroy', 'the BYE', 'normal release');
    d.emit('destroy', 'again', 'x');
    await nextTurn();
    expect(seen).toEqual([['the BYE', 'normal release']]);
  });

  it('reports a BYE srf handled before the caller had the dialog, on the next turn (after its other listeners are set)', async () => {
    const d = new Dialog();
    d.connected = false;
    d.emit('destroy', 'lost BYE');
    const seen: unknown[][] = [];
    onDialogEnded(d, (req, reason) => seen.push([req, reason]));
    expect(seen).toEqual([]);
    await nextTurn();
    expect(seen).toEqual([[undefined, 'BYE']]);
  });

  it('says nothing for a dialog still up', async () => {
    const d = new Dialog();
    let calls = 0;
    onDialogEnded(d, () => calls++);
    await nextTurn();
    expect(calls).toBe(0);
  });
});
