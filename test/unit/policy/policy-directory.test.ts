import { describe, expect, it } from 'vitest';
import { normaliseHost, normaliseNumber, normaliseSipIdentity } from '../../../src/policy/address-normalise.js';
import { createPolicyDirectory } from '../../../src/policy/policy-directory.js';
import { makeSnapshot } from './snapshot-builder.js';

describe('address normalisation', () => {
  it.each([
    ['+1 (555) 000-2001', '+15550002001'],
    ['tel:+15550002001;phone-context=x', '+15550002001'],
    ['2001', '2001'],
    ['abc', ''],
  ])('number %s -> %s', (raw, out) => expect(normaliseNumber(raw)).toBe(out));
  it.each([
    ['"Al" <sip:Alice@Example.com:5060;transport=tcp>', 'alice@example.com'],
    ['sips:bob@acme.example?subject=x', 'bob@acme.example'],
    ['alice@acme.example', 'alice@acme.example'],
    ['sip:acme.example', ''],
  ])('identity %s -> %s', (raw, out) => expect(normaliseSipIdentity(raw)).toBe(out));
  it.each([
    ['192.0.2.10:5060', '192.0.2.10'],
    ['[2001:db8::10]:5060', '2001:db8::10'],
    ['2001:db8::10', '2001:db8::10'],
  ])('host %s -> %s', (raw, out) => expect(normaliseHost(raw)).toBe(out));
});

describe('call classification (R-10, R-21)', () => {
  const dir = createPolicyDirectory([makeSnapshot()]);

  it('R-10 finds the owner of a number, an extension within the organisation and a SIP identity', () => {
    expect(dir.lookup('sip:+15550002001@carrier.example;user=phone')).toEqual({ orgId: 'acme', party: { kind: 'user', id: 'alice' } });
    expect(dir.lookup('2002', 'acme')).toEqual({ orgId: 'acme', party: { kind: 'user', id: 'bob' } });
    expect(dir.lookup('2002')).toBeNull();
    expect(dir.lookup('<sip:lobby@acme.example>')).toEqual({ orgId: 'acme', party: { kind: 'virtual-line', id: 'lobby' } });
    expect(dir.lookup('tel:+15550003002')).toEqual({ orgId: 'acme', party: { kind: 'call-queue', id: 'cq' } });
    expect(dir.lookup('+19999999999')).toBeNull();
  });

  it('R-10 trunk source addresses are recognised, with or without port', () => {
    expect(dir.trunkFor('192.0.2.10:5060')).toEqual({ orgId: 'acme', trunkId: 'carrier' });
    expect(dir.trunkFor('[2001:db8::10]:5070')).toEqual({ orgId: 'acme', trunkId: 'carrier' });
    expect(dir.trunkFor('198.51.100.1')).toBeNull();
  });

  it('R-10 a call from a trunk is inbound PSTN to the dialled party', () => {
    expect(dir.classify({ sourceAddress: '192.0.2.10', from: 'sip:+442079460000@carrier', to: 'sip:+15550003001@sbc' })).toEqual({
      orgId: 'acme',
      trunkId: 'carrier',
      input: { direction: 'inbound-pstn', caller: { kind: 'pstn', number: '+442079460000' }, callee: { kind: 'auto-attendant', id: 'aa' } },
    });
  });

  it('R-10 a user calling an unknown number is outbound PSTN', () => {
    expect(dir.classify({ sourceAddress: '10.0.0.5', from: 'sip:alice@acme.example', to: 'sip:+442079460000@acme.example' })?.input).toEqual({
      direction: 'outbound-pstn',
      caller: { kind: 'user', id: 'alice' },
      callee: { kind: 'pstn', number: '+442079460000' },
    });
  });

  it('R-10 a user calling another user (by extension) is internal', () => {
    expect(dir.classify({ sourceAddress: '10.0.0.5', from: 'sip:alice@acme.example', to: 'sip:2002@acme.example' })?.input).toEqual({
      direction: 'internal',
      caller: { kind: 'user', id: 'alice' },
      callee: { kind: 'user', id: 'bob' },
    });
  });

  it('R-21 a call forwarded to voicemail is voicemail on behalf of the diverting user', () => {
    expect(dir.classify({ sourceAddress: '192.0.2.10', from: '+442079460000', to: 'sip:vm@acme.example', divertedFrom: 'sip:+15550002001@sbc' })?.input.callee).toEqual({
      kind: 'voicemail',
      onBehalfOf: { kind: 'user', id: 'alice' },
    });
  });

  it('R-21 a user calling voicemail directly reaches their own mailbox', () => {
    expect(dir.classify({ sourceAddress: '10.0.0.5', from: 'sip:bob@acme.example', to: 'tel:+15550008000' })?.input.callee).toEqual({
      kind: 'voicemail',
      onBehalfOf: { kind: 'user', id: 'bob' },
    });
  });

  it('a call from an unknown caller that is not a trunk is not ours', () => {
    expect(dir.classify({ sourceAddress: '10.0.0.9', from: 'sip:mallory@evil.example', to: 'sip:2001@acme.example' })).toBeNull();
  });
});
