import { describe, expect, it } from 'vitest';
import { natFlowPolicy } from '../../../src/app/application.js';
import type { PolicySnapshot } from '../../../src/policy/policy-types.js';

// only the trunks matter to the policy
const snapshots = [{ trunks: [{ id: 'carrier', sourceAddresses: ['203.0.113.5', '198.51.100.7:5080'] }] }] as unknown as PolicySnapshot[];
const trunk = { protocol: 'udp' as const, host: '203.0.113.5', port: 5060 };
const trunkWithPort = { protocol: 'udp' as const, host: '198.51.100.7', port: 5080 };
const phone = { protocol: 'udp' as const, host: '192.0.2.44', port: 41234 };
const trunkHostOtherPort = { protocol: 'tcp' as const, host: '198.51.100.7', port: 50123 };

describe('sip.natContacts -> the embedded engine NAT mode per dialog peer', () => {
  it("'user-agents' (default): phones get their flow, trunks keep drachtio-server's NAT detection", () => {
    const policy = natFlowPolicy('user-agents', () => snapshots);
    expect(policy(phone)).toBe('flow');
    expect(policy(trunk)).toBe('detect');
    expect(policy(trunkWithPort)).toBe('detect');
    expect(policy(trunkHostOtherPort)).toBe('flow'); // a trunk entry with a port matches that port only
  });

  it("'all': every peer gets its flow, trunks too", () => {
    const policy = natFlowPolicy('all', () => snapshots);
    expect(policy(phone)).toBe('flow');
    expect(policy(trunk)).toBe('flow');
  });

  it("'off': phones get their Contact as written (RFC 3261), trunks still drachtio-server's detection", () => {
    const policy = natFlowPolicy('off', () => snapshots);
    expect(policy(phone)).toBe('contact');
    expect(policy(trunk)).toBe('detect');
  });

  it('reads the settings at each new dialog (a trunk added at run time counts at once)', () => {
    let current: PolicySnapshot[] = [];
    const policy = natFlowPolicy('user-agents', () => current);
    expect(policy(trunk)).toBe('flow');
    current = snapshots;
    expect(policy(trunk)).toBe('detect');
  });
});
