/**
 * The settings of several nodes on one database (config `cluster`, docs/scaling.md): defaults,
 * environment, validation.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';

describe('cluster settings (NODE_*)', () => {
  it('MUST default to a 2000 ms heartbeat, 3 missed beats, a 5000 ms forward timeout, node id and admin URL unset (derived at start)', () => {
    expect(loadConfig({}).cluster).toEqual({ nodeId: undefined, adminUrl: undefined, heartbeatMs: 2000, missedHeartbeats: 3, forwardTimeoutMs: 5000 });
  });

  it('MUST read NODE_ID, NODE_ADMIN_URL, NODE_HEARTBEAT_MS, NODE_MISSED_HEARTBEATS and NODE_FORWARD_TIMEOUT_MS', () => {
    const c = loadConfig({ NODE_ID: 'b2bua-2', NODE_ADMIN_URL: 'http://10.0.0.5:8080', NODE_HEARTBEAT_MS: '500', NODE_MISSED_HEARTBEATS: '4', NODE_FORWARD_TIMEOUT_MS: '2000' }).cluster;
    expect(c).toEqual({ nodeId: 'b2bua-2', adminUrl: 'http://10.0.0.5:8080', heartbeatMs: 500, missedHeartbeats: 4, forwardTimeoutMs: 2000 });
  });

  it('MUST refuse a node id with spaces, an admin URL with a path or another scheme, and out-of-range intervals, naming each', () => {
    expect(() => loadConfig({ NODE_ID: 'node 1', NODE_ADMIN_URL: 'ftp://x', NODE_HEARTBEAT_MS: '50', NODE_MISSED_HEARTBEATS: '0', NODE_FORWARD_TIMEOUT_MS: 'x' })).toThrow(
      /cluster\.nodeId \(NODE_ID\).*cluster\.adminUrl \(NODE_ADMIN_URL\).*cluster\.heartbeatMs must be a whole number >= 100.*cluster\.missedHeartbeats must be a whole number >= 1.*cluster\.forwardTimeoutMs/,
    );
    expect(() => loadConfig({ NODE_ADMIN_URL: 'http://10.0.0.5:8080/v1' })).toThrow(/NODE_ADMIN_URL/);
  });
});
