/**
 * The calls every real phone behind NAT must get right, over UDP and over TCP (issue 12, item 5),
 * shared by baresip-behind-nat.test.ts and linphone-behind-nat.test.ts:
 *
 *   - inbound (the carrier calls alice, whose phone is behind the masquerading NAT, reached through
 *     the port forward): the carrier hears the compliance announcement before the answer,
 *     then the phone; the phone hears the carrier (not the announcement: R-11 plays it to the PSTN
 *     caller only); the recording holds the carrier on label 1 and the phone on label 2;
 *     the carrier's BYE reaches the phone behind NAT;
 *   - outbound (the phone calls a PSTN number): the called carrier hears the announcement after the
 *     answer, then the phone; the phone puts the call on hold and back with re-INVITEs; after
 *     that both still hear each other; the phone's BYE ends the call at the carrier;
 *   - outbound through a NAT that maps the phone's RTP to another source port than the one in its SDP.
 *
 * Every call's audio is checked with Goertzel: phone 1000 Hz, carrier 600 Hz (field-bed.ts HZ).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SipTransportName, SoftPhone, SoftPhoneOptions } from '../../support/soft-phone.js';
import { ADDR, ALICE, describeAudio, FieldBed, HZ, PORT, PSTN_NUMBER, recordingOf, toneRatio, wavChannel, window } from './field-bed.js';
import { sleep } from '../../support/wait.js';

export type StartPhone = (o: SoftPhoneOptions) => SoftPhone;

/** The phone behind NAT: private address 10.0.0.2, SIP 5062, alice's number, the product as domain. */
export function phoneBehindNat(bed: FieldBed, start: StartPhone, name: string): SoftPhone {
  return start({
    commandPrefix: bed.netns.prefixFor(bed.ns.phone),
    dir: bed.phoneDir(name),
    address: ADDR.phone,
    sipPort: PORT.phoneSip,
    user: ALICE,
    domain: ADDR.product,
    sourceWav: bed.phoneWav,
  });
}

/** What the phone heard: channel 0 of its WAV from `fromS` to `toS` seconds (negative: from the end). */
export function heardByPhone(phone: SoftPhone, fromS: number, toS: number): { pcm: Int16Array; rate: number } {
  const { pcm, rate } = wavChannel(phone.heardWav());
  return { pcm: window(pcm, rate, fromS, toS), rate };
}

/** Asserts the recording of the call: label 1 (channel 0) the carrier, label 2 (channel 1) the phone. */
export function expectRecordingHoldsCarrierThenPhone(wavPath: string): void {
  const carrierChannel = wavChannel(wavPath, 0);
  const phoneChannel = wavChannel(wavPath, 1);
  expect(carrierChannel.pcm.length / carrierChannel.rate, 'recorded seconds').toBeGreaterThan(2);
  expect(toneRatio(window(carrierChannel.pcm, 8000, 0.5, -0.3), HZ.carrier, HZ.phone), 'label 1 holds the carrier (600 Hz over 1000 Hz)').toBeGreaterThan(10);
  expect(toneRatio(window(phoneChannel.pcm, 8000, 0.5, -0.3), HZ.phone, HZ.carrier), 'label 2 holds the phone (1000 Hz over 600 Hz)').toBeGreaterThan(10);
}

export function describePhoneBehindNat(phoneName: string, start: StartPhone): void {
  let bed: FieldBed;

  beforeAll(() => {
    bed = new FieldBed(phoneName.slice(0, 3));
  });

  afterAll(async () => {
    await bed?.close();
  });

  describe.each(['udp', 'tcp'] as SipTransportName[])(`${phoneName} behind a masquerading NAT, SIP over %s`, (transport) => {
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

    it('inbound: the carrier hears the compliance announcement, then the phone; the phone hears the carrier; the recording holds carrier and phone; the carrier BYE reaches the phone', async () => {
      const media = await bed.startCarrierMedia(`${phoneName}-${transport}-inbound`);
      phone = phoneBehindNat(bed, start, `${phoneName}-${transport}-inbound`);
      await sleep(1500); // the phone reads its configuration and opens its SIP sockets
      const before = bed.recordings(transport);
      const carrier = bed.carrier('carrier-caller', transport, { service: ALICE, pauseMs: 5000 });

      await phone.waitFor('established', 20_000).catch((err: Error) => {
        throw new Error(`${err.message}\nproduct:\n${bed.productLines().slice(-25).join('\n').slice(-6000)}`);
      });
      await phone.waitFor('ended', 20_000);
      const c = await carrier.done;
      await media.stop();
      expect(c.code, `the carrier's call (INVITE, 200, ACK, its BYE answered 200)\n${c.describe}\n${bed.productLines().slice(-30).join('\n')}`).toBe(0);
      expect(phone.count('ended'), 'the carrier BYE reached the phone behind NAT').toBe(1);

      const carrierHeard = media.heard();
      expect(carrierHeard.length / 8000, 'seconds of audio the carrier received').toBeGreaterThan(4);
      const announcement = describeAudio(window(carrierHeard, 8000, 0.1, 1.5));
      expect(announcement.level, 'the carrier hears the compliance announcement first (R-11): audible').toBeGreaterThan(1e-4);
      expect(announcement.phoneShare, 'the announcement is speech, not the phone').toBeLessThan(0.3);
      expect(toneRatio(window(carrierHeard, 8000, -2.5, -0.3), HZ.phone, HZ.carrier), "the carrier hears the phone's 1000 Hz after the answer").toBeGreaterThan(10);

      const heard = heardByPhone(phone, 0.5, -0.3);
      expect(heard.pcm.length / heard.rate, 'seconds the phone heard').toBeGreaterThan(2);
      expect(toneRatio(heard.pcm, HZ.carrier, HZ.phone, heard.rate), "the phone hears the carrier's 600 Hz").toBeGreaterThan(10);
      expect(describeAudio(heard.pcm, heard.rate).carrierShare, 'the phone hears the carrier only (no announcement: R-11 plays it to the caller)').toBeGreaterThan(0.5);

      expectRecordingHoldsCarrierThenPhone(await recordingOf(bed, transport, before));
    }, 60_000);

    it('outbound: the called carrier hears the announcement after the answer, then the phone; hold and resume re-INVITEs from the phone; both hear each other after the resume; the phone BYE ends the call', async () => {
      const media = await bed.startCarrierMedia(`${phoneName}-${transport}-outbound`);
      const carrier = bed.carrier('carrier-callee', transport);
      phone = phoneBehindNat(bed, start, `${phoneName}-${transport}-outbound`);
      await sleep(1500);
      const before = bed.recordings(transport);

      phone.dial(`sip:${PSTN_NUMBER}@${ADDR.product}:${PORT.sip}${tcp}`);
      await phone.waitFor('established', 15_000);
      await sleep(3500); // announcement to the carrier (~1.7 s), then conversation
      phone.hold();
      await sleep(2000);
      phone.resume();
      await sleep(3500);
      phone.hangup();
      await phone.waitFor('ended', 10_000);
      const c = await carrier.done;
      await media.stop();
      expect(c.code, `the carrier's call (answered, re-INVITEs answered, BYE answered)\n${c.describe}\n${bed.productLines().slice(-30).join('\n')}`).toBe(0);

      const invites = carrier.messages().filter((m) => m.direction === 'received' && m.method === 'INVITE');
      expect(invites.length, 'the carrier got the INVITE and the hold and resume re-INVITEs').toBe(3);
      expect(invites[1]!.text, 'hold: the re-INVITE passed on to the carrier stops the phone->carrier direction').toMatch(/a=(sendonly|inactive)/);
      expect(invites[2]!.text, 'resume: media flows both ways again').toMatch(/a=sendrecv/);
      expect(carrier.messages().some((m) => m.direction === 'received' && m.method === 'BYE'), "the phone's BYE reached the carrier").toBe(true);

      const carrierHeard = media.heard();
      const announcement = describeAudio(window(carrierHeard, 8000, 0.1, 1.5));
      expect(announcement.level, 'the called carrier hears the compliance announcement after the answer (R-12): audible').toBeGreaterThan(1e-4);
      expect(announcement.phoneShare, 'the announcement is speech, not the phone').toBeLessThan(0.3);
      expect(toneRatio(window(carrierHeard, 8000, -2.5, -0.3), HZ.phone, HZ.carrier), 'after the resume the carrier hears the phone').toBeGreaterThan(10);

      const heard = heardByPhone(phone, -2.5, -0.3);
      expect(toneRatio(heard.pcm, HZ.carrier, HZ.phone, heard.rate), 'after the resume the phone hears the carrier').toBeGreaterThan(10);

      expectRecordingHoldsCarrierThenPhone(await recordingOf(bed, transport, before));
    }, 60_000);

    it('outbound through a NAT that sends the phone RTP from another port than its SDP port: both hear each other and the recording holds the phone', async () => {
      bed.setNat('port-changing');
      try {
        const media = await bed.startCarrierMedia(`${phoneName}-${transport}-random-port`);
        const carrier = bed.carrier('carrier-callee', transport);
        phone = phoneBehindNat(bed, start, `${phoneName}-${transport}-random-port`);
        await sleep(1500);
        const before = bed.recordings(transport);

        phone.dial(`sip:${PSTN_NUMBER}@${ADDR.product}:${PORT.sip}${tcp}`);
        await phone.waitFor('established', 15_000);
        await sleep(5000);
        const mappings = phoneRtpMappings(bed.conntrack());
        phone.hangup();
        await phone.waitFor('ended', 10_000);
        const c = await carrier.done;
        await media.stop();
        expect(c.code, `${c.describe}\n${bed.productLines().slice(-30).join('\n')}`).toBe(0);
        expect(
          mappings.some((m) => m.privatePort !== m.publicPort),
          `the NAT sent the phone's RTP from another port than its own (conntrack: ${JSON.stringify(mappings)})`,
        ).toBe(true);

        expect(toneRatio(window(media.heard(), 8000, -2.5, -0.3), HZ.phone, HZ.carrier), 'the carrier hears the phone').toBeGreaterThan(10);
        const heard = heardByPhone(phone, -2.5, -0.3);
        expect(toneRatio(heard.pcm, HZ.carrier, HZ.phone, heard.rate), 'the phone hears the carrier').toBeGreaterThan(10);
        expectRecordingHoldsCarrierThenPhone(await recordingOf(bed, transport, before));
      } finally {
        bed.setNat('port-preserving');
      }
    }, 60_000);
  });
}

/** UDP flows from the phone's private address to the product's media address, from the NAT's conntrack table. */
export function phoneRtpMappings(conntrack: string): Array<{ privatePort: number; publicPort: number }> {
  const out: Array<{ privatePort: number; publicPort: number }> = [];
  for (const line of conntrack.split('\n')) {
    if (!/\budp\b/.test(line)) continue;
    const src = [...line.matchAll(/src=(\S+)/g)].map((m) => m[1]);
    const sport = [...line.matchAll(/sport=(\d+)/g)].map((m) => Number(m[1]));
    const dport = [...line.matchAll(/dport=(\d+)/g)].map((m) => Number(m[1]));
    if (src[0] !== ADDR.phone || sport[0] === PORT.phoneSip || sport[0] === undefined || dport[1] === undefined) continue;
    out.push({ privatePort: sport[0], publicPort: dport[1] });
  }
  return out;
}
