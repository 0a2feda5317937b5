import { describe, expect, it } from 'vitest';
import { createPolicyDirectory } from '../../../src/policy/policy-directory.js';
import { admitInvite, firstUri, knownSourceRole, sourceMatches, userPart, type InviteFacts } from '../../../src/sip/admission.js';
import { routeLegB } from '../../../src/sip/b2bua-routing.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';

const snap = makeSnapshot();
const snapshots = [snap];
const directory = createPolicyDirectory(snapshots);
const trusted = { trustedSources: ['10.0.0.5'] };

function facts(o: Partial<InviteFacts>): InviteFacts {
  return { sourceAddress: '192.0.2.10', sourcePort: 5060, from: '<sip:+15559990000@192.0.2.10>;tag=1', to: '<sip:+15550002001@b2bua>', requestUri: 'sip:+15550002001@b2bua', ...o };
}

function admitted(f: InviteFacts, options = trusted) {
  const a = admitInvite(f, snapshots, directory, options);
  if (!a.admitted) throw new Error(`refused ${a.status} ${a.reason}`);
  return a;
}

describe('INVITE admission (R-10)', () => {
  it('MUST classify a call from a trunk source as inbound PSTN to the dialled user', () => {
    const a = admitted(facts({}));
    expect(a.source).toBe('trunk');
    expect(a.classified.input).toEqual({ direction: 'inbound-pstn', caller: { kind: 'pstn', number: '+15559990000' }, callee: { kind: 'user', id: 'alice' } });
    expect(a.classified.trunkId).toBe('carrier');
  });

  it('MUST answer 404 for a trunk call to a number nobody owns', () => {
    expect(admitInvite(facts({ requestUri: 'sip:+15550000000@b2bua', to: '<sip:+15550000000@b2bua>' }), snapshots, directory, trusted)).toMatchObject({ admitted: false, status: 404 });
  });

  it('MUST classify a user calling a non-organisation number as outbound PSTN via the organisation trunk', () => {
    const a = admitted(facts({ sourceAddress: '10.0.0.5', from: '<sip:alice@acme.example>;tag=2', requestUri: 'sip:+15557770000@b2bua', to: '<sip:+15557770000@b2bua>' }));
    expect(a.classified.input).toMatchObject({ direction: 'outbound-pstn', caller: { kind: 'user', id: 'alice' }, callee: { kind: 'pstn', number: '+15557770000' } });
    expect(a.trunk?.id).toBe('carrier');
    expect(routeLegB(a)).toBe('sip:+15557770000@192.0.2.10');
    expect(routeLegB(a, { trunkTargets: { carrier: 'sbc.carrier.example:5080;transport=tcp' } })).toBe('sip:+15557770000@sbc.carrier.example:5080;transport=tcp');
  });

  it('MUST classify user to user (by extension) as internal, and prefer P-Asserted-Identity over From', () => {
    const a = admitted(facts({ sourceAddress: '10.0.0.5', from: '<sip:anonymous@anonymous.invalid>', pAssertedIdentity: '<sip:bob@acme.example>', requestUri: 'sip:2001@pbx', to: '<sip:2001@pbx>' }));
    expect(a.classified.input).toMatchObject({ direction: 'internal', caller: { kind: 'user', id: 'bob' }, callee: { kind: 'user', id: 'alice' } });
    expect(routeLegB(a)).toBe('sip:alice@acme.example');
    expect(routeLegB(a, { userProxy: 'sip:10.0.0.5:5070' })).toBe('sip:2001@10.0.0.5:5070');
  });

  it('MUST refuse unknown sources with 403 unless admission is open; open still needs a known caller', () => {
    const f = facts({ sourceAddress: '198.51.100.1', from: '<sip:alice@acme.example>', requestUri: 'sip:2002@x', to: '<sip:2002@x>' });
    expect(admitInvite(f, snapshots, directory, {})).toMatchObject({ admitted: false, status: 403 });
    expect(admitInvite(f, snapshots, directory, { open: true })).toMatchObject({ admitted: true, source: 'open' });
    expect(admitInvite({ ...f, from: '<sip:mallory@evil.example>' }, snapshots, directory, { open: true })).toMatchObject({ admitted: false, status: 403 });
  });

  it('MUST route a trunk call to a feature number to the feature, whose language applies (R-04)', () => {
    const a = admitted(facts({ requestUri: 'sip:+15550003001@b2bua', to: '<sip:+15550003001@b2bua>' }));
    expect(a.classified.input.callee).toEqual({ kind: 'auto-attendant', id: 'aa' });
  });

  it('MUST attribute a diverted call to voicemail to the diverting user (R-21), from Diversion or History-Info', () => {
    const vm = { requestUri: 'sip:+15550008000@b2bua', to: '<sip:+15550008000@b2bua>' };
    expect(admitted(facts({ ...vm, diversion: '<sip:+15550002002@acme.example>;reason=no-answer' })).classified.input.callee).toEqual({
      kind: 'voicemail',
      onBehalfOf: { kind: 'user', id: 'bob' },
    });
    expect(
      admitted(facts({ ...vm, historyInfo: '<sip:+15550002001@b2bua>;index=1, <sip:+15550008000@b2bua?Reason=SIP%3Bcause%3D408>;index=1.1' })).classified.input.callee,
    ).toEqual({ kind: 'voicemail', onBehalfOf: { kind: 'user', id: 'alice' } });
    expect(admitted(facts(vm)).classified.input.callee).toEqual({ kind: 'voicemail', onBehalfOf: null });
  });

  it('MUST match a trunk entry with a port on that port only, so parties can share an address', () => {
    const s = { ...snap, trunks: [{ ...snap.trunks[0]!, sourceAddresses: ['127.0.0.1:5062'] }] };
    const dir = createPolicyDirectory([s]);
    const fromTrunk = admitInvite(facts({ sourceAddress: '127.0.0.1', sourcePort: 5062 }), [s], dir, {});
    const fromPhone = admitInvite(facts({ sourceAddress: '127.0.0.1', sourcePort: 5064, from: '<sip:alice@acme.example>' }), [s], dir, { trustedSources: ['127.0.0.1:5064'] });
    expect(fromTrunk).toMatchObject({ admitted: true, source: 'trunk' });
    expect(fromPhone).toMatchObject({ admitted: true, source: 'trusted' });
    expect(sourceMatches('127.0.0.1', '127.0.0.1', 9)).toBe(true);
    expect(sourceMatches('127.0.0.1:5062', '127.0.0.1', 9)).toBe(false);
  });

  it('MUST admit a digest-authenticated caller from an unknown source without open admission, classified by From only (RFC 3325)', () => {
    const f = facts({ sourceAddress: '198.51.100.1', from: '<sip:alice@acme.example>;tag=3', pAssertedIdentity: '<sip:bob@acme.example>', requestUri: 'sip:2002@x', to: '<sip:2002@x>' });
    expect(admitInvite(f, snapshots, directory, {})).toMatchObject({ admitted: false, status: 403 });
    const a = admitInvite({ ...f, authenticated: true }, snapshots, directory, {});
    expect(a).toMatchObject({ admitted: true, source: 'authenticated' });
    expect(a.admitted && a.classified.input.caller).toEqual({ kind: 'user', id: 'alice' });
    // a trusted source keeps its role and its P-Asserted-Identity
    const t = admitInvite({ ...f, sourceAddress: '10.0.0.5', authenticated: true }, snapshots, directory, trusted);
    expect(t).toMatchObject({ admitted: true, source: 'trusted' });
    expect(t.admitted && t.classified.input.caller).toEqual({ kind: 'user', id: 'bob' });
  });

  it('MUST tell trunk and trusted sources from the others', () => {
    expect(knownSourceRole(snapshots, '192.0.2.10', 5060, trusted)).toBe('trunk');
    expect(knownSourceRole(snapshots, '10.0.0.5', 5070, trusted)).toBe('trusted');
    expect(knownSourceRole(snapshots, '198.51.100.1', 5060, trusted)).toBeUndefined();
    expect(knownSourceRole(snapshots, '', 0)).toBeUndefined();
  });

  it('never throws on odd header values', () => {
    expect(firstUri('')).toBeUndefined();
    expect(firstUri('"x" <sip:a@b;user=phone>;tag=1')).toBe('sip:a@b;user=phone');
    expect(userPart('garbage')).toBe('');
    expect(userPart('tel:+15551234')).toBe('+15551234');
    // a broken %-escape stays as it is (found by the whole-product fuzz: it used to throw URIError -> 500)
    expect(userPart('<sip:+1555%E0%A4%A@127.0.0.1>')).toBe('+1555%E0%A4%A');
    expect(admitInvite(facts({ from: '<sip:%zz@127.0.0.1>', to: '<sip:%@127.0.0.1>', requestUri: 'sip:%E0%A4%A@127.0.0.1' }), snapshots, directory, trusted)).toMatchObject({ admitted: false });
    expect(admitInvite(facts({ from: '', to: '', requestUri: '' }), snapshots, directory, trusted)).toMatchObject({ admitted: false });
  });
});
