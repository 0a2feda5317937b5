/**
 * The golden cases of sdp-media.test.ts: a real-world SDP (test/fixtures/sdp/) rewritten by
 * buildLegSdp with the options the call layer uses, and the file holding the expected bytes.
 * `npx tsx test/unit/sip/sdp-goldens.ts --write` regenerates the expected files (review the diff).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildLegSdp, type LegSdpOptions } from '../../../src/sip/sdp-media.js';

export const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url), 'utf8');

/** Our media address and ports in every golden (documentation range, RFC 5737). */
const TO_CALLEE = { address: '192.0.2.10', port: 40002, sessionId: 17650000002, sessionVersion: 0 } as const;
const TO_CALLER = { address: '192.0.2.10', port: 40000, sessionId: 17650000001, sessionVersion: 0 } as const;

export interface GoldenCase {
  readonly name: string;
  /** What it shows. */
  readonly what: string;
  readonly source: string;
  readonly options: Omit<LegSdpOptions, 'answerTo'> & { answerTo?: string };
  /** The expected output's file. */
  readonly golden: string;
}

export const GOLDEN_CASES: readonly GoldenCase[] = [
  {
    name: 'baresip 1.0 offer to the callee of a recorded call',
    what: 'no a=ssrc/label/rtcp-rsize/minptime/tool; only G.711 + telephone-event (recorded), G.711 first',
    source: 'baresip-1.0-offer.sdp',
    options: { ...TO_CALLEE, onlyG711: true, preferG711: true },
    golden: 'baresip-1.0.to-callee.sdp',
  },
  {
    name: 'our answer to baresip from a callee that answered telephone-event as 96',
    what: 'the answer numbers telephone-event 101 as baresip offered it; a=record for a record-aware caller',
    source: 'callee-answer-te96.sdp',
    options: { ...TO_CALLER, answerTo: 'baresip-1.0-offer.sdp', recordIndication: 'on' },
    golden: 'baresip-1.0.answer.sdp',
  },
  {
    name: 'Linphone 5.1 offer to the callee of an unrecorded call',
    what: 'no rtcp-xr/rtcp-fb; every codec kept (relayed untouched) with its fmtp; one telephone-event per codec clock rate',
    source: 'linphone-5.1-offer.sdp',
    options: TO_CALLEE,
    golden: 'linphone-5.1.to-callee.sdp',
  },
  {
    name: 'our early-media answer to a Linphone RTP/AVPF offer with rtcp-mux (PCMU only, prompts)',
    what: 'an answer keeps the offer profile RTP/AVPF and answers a=rtcp-mux; no rtcp-fb',
    source: 'linphone-5.1-avpf-offer.sdp',
    options: { ...TO_CALLER, answerTo: 'linphone-5.1-avpf-offer.sdp', payloadTypes: [0] },
    golden: 'linphone-5.1-avpf.answer.sdp',
  },
  {
    name: 'carrier offer to the callee of a recorded call',
    what: 'ptime 30 passed on, maxptime/silenceSupp/b= dropped, the refused T.38 stream stays as port 0',
    source: 'carrier-offer.sdp',
    options: { ...TO_CALLEE, onlyG711: true, preferG711: true },
    golden: 'carrier.to-callee.sdp',
  },
  {
    name: 'our answer to the carrier from a callee that answered PCMU + telephone-event 96',
    what: 'the offer layout (m=image kept at port 0), the offer numbering (101), the callee ptime (20)',
    source: 'callee-answer-te96.sdp',
    options: { ...TO_CALLER, answerTo: 'carrier-offer.sdp' },
    golden: 'carrier.answer.sdp',
  },
  {
    name: 'SRTP offer with an RTP/AVP alternative to the callee',
    what: 'the RTP/SAVP stream refused with port 0 and no crypto; the RTP/AVP one anchored',
    source: 'savp-with-avp-alternative-offer.sdp',
    options: TO_CALLEE,
    golden: 'savp-with-avp-alternative.to-callee.sdp',
  },
];

/** The case's output (undefined when buildLegSdp refuses it). */
export function render(c: GoldenCase): string | undefined {
  const { answerTo, ...rest } = c.options;
  return buildLegSdp(fixture(c.source), { ...rest, ...(answerTo !== undefined ? { answerTo: fixture(answerTo) } : {}) });
}

if (process.argv.includes('--write')) {
  for (const c of GOLDEN_CASES) writeFileSync(new URL(`../../fixtures/sdp/${c.golden}`, import.meta.url), render(c) ?? '');
}
