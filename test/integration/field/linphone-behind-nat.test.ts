/**
 * Linphone's console phone (Debian linphone-cli, linphonec) as alice's phone behind a masquerading
 * NAT, with the whole product and SIPp as the carrier, each in network namespaces of this test
 * (field-bed.ts): the calls of phone-behind-nat-cases.ts over UDP and TCP. Needs root (the test
 * fails with the reason otherwise).
 */
import { describe } from 'vitest';
import { startLinphone } from '../../support/linphone-phone.js';
import { describePhoneBehindNat } from './phone-behind-nat-cases.js';

describe('field: linphonec behind NAT (issue 12 item 5)', () => {
  describePhoneBehindNat('linphonec', startLinphone);
});
