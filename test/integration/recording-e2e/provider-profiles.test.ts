/**
 * End to end, R-41/R-42 and the provider profiles of R-01: a call recorded for each out-of-the-box
 * profile (dubber, imagicle, callcabinet) reaches the reference recording server as the session
 * that profile's dialect expects: SRTP media (RTP/SAVP + SDES) for all three, the BroadWorks-style
 * block for dubber, strict RFC 7865 for the others. The profiles' TLS signalling is replaced by UDP
 * here (per recording server `transport`), since the reference server listens on UDP.
 */
import { describe, expect, it } from 'vitest';
import { PROVIDER_PROFILES } from '../../../src/policy/policy-defaults.js';
import type { ProviderProfileName } from '../../../src/policy/policy-types.js';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import {
  ALICE_NUMBER,
  CALLER_NUMBER,
  OTHER_HZ,
  USER_HZ,
  fullWindows,
  metadataHistory,
  readStereoWav,
  useRecordingE2e,
  wavFile,
  windows,
  type E2ePolicy,
  type SrsInstance,
} from './e2e-harness.js';
import { until } from '../../support/wait.js';

/** Alice's calls recorded on `srs` with the out-of-the-box settings of `profile`. */
function profilePolicy(profile: ProviderProfileName, srs: SrsInstance): E2ePolicy {
  const p = PROVIDER_PROFILES[profile];
  return {
    provider: {
      name: profile,
      profile,
      transport: p.transport,
      srtp: p.srtp,
      dialect: p.dialect,
      autoProvisioning: p.autoProvisioning,
      plan: p.plan,
      failurePolicy: p.failurePolicy,
      sharedData: p.sharedData,
      recordingServers: [{ uri: srs.uri, transport: 'udp' }],
    },
    policy: { alice: { enabled: true, mode: 'always' } },
  };
}

const e2e = useRecordingE2e({
  block: 4,
  tmpPrefix: 'e2e-profiles-',
  policy: ({ srs }) => profilePolicy('custom', srs),
});

async function recordOneCall(profile: ProviderProfileName) {
  const { srs } = e2e.servers;
  e2e.configure(profilePolicy(profile, srs));
  const before = srs.summaries.length;
  const run = await e2e.placeCall({ direction: 'inbound', talkMs: 3000 });
  try {
    await run.partiesOk();
    await until(() => srs.summaries.length === before + 1, 'the recording to end', 5000);
  } finally {
    run.close();
  }
  const summary = srs.summaries[before]!;
  const answer = srs.answers[before]!;
  // both streams offered and answered as SRTP with SDES keys
  const mLines = answer.split(/\r?\n/).filter((l) => l.startsWith('m=audio'));
  expect(mLines).toHaveLength(2);
  for (const m of mLines) expect(m).toMatch(/ RTP\/SAVP /);
  expect(answer.match(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:/gm)).toHaveLength(2);
  // the SRTP media decrypted to the two parties' tones (R-30)
  const wav = readStereoWav(wavFile(srs, summary));
  // the WAV spans the session plus what the fork kept from the answer (media.forkBufferMs, 3000 ms)
  expect(wav.durationMs).toBeGreaterThanOrEqual(summary.durationMs - 100);
  expect(wav.durationMs).toBeLessThanOrEqual(summary.durationMs + 3000 + 100);
  const ch1 = fullWindows(windows(wav.ch1, OTHER_HZ));
  const ch2 = fullWindows(windows(wav.ch2, USER_HZ));
  expect(ch1.length).toBeGreaterThan(8);
  expect(ch2.length).toBeGreaterThan(8);
  for (const w of [...ch1, ...ch2]) expect(w.share).toBeGreaterThan(0.97);
  const history = metadataHistory(srs, summary);
  expect(history.length).toBeGreaterThanOrEqual(2);
  // the user's platform information travels with every profile
  const alice = history[0]!.model.participants.find((p) => p.nameIds.some((n) => n.aor === 'sip:alice@acme.example'));
  expect(alice?.platform).toMatchObject({ serviceProvider: 'acme-sp', externalGroup: 'hq-group', externalIdentifier: 'ext-alice', externalType: 'BroadWorks' });
  return history;
}

describe('provider profiles end to end (R-41, R-42)', () => {
  it('dubber: SRTP and the BroadWorks-style block (service provider, group, user, call type, numbers)', async () => {
    const history = await recordOneCall('dubber');
    for (const doc of history) {
      expect(validateMetadata(doc.xml, { dialect: 'broadworks' })).toEqual([]);
      expect(doc.xml).toContain('http://schema.broadsoft.com/broadworksCallRecording');
    }
    // the block is not strict RFC 7865: the strict validator refuses it
    expect(validateMetadata(history[0]!.xml).length).toBeGreaterThan(0);
    expect(history.at(-1)!.model.broadWorks).toMatchObject({
      serviceProviderId: 'acme-sp',
      groupId: 'hq-group',
      userId: 'ext-alice',
      callType: 'termCall',
      callingPartyNumber: CALLER_NUMBER,
      calledPartyNumber: ALICE_NUMBER,
      recordingType: 'always',
    });
  }, 20_000);

  for (const profile of ['imagicle', 'callcabinet'] as const) {
    it(`${profile}: SRTP and strict RFC 7865 metadata without the BroadWorks block`, async () => {
      const history = await recordOneCall(profile);
      for (const doc of history) {
        expect(validateMetadata(doc.xml)).toEqual([]);
        expect(doc.xml).not.toContain('broadworksCallRecording');
        expect(doc.model.broadWorks).toBeUndefined();
      }
    }, 20_000);
  }
});
