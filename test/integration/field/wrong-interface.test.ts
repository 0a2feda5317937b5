/**
 * A phone that is not behind NAT but whose SDP names another interface of its host (issue 12,
 * item 5): linphonec on 198.51.100.30 writes c=IN IP4 192.0.2.30 (an address of its host that no
 * route leads to, like a VPN or second NIC) into its SDP and Contact, while its RTP and SIP come
 * from 198.51.100.30. Over UDP and TCP it calls a PSTN number through the product: the product must
 * answer and talk to where the phone's packets come from, so the carrier hears the phone, the phone
 * hears the carrier, and the recording holds the phone. Needs root (fails with the reason otherwise).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { delay } from '../../support/engine-harness.js';
import { startLinphone } from '../../support/linphone-phone.js';
import type { SipTransportName, SoftPhone } from '../../support/soft-phone.js';
import { ADDR, ALICE, FieldBed, HZ, PORT, PSTN_NUMBER, recordingOf, toneRatio, window } from './field-bed.js';
import { expectRecordingHoldsCarrierThenPhone, heardByPhone } from './phone-behind-nat-cases.js';

let bed: FieldBed;

beforeAll(() => {
  bed = new FieldBed('wif');
});

afterAll(async () => {
  await bed?.close();
});

describe.each(['udp', 'tcp'] as SipTransportName[])('field: a phone whose SDP names a wrong interface, SIP over %s', (transport) => {
  const tcp = transport === 'tcp' ? ';transport=tcp' : '';
  let phone: SoftPhone | undefined;

  beforeAll(async () => {
    await bed.startProduct(transport);
  }, 40_000);

  afterEach(async () => {
    await phone?.close();
    phone = undefined;
    await bed.endCall();
  });

  afterAll(async () => {
    await bed.stopProduct();
  });

  it('outbound: SDP says 192.0.2.30, RTP comes from 198.51.100.30: the carrier hears the phone, the phone hears the carrier, the recording holds the phone', async () => {
    const media = await bed.startCarrierMedia(`wrong-interface-${transport}`);
    const carrier = bed.carrier('carrier-callee', transport);
    phone = startLinphone({
      commandPrefix: bed.netns.prefixFor(bed.ns.direct),
      dir: bed.phoneDir(`wrong-interface-${transport}`),
      address: ADDR.directPhone,
      sipPort: PORT.phoneSip,
      user: ALICE,
      domain: ADDR.product,
      sourceWav: bed.phoneWav,
      advertisedAddress: ADDR.wrongInterface,
    });
    await delay(1500);
    const before = bed.recordings(transport);

    phone.dial(`sip:${PSTN_NUMBER}@${ADDR.product}:${PORT.sip}${tcp}`);
    await phone.waitFor('established', 15_000);
    await delay(5500);
    phone.hangup();
    await phone.waitFor('ended', 10_000);
    const c = await carrier.done;
    await media.stop();
    expect(c.code, `${c.describe}\n${bed.productLines().slice(-30).join('\n')}`).toBe(0);
    expect(
      bed.productLines().some((l) => l.includes(`"from":"${ADDR.directPhone}:`) && l.includes(`c=IN IP4 ${ADDR.wrongInterface}`)),
      `precondition of the case: the phone's INVITE came from ${ADDR.directPhone} with c=IN IP4 ${ADDR.wrongInterface} ` +
        '(linphonec `nat` + `firewall nat`; if this fails, the phone wrote its real address and the case was not exercised)',
    ).toBe(true);

    expect(toneRatio(window(media.heard(), 8000, -2.5, -0.3), HZ.phone, HZ.carrier), 'the carrier hears the phone').toBeGreaterThan(10);
    const heard = heardByPhone(phone, -2.5, -0.3);
    expect(toneRatio(heard.pcm, HZ.carrier, HZ.phone, heard.rate), 'the phone hears the carrier').toBeGreaterThan(10);
    expectRecordingHoldsCarrierThenPhone(await recordingOf(bed, transport, before));
  }, 60_000);
});
