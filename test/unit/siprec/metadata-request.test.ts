import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { buildSnapshotRequest, parseSnapshotRequest } from '../../../src/siprec/index.js';

describe('rs-metadata-request snapshot requests (RFC 7866 section 9.3)', () => {
  it('builds and parses a requestsnapshot with a reason', () => {
    const xml = buildSnapshotRequest('SRS internal error');
    expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<requestsnapshot xmlns="urn:ietf:params:xml:ns:recording:1">\n  <requestreason xml:lang="en">SRS internal error</requestreason>\n</requestsnapshot>\n');
    expect(parseSnapshotRequest(xml)).toEqual({ reason: 'SRS internal error', lang: 'en' });
    expect(parseSnapshotRequest(buildSnapshotRequest())).toEqual({ reason: undefined, lang: undefined });
  });

  it('refuses another document', () => {
    try {
      parseSnapshotRequest('<recording xmlns="urn:ietf:params:xml:ns:recording:1"/>');
      expect.unreachable();
    } catch (err) {
      expect(isAppError(err, 'SIPREC_METADATA_INVALID')).toBe(true);
    }
  });
});
