/**
 * baresip (Debian baresip-core) as alice's phone behind a masquerading NAT, with the whole product
 * and SIPp as the carrier, each in network namespaces of this test (field-bed.ts): the calls of
 * phone-behind-nat-cases.ts over UDP and TCP. Needs root (the test fails with the reason otherwise).
 */
import { describe } from 'vitest';
import { startBaresip } from '../../support/baresip-phone.js';
import { describePhoneBehindNat } from './phone-behind-nat-cases.js';

describe('field: baresip behind NAT (issue 12 item 5)', () => {
  describePhoneBehindNat('baresip', startBaresip);
});
