/**
 * A phone that is not behind NAT but whose SDP names another interface of its host than the one its
 * RTP leaves from (issue 12, item 5; seen in the field with Debian's baresip 1.0). The phone's host
 * (field-bed.ts, namespace "direct") has two interfaces: its default route goes out of "dflt"
 * (192.0.2.30, a second NIC or VPN), and a more specific route leads to the provider through "eth"
 * (198.51.100.30). baresip 1.0 writes the address of its default route's interface into its SDP
 * (`c=IN IP4 192.0.2.30`), and so does linphonec 5.1 when it listens on every address; both bind
 * their RTP sockets to 0.0.0.0, so the kernel sends their RTP from 198.51.100.30, the source of the
 * route to the provider. SIP comes from 198.51.100.30 too. Nothing routes back to 192.0.2.30.
 *
 *   - `MEDIA_LATCHING` `auto` (the default), per phone, over UDP and TCP: the product learns the
 *     real source ('media source latched', how "learned"), drops nothing as a hijack; the carrier
 *     and the phone hear each other; the recording holds the carrier (600 Hz) on channel 1 and the
 *     phone (1000 Hz) on channel 2;
 *   - `MEDIA_LATCHING=sdp` (strict) with `MEDIA_SILENCE_ALARM_SECONDS=2`, baresip, over UDP and TCP:
 *     every packet of the phone is dropped as a hijack and its channel stays empty, and that is not
 *     silent: one warn line, `siprec_b2bua_media_silent_legs_total{reason="hijack"}` 1, the recording
 *     server's summary marks the stream empty with reason "hijack" and the metadata carries
 *     `<b2b:silent-stream label="2" reason="hijack">` (docs/nat.md "Silence is never silent").
 *
 * Each case first checks its precondition: the INVITE came from 198.51.100.30 with
 * `c=IN IP4 192.0.2.30` (the product's debug log), so the case is never passed without being
 * exercised. Needs root (fails with the reason otherwise).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip } from '../../support/baresip-phone.js';
import { startLinphone } from '../../support/linphone-phone.js';
import type { SipTransportName, SoftPhone } from '../../support/soft-phone.js';
import { ADDR, ALICE, describeAudio, FieldBed, HZ, PORT, PSTN_NUMBER, recordingOf, toneRatio, wavChannel, window } from './field-bed.js';
import { expectRecordingHoldsCarrierThenPhone, heardByPhone } from './phone-behind-nat-cases.js';
import { sleep } from '../../support/wait.js';

type PhoneName = 'baresip' | 'linphonec';

const TRANSPORTS: SipTransportName[] = ['udp', 'tcp'];
const SILENT_WARNING = 'no audio from one party while the other talks: its recording channel is empty';
const metric = {
  learned: 'siprec_b2bua_rtp_latches_total{how="learned"}',
  hijack: 'siprec_b2bua_rtp_dropped_total{reason="hijack"}',
  silentHijack: 'siprec_b2bua_media_silent_legs_total{reason="hijack"}',
};
/** `192.0.2.30:<port>`: an address:port of the interface the phones advertise. */
const AT_WRONG_INTERFACE = new RegExp(`^${ADDR.wrongInterface.replaceAll('.', '\\.')}:\\d+$`);
const AT_REAL_SOURCE = new RegExp(`^${ADDR.directPhone.replaceAll('.', '\\.')}:\\d+$`);

let bed: FieldBed;
/** The phone of the running case, closed after each. */
const calls: { phone: SoftPhone | undefined } = { phone: undefined };

beforeAll(() => {
  bed = new FieldBed('wif');
});

afterAll(async () => {
  await bed?.close();
});

/** The phone on the two-interface host: identity and SIP on 198.51.100.30, SDP by its routing table. */
function startDirectPhone(name: PhoneName, dir: string): SoftPhone {
  const common = {
    commandPrefix: bed.netns.prefixFor(bed.ns.direct),
    dir: bed.phoneDir(dir),
    address: ADDR.directPhone,
    sipPort: PORT.phoneSip,
    user: ALICE,
    domain: ADDR.product,
    sourceWav: bed.phoneWav,
  };
  return name === 'baresip' ? startBaresip(common) : startLinphone({ ...common, listenOnAll: true });
}

interface JsonLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

function parsed(lines: readonly string[]): JsonLine[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as JsonLine];
    } catch {
      return [];
    }
  });
}

/** One outbound call of ~6 s from the direct phone to the carrier; returns what the checks need. */
async function callFromDirectPhone(name: PhoneName, transport: SipTransportName, label: string) {
  const tcp = transport === 'tcp' ? ';transport=tcp' : '';
  const media = await bed.startCarrierMedia(`wrong-interface-${label}`);
  const carrier = bed.carrier('carrier-callee', transport);
  const phone = startDirectPhone(name, `wrong-interface-${label}`);
  calls.phone = phone;
  await sleep(1500); // the phone reads its configuration and opens its SIP sockets
  const before = bed.recordings(transport);
  const firstLine = bed.productLines().length;
  const metricsBefore = { learned: bed.metric(metric.learned), hijack: bed.metric(metric.hijack) };

  phone.dial(`sip:${PSTN_NUMBER}@${ADDR.product}:${PORT.sip}${tcp}`);
  await phone.waitFor('established', 15_000);
  await sleep(6000);
  phone.hangup();
  await phone.waitFor('ended', 10_000);
  const c = await carrier.done;
  await media.stop();
  const lines = bed.productLines().slice(firstLine);
  expect(c.code, `the carrier's call (answered, BYE answered)\n${c.describe}\n${lines.slice(-30).join('\n')}`).toBe(0);
  expect(
    lines.some((l) => l.includes(`"from":"${ADDR.directPhone}:`) && l.includes('INVITE sip:') && l.includes(`c=IN IP4 ${ADDR.wrongInterface}`)),
    `precondition: the phone's INVITE came from ${ADDR.directPhone} with c=IN IP4 ${ADDR.wrongInterface} ` +
      `(${name} writes its default route's address); if this fails the case was not exercised\n${phone.log().slice(-3000)}`,
  ).toBe(true);
  return {
    phone,
    carrierHeard: media.heard(),
    wav: await recordingOf(bed, transport, before),
    log: parsed(lines),
    delta: { learned: bed.metric(metric.learned) - metricsBefore.learned, hijack: bed.metric(metric.hijack) - metricsBefore.hijack },
  };
}

afterEach(async () => {
  await calls.phone?.close();
  calls.phone = undefined;
  await bed.endCall();
});

describe.each(TRANSPORTS)('field: a phone whose SDP names its default-route interface while RTP leaves from another, latching auto, SIP over %s', (transport) => {
  beforeAll(async () => {
    await bed.startProduct(transport);
  }, 40_000);

  afterAll(async () => {
    await bed.stopProduct();
  });

  it.each(['baresip', 'linphonec'] as PhoneName[])(
    "%s: SDP says 192.0.2.30, RTP comes from 198.51.100.30: the product latches onto the real source (no RTP dropped as a hijack), both parties hear each other, the recording holds carrier then phone",
    async (name) => {
      const call = await callFromDirectPhone(name, transport, `${name}-${transport}-auto`);

      const latched = call.log.filter((l) => l.msg === 'media source latched' && typeof l.source === 'string' && l.source.startsWith(`${ADDR.directPhone}:`));
      expect(latched, `one 'media source latched' line for the phone's leg\n${JSON.stringify(call.log.filter((l) => l.msg === 'media source latched'))}`).toHaveLength(1);
      expect(latched[0], 'the phone leg learnt its real source, its SDP named the other interface').toMatchObject({ party: 'caller', mode: 'auto', how: 'learned' });
      expect(String(latched[0]!.sdp), "the latch line's sdp is the advertised address").toMatch(AT_WRONG_INTERFACE);
      expect(call.delta.learned, `${metric.learned} grew`).toBeGreaterThanOrEqual(1);
      // what reaches the product's RTCP port from the phone's real address before its first RTP packet
      // latched the source (baresip: an RTCP report; linphonec: STUN-like keep-alives) is 'unlatched',
      // not an attack; 6 s of the phone's RTP dropped would be ~300
      expect(call.delta.hijack, `${metric.hijack}: none of the phone's packets dropped as a hijack`).toBe(0);
      expect(call.log.filter((l) => l.msg === SILENT_WARNING), 'no silent-leg warning').toEqual([]);

      expect(toneRatio(window(call.carrierHeard, 8000, -2.5, -0.3), HZ.phone, HZ.carrier), 'the carrier hears the phone').toBeGreaterThan(10);
      const heard = heardByPhone(call.phone, -2.5, -0.3);
      expect(toneRatio(heard.pcm, HZ.carrier, HZ.phone, heard.rate), 'the phone hears the carrier').toBeGreaterThan(10);
      expectRecordingHoldsCarrierThenPhone(call.wav);
    },
    60_000,
  );
});

describe.each(TRANSPORTS)('field: the same phone with MEDIA_LATCHING=sdp (strict), SIP over %s', (transport) => {
  beforeAll(async () => {
    await bed.startProduct(transport, { MEDIA_LATCHING: 'sdp', MEDIA_SILENCE_ALARM_SECONDS: '2' });
  }, 40_000);

  afterAll(async () => {
    await bed.stopProduct();
  });

  it("baresip: every phone packet is dropped as a hijack and its channel is empty, and that is not silent: one warn line, the silent-leg metric, the recording's summary and metadata name label 2 and 'hijack'", async () => {
    const call = await callFromDirectPhone('baresip', transport, `baresip-${transport}-strict`);

    const warnings = call.log.filter((l) => l.msg === SILENT_WARNING);
    expect(warnings, 'one warn line about the silent phone leg').toHaveLength(1);
    expect(warnings[0], 'the warning: level warn, the caller (the phone), reason hijack').toMatchObject({ level: 40, party: 'caller', reason: 'hijack' });
    expect(String(warnings[0]!.sdp), 'the warning names the SDP address the leg is held to').toMatch(AT_WRONG_INTERFACE);
    expect(String(warnings[0]!.source), 'and the source the refused packets really came from').toMatch(AT_REAL_SOURCE);
    expect(bed.metric(metric.silentHijack), metric.silentHijack).toBe(1);
    expect(call.delta.hijack, `${metric.hijack}: the phone's packets were dropped`).toBeGreaterThan(50);

    const carrierChannel = wavChannel(call.wav, 0);
    const phoneChannel = wavChannel(call.wav, 1);
    expect(toneRatio(window(carrierChannel.pcm, 8000, 0.5, -0.3), HZ.carrier, HZ.phone), 'label 1 holds the carrier').toBeGreaterThan(10);
    expect(describeAudio(window(phoneChannel.pcm, 8000, 0.5, -0.3)).level, "label 2 (the phone) is empty").toBeLessThan(1e-6);
    expect(describeAudio(window(call.carrierHeard, 8000, -2.5, -0.3)).phoneShare, 'the carrier does not hear the phone').toBeLessThan(0.1);

    const summary = await summaryOf(call.wav);
    const phoneStream = summary.streams.find((s) => s.label === '2');
    expect(phoneStream, `the summary's stream of label 2\n${JSON.stringify(summary.streams)}`).toMatchObject({ empty: true, silentReason: 'hijack' });
    expect(summary.streams.find((s) => s.label === '1'), 'the carrier stream is not empty').toMatchObject({ empty: false });

    const documents = metadataDocuments(call.wav);
    const marked = documents.filter((d) => d.text.includes('<b2b:silent-stream label="2" reason="hijack"')).map((d) => d.name);
    expect(marked, `metadata documents that mark label 2 silent, of ${documents.map((d) => d.name).join(', ')}`).toContain(`${basename(call.wav, '.wav')}.metadata.xml`);
    expect(marked.length, 'the update sent at once and the final document (besides the latest copy)').toBeGreaterThanOrEqual(2);
    expect(documents.find((d) => d.name === `${basename(call.wav, '.wav')}.metadata.xml`)!.text, 'the metadata names the real source').toContain(`source="${ADDR.directPhone}:`);
  }, 60_000);
});

interface Summary {
  streams: Array<{ label: string; empty: boolean; silentReason?: string }>;
}

/** The recording server's summary (`<id>.json` next to `<id>.wav`), waiting for it to be written. */
async function summaryOf(wav: string): Promise<Summary> {
  const path = wav.replace(/\.wav$/, '.json');
  const deadline = Date.now() + 8000;
  while (!existsSync(path) && Date.now() < deadline) await sleep(100);
  expect(existsSync(path), `summary ${basename(path)}`).toBe(true);
  return JSON.parse(readFileSync(path, 'utf8')) as Summary;
}

/** Every metadata document of the recording (`<id>.metadata.<n>.xml` in order, then `<id>.metadata.xml`). */
function metadataDocuments(wav: string): Array<{ name: string; text: string }> {
  const id = basename(wav, '.wav');
  const dir = dirname(wav);
  const numbered = readdirSync(dir)
    .map((f) => ({ f, n: new RegExp(`^${id.replace(/[.]/g, '\\.')}\\.metadata\\.(\\d+)\\.xml$`).exec(f)?.[1] }))
    .filter((x): x is { f: string; n: string } => x.n !== undefined)
    .sort((a, b) => Number(a.n) - Number(b.n))
    .map((x) => x.f);
  return [...numbered, `${id}.metadata.xml`].filter((f) => existsSync(join(dir, f))).map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));
}
