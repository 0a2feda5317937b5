import { describe, expect, it } from 'vitest';
import { createPolicyDirectory } from '../../../src/policy/policy-directory.js';
import { admitInvite } from '../../../src/sip/admission.js';
import { effectiveSource, parseBalancerSource } from '../../../src/sip/balancer-source.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';

const balancers = ['10.9.0.2'];

describe('carrier source behind a load balancer (docs/scaling.md "Kamailio in front")', () => {
  it('MUST use the X-Balancer-Source address when the packet comes from a trusted balancer', () => {
    expect(effectiveSource('10.9.0.2', 5060, '192.0.2.10:5060', balancers)).toEqual({ address: '192.0.2.10', port: 5060, from: 'balancer' });
    expect(effectiveSource('10.9.0.2', 5060, ' [2001:DB8::7]:5070 ', balancers)).toEqual({ address: '2001:db8::7', port: 5070, from: 'balancer' });
  });

  it('MUST ignore the header from any other sender and say so, keeping the packet source', () => {
    expect(effectiveSource('198.51.100.9', 5060, '192.0.2.10:5060', balancers)).toEqual({ address: '198.51.100.9', port: 5060, from: 'packet', ignored: 'untrusted-sender' });
    // no balancer configured: never believed
    expect(effectiveSource('10.9.0.2', 5060, '192.0.2.10:5060')).toMatchObject({ address: '10.9.0.2', ignored: 'untrusted-sender' });
  });

  it('MUST honour a balancer entry with a port only for that port', () => {
    expect(effectiveSource('10.9.0.2', 5061, '192.0.2.10:5060', ['10.9.0.2:5060'])).toMatchObject({ address: '10.9.0.2', ignored: 'untrusted-sender' });
    expect(effectiveSource('10.9.0.2', 5060, '192.0.2.10:5060', ['10.9.0.2:5060'])).toMatchObject({ address: '192.0.2.10', from: 'balancer' });
  });

  it('MUST keep the packet source without a header, and ignore a malformed header from a balancer', () => {
    expect(effectiveSource('10.9.0.2', 5060, undefined, balancers)).toEqual({ address: '10.9.0.2', port: 5060, from: 'packet' });
    for (const bad of ['', 'carrier.example.com:5060', '192.0.2.10', '192.0.2.10:0', '192.0.2.10:70000', '300.0.0.1:5060', '[zz]:5060', '1.2.3.4:5060, 5.6.7.8:5060']) {
      expect(effectiveSource('10.9.0.2', 5060, bad, balancers), bad).toEqual({ address: '10.9.0.2', port: 5060, from: 'packet', ignored: 'malformed' });
    }
    expect(parseBalancerSource('x'.repeat(10_000))).toBeUndefined();
  });

  it('MUST admit a trunk call through the balancer only when the balancer is trusted (R-10)', () => {
    const snap = makeSnapshot();
    const directory = createPolicyDirectory([snap]);
    const trunkAddress = snap.trunks[0]!.sourceAddresses[0]!.replace(/:\d+$/, '');
    const invite = (source: { address: string; port: number }) =>
      admitInvite(
        { sourceAddress: source.address, sourcePort: source.port, from: '<sip:+15559990000@carrier>;tag=1', to: '<sip:+15550002001@b2bua>', requestUri: 'sip:+15550002001@b2bua' },
        [snap],
        directory,
      );
    expect(invite(effectiveSource('10.9.0.2', 5060, `${trunkAddress}:5060`, balancers))).toMatchObject({ admitted: true, source: 'trunk' });
    // the same header from a party that is not the balancer is a spoofing attempt: refused
    expect(invite(effectiveSource('198.51.100.9', 5060, `${trunkAddress}:5060`, balancers))).toMatchObject({ admitted: false, status: 403 });
  });
});
