import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { MediaSession, type SessionHost } from '../../../src/media/media-session.js';

function host(requests: string[], released: MediaSession[]): SessionHost {
  return {
    request: async <T>(cmd: { op: string }) => {
      requests.push(cmd.op);
      return undefined as T;
    },
    promptKey: () => undefined,
    prepareFork: async () => {
      throw new Error('not used');
    },
    released: (s) => released.push(s),
  };
}

const LOCAL = { address: '127.0.0.1', rtpPort: 40000, rtcpPort: 40001 };

describe('MediaSession lifecycle (open -> closing -> closed, common state machine)', () => {
  it('close() asks the engine once, ends closed, releases the ports once and emits closed once', async () => {
    const requests: string[] = [];
    const released: MediaSession[] = [];
    const s = new MediaSession('s1', { a: LOCAL, b: { ...LOCAL, rtpPort: 40002, rtcpPort: 40003 } }, host(requests, released));
    const closed: string[] = [];
    s.on('closed', (r) => closed.push(r));
    const first = s.close();
    expect(s.state).toBe('closing');
    await Promise.all([first, s.close()]);
    expect(s.state).toBe('closed');
    expect(requests).toEqual(['closeSession']);
    expect(released).toHaveLength(1);
    expect(closed).toEqual(['closed']);
  });

  it('MUST resolve close() after the plane already closed the session (worker gone), not throw an illegal move', async () => {
    const requests: string[] = [];
    const released: MediaSession[] = [];
    const s = new MediaSession('s2', { a: LOCAL, b: LOCAL }, host(requests, released));
    s.markClosed('worker-failed');
    await expect(s.close()).resolves.toBeUndefined();
    expect(requests).toEqual([]);
    expect(released).toHaveLength(1);
  });

  it('commands after close reject with CLOSED', async () => {
    const s = new MediaSession('s3', { a: LOCAL, b: LOCAL }, host([], []));
    s.markClosed('closed');
    const err = await s.getStats().catch((e: unknown) => e);
    expect(isAppError(err, 'CLOSED')).toBe(true);
  });
});
