/** SrfSignalingPort's inbound INVITE (src/sip/leg.ts): what it keeps once it has its final response. */
import { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import { describe, expect, it, vi } from 'vitest';
import { SrfSignalingPort } from '../../../src/sip/leg.js';
import type { InboundInvite } from '../../../src/sip/b2bua-types.js';

const HEADERS: Record<string, string> = {
  'Call-ID': 'call-1@carrier',
  From: '<sip:+15550001@carrier>;tag=f1',
  To: '<sip:+15550002@b2bua>',
  'P-Asserted-Identity': '<sip:+15550001@carrier>',
};

/** An srf whose INVITE route is called by the test, and whose createUAS answers with a dialog of srf's shape. */
function fakeSrf() {
  let route: ((req: unknown, res: unknown) => void) | undefined;
  const createUAS = vi.fn(async (req: { get(h: string): string }) => {
    const dialog = Object.assign(new EventEmitter(), {
      req,
      res: { stackDialogId: 'call-1@carrier;from-tag=f1' },
      sip: { callId: req.get('Call-ID'), localTag: 'l1', remoteTag: 'f1' },
      local: { uri: 'sip:b2bua', sdp: 'v=0 answer', contact: '<sip:b2bua>' },
      remote: { uri: 'sip:carrier', sdp: 'v=0 offer' },
    });
    return dialog;
  });
  const srf = { invite: (fn: typeof route) => (route = fn), createUAS };
  const deliver = (): { invite: InboundInvite; res: { send: ReturnType<typeof vi.fn> } } => {
    const req = Object.assign(new EventEmitter(), { method: 'INVITE', uri: 'sip:+15550002@b2bua', body: 'v=0 offer', source_address: '192.0.2.1', source_port: 5060, get: (h: string) => HEADERS[h] });
    const res = { send: vi.fn() };
    let invite: InboundInvite | undefined;
    port.onInvite((i) => (invite = i));
    route!(req, res);
    return { invite: invite!, res };
  };
  const port = new SrfSignalingPort(srf as unknown as Srf);
  return { deliver, createUAS };
}

describe('SrfSignalingPort inbound INVITE', () => {
  it('MUST read headers until the final response, and let the INVITE go once answered', async () => {
    const { deliver, createUAS } = fakeSrf();
    const { invite } = deliver();
    expect(invite.callId).toBe('call-1@carrier');
    expect(invite.from).toBe(HEADERS.From);
    expect(invite.header('P-Asserted-Identity')).toBe('<sip:+15550001@carrier>');
    const leg = await invite.answer('v=0 answer');
    expect(createUAS).toHaveBeenCalledTimes(1);
    expect(leg.callId).toBe('call-1@carrier');
    expect(invite.header('P-Asserted-Identity')).toBeUndefined();
    await expect(invite.answer('v=0 again')).rejects.toThrow('already answered');
  });

  it('MUST let the INVITE go once rejected, and send nothing more', () => {
    const { deliver } = fakeSrf();
    const { invite, res } = deliver();
    invite.progress(180);
    invite.reject(486, 'Busy Here');
    expect(res.send.mock.calls.map((c) => c[0])).toEqual([180, 486]);
    expect(invite.header('From')).toBeUndefined();
    invite.progress(183);
    invite.reject(500);
    expect(res.send).toHaveBeenCalledTimes(2);
  });

  it('MUST let the INVITE go when the answer fails', async () => {
    const { deliver, createUAS } = fakeSrf();
    createUAS.mockRejectedValueOnce(new Error('CANCELed'));
    const { invite } = deliver();
    await expect(invite.answer('v=0 answer')).rejects.toThrow('CANCELed');
    expect(invite.header('From')).toBeUndefined();
  });
});
