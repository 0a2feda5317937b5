import { describe, expect, it } from 'vitest';
import { ConnectionLimits, DEFAULT_FD_LIMIT, MIN_CONNECTIONS, connectionBudget, parseFdLimit } from '../../../src/engine/connection-limits.js';

describe('ConnectionLimits', () => {
  it('MUST refuse inbound connections from one address beyond the per-source cap, counted, and admit again after a release', () => {
    const l = new ConnectionLimits({ maxConnections: 100, maxPerSource: 3 });
    expect([1, 2, 3].map(() => l.admitInbound('192.0.2.1'))).toEqual([undefined, undefined, undefined]);
    expect(l.admitInbound('192.0.2.1')).toBe('per-source');
    expect(l.admitInbound('192.0.2.2')).toBeUndefined();
    expect(l.refused['per-source']).toBe(1);
    l.release('192.0.2.1');
    expect(l.admitInbound('192.0.2.1')).toBeUndefined();
    expect(l.open).toBe(4);
  });

  it('MUST keep the reserve of the global cap for privileged sources (trunks) and exempt them from the per-source cap', () => {
    const l = new ConnectionLimits({ maxConnections: 10, maxPerSource: 0, privilegedReserve: 2, isPrivileged: (h) => h === '198.51.100.7' });
    for (let i = 0; i < 8; i++) expect(l.admitInbound(`192.0.2.${i}`)).toBeUndefined();
    expect(l.admitInbound('192.0.2.99')).toBe('global');
    expect(l.admitInbound('198.51.100.7')).toBeUndefined();
    expect(l.admitInbound('198.51.100.7')).toBeUndefined();
    expect(l.admitInbound('198.51.100.7')).toBe('global');
    expect(l.refused.global).toBe(2);
    const perSource = new ConnectionLimits({ maxConnections: 100, maxPerSource: 1, isPrivileged: (h) => h === '198.51.100.7' });
    expect([1, 2, 3].map(() => perSource.admitInbound('198.51.100.7'))).toEqual([undefined, undefined, undefined]);
  });

  it('MUST count outbound connections toward the global cap without ever refusing them', () => {
    const l = new ConnectionLimits({ maxConnections: 2, maxPerSource: 50, privilegedReserve: 0 });
    l.addOutbound('192.0.2.1');
    l.addOutbound('192.0.2.2');
    l.addOutbound('192.0.2.3');
    expect(l.open).toBe(3);
    expect(l.admitInbound('192.0.2.4')).toBe('global');
  });

  it('MUST treat a throwing privileged predicate as not privileged', () => {
    const l = new ConnectionLimits({ maxConnections: 10, maxPerSource: 1, isPrivileged: () => { throw new Error('bug'); } });
    expect(l.admitInbound('192.0.2.1')).toBeUndefined();
    expect(l.admitInbound('192.0.2.1')).toBe('per-source');
  });
});

describe('file-descriptor budget', () => {
  it('MUST read the soft RLIMIT_NOFILE from /proc/self/limits and fall back to 1024', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                524288               files\n';
    expect(parseFdLimit(text)).toBe(20000);
    expect(parseFdLimit('Max open files            unlimited            unlimited            files')).toBe(1_048_576);
    expect(parseFdLimit(undefined)).toBe(DEFAULT_FD_LIMIT);
    expect(parseFdLimit('garbage')).toBe(DEFAULT_FD_LIMIT);
  });

  it('MUST leave the media sockets and a fixed reserve out of the connection cap, never under the floor', () => {
    // 20000 descriptors, 10000 media ports + 1000 recording-server ports, 256 for the process
    expect(connectionBudget(20000, 11000)).toBe(8744);
    expect(connectionBudget(1024, 11000)).toBe(MIN_CONNECTIONS);
  });
});
