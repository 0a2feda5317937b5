import { describe, expect, it } from 'vitest';
import { parseFault, parseSrsArgs } from '../../../src/srs/main.js';
import { DEFAULT_SRS_OPTIONS } from '../../../src/srs/srs-options.js';

describe('SRS command line', () => {
  it('uses the stated defaults', () => {
    const { options, engineContact } = parseSrsArgs([]);
    expect(options).toEqual(DEFAULT_SRS_OPTIONS);
    expect(options.drachtio).toEqual({ host: '127.0.0.1', port: 9022, secret: 'cymru' });
    expect(engineContact).toBeUndefined();
  });

  it('reads every option', () => {
    const { options, engineContact } = parseSrsArgs([
      '--drachtio', '10.0.0.1:9023', '--secret', 's', '--engine', 'sip:127.0.0.1:5080', '--rtp-address', '127.0.0.2',
      '--rtp-ports', '17100-17199', '--recordings-dir', '/tmp/r', '--no-require-siprec', '--fault', 'reject:486',
      '--min-free-mb', '50', '--startup-check', 'degraded',
    ]);
    expect(options).toMatchObject({
      drachtio: { host: '10.0.0.1', port: 9023, secret: 's' },
      rtpAddress: '127.0.0.2',
      rtpPorts: { from: 17100, to: 17199 },
      recordingsDir: '/tmp/r',
      requireSiprec: false,
      minFreeMb: 50,
      startupCheck: 'degraded',
      faults: { mode: 'reject', status: 486 },
    });
    expect(engineContact).toBe('sip:127.0.0.1:5080');
  });

  it('parses fault specs and refuses unknown ones', () => {
    expect(parseFault('no-answer')).toEqual({ mode: 'no-answer' });
    expect(parseFault('slow-answer:1500')).toEqual({ mode: 'slow-answer', delayMs: 1500 });
    expect(parseFault('bye-after')).toEqual({ mode: 'bye-after' });
    expect(() => parseFault('explode')).toThrow(RangeError);
    expect(() => parseSrsArgs(['--bogus'])).toThrow(RangeError);
    expect(() => parseSrsArgs(['--startup-check', 'maybe'])).toThrow(RangeError);
    expect(() => parseSrsArgs(['--min-free-mb', '-1'])).toThrow(RangeError);
  });
});
