import { AppError } from '../common/errors.js';
import type {
  CallDecision,
  CallDecisionInput,
  CallParty,
  ComplianceAnnouncementDecision,
  PartyRecordingDecision,
  RecordReason,
  RecordedPartyInfo,
  RecordingControls,
  StartStopAnnouncementDecision,
} from './call-decision-types.js';
import { findRecordable, resolveEffectiveSettings, resolveLocationSettings, type RecordableKind } from './effective-settings.js';
import type { PolicySnapshot, RecordingMode } from './policy-types.js';

/**
 * The per-call decision (R-10..R-21): given the organisation's settings and the call's facts,
 * whether and where to record, which announcements play to whom, the controls and the tones.
 * Pure: no I/O, no clock.
 *
 *   recorded parties
 *     inbound PSTN : the party that answered (user / virtual line; an agent of a queue or hunt group;
 *                    voicemail on behalf of a user, R-21)
 *     outbound PSTN: the calling user / virtual line
 *     internal     : both, each by its own settings (and voicemail "sent from" the caller, R-21)
 *   compliance announcement: PSTN calls only, from the PSTN-facing party's
 *     effective location settings; inbound before answer in the destination's language,
 *     outbound after answer (+ delay); never twice in a call; never where no provider records.
 *   start/stop announcement: internal calls use the internal flag; PSTN calls the pstn flag,
 *     inbound only, and only when the compliance announcement neither plays nor was played.
 */
export function decideCall(snapshot: PolicySnapshot, input: CallDecisionInput): CallDecision {
  const answered = input.answeredBy ?? input.callee;
  const compliance = decideCompliance(snapshot, input);
  const complianceHeard = compliance.play || input.complianceAlreadyPlayed === true;

  const parties: PartyRecordingDecision[] = [];
  const add = (party: CallParty, side: 'caller' | 'callee', viaVoicemail: boolean): void => {
    if (party.kind !== 'user' && party.kind !== 'virtual-line') return;
    if (parties.some((p) => p.party.kind === party.kind && p.party.id === party.id)) return;
    parties.push(decideParty(snapshot, input, party.kind, party.id, side, viaVoicemail, complianceHeard));
  };
  const addAnswered = (): void => {
    if (answered.kind === 'voicemail') {
      if (answered.onBehalfOf) add({ kind: answered.onBehalfOf.kind, id: answered.onBehalfOf.id }, 'callee', true);
    } else add(answered, 'callee', false);
  };

  if (input.direction === 'outbound-pstn') add(input.caller, 'caller', false);
  else if (input.direction === 'inbound-pstn') addAnswered();
  else {
    // R-21 "messages sent from the user's voicemail": a user calling voicemail is evaluated by recordVoicemail.
    add(input.caller, 'caller', answered.kind === 'voicemail');
    addAnswered();
  }

  return {
    direction: input.direction,
    record: parties.some((p) => p.record),
    parties,
    compliance,
    destination: {
      kind: input.direction === 'outbound-pstn' ? 'pstn' : input.callee.kind,
      language: input.direction === 'outbound-pstn' ? null : partyLanguage(snapshot, input.callee),
    },
  };
}

/** Location id of a party of the organisation, or null (PSTN, voicemail without owner). */
function partyLocation(snapshot: PolicySnapshot, party: CallParty): string | null {
  switch (party.kind) {
    case 'pstn':
      return null;
    case 'user':
    case 'virtual-line':
      return findRecordable(snapshot, party.kind, party.id).locationId;
    case 'voicemail':
      return party.onBehalfOf ? findRecordable(snapshot, party.onBehalfOf.kind, party.onBehalfOf.id).locationId : null;
    default:
      return findFeature(snapshot, party.kind, party.id).locationId;
  }
}

function findFeature(snapshot: PolicySnapshot, kind: string, id: string) {
  const f = snapshot.features.find((x) => x.id === id && x.kind === kind);
  if (!f) throw new AppError('POLICY_NOT_FOUND', `${kind} ${id}`);
  return f;
}

/** the language of prompts played because of this party; null for PSTN. */
function partyLanguage(snapshot: PolicySnapshot, party: CallParty): string | null {
  switch (party.kind) {
    case 'pstn':
      return null;
    case 'user':
    case 'virtual-line':
      return resolveEffectiveSettings(snapshot, party.kind, party.id).language;
    case 'voicemail':
      return party.onBehalfOf ? resolveEffectiveSettings(snapshot, party.onBehalfOf.kind, party.onBehalfOf.id).language : snapshot.org.defaultLanguage;
    default: {
      const f = findFeature(snapshot, party.kind, party.id);
      return f.announcementLanguage ?? resolveLocationSettings(snapshot, f.locationId).language;
    }
  }
}

function decideCompliance(snapshot: PolicySnapshot, input: CallDecisionInput): ComplianceAnnouncementDecision {
  if (input.direction === 'internal') return { play: false, reason: 'internalCall' };
  const inbound = input.direction === 'inbound-pstn';
  // The organisation-side party facing the PSTN: the dialled destination (inbound) or the caller (outbound).
  const facing = inbound ? input.callee : input.caller;
  const locationId = partyLocation(snapshot, facing);
  if (locationId === null) return { play: false, reason: 'noLocation' };
  const eff = resolveLocationSettings(snapshot, locationId);
  const enabled = inbound ? eff.compliance.inboundPstn : eff.compliance.outboundPstn;
  if (!enabled) return { play: false, reason: 'disabled' };
  if (eff.provider === null) return { play: false, reason: 'noProvider' };
  if (input.complianceAlreadyPlayed === true) return { play: false, reason: 'alreadyPlayed' };
  const language = partyLanguage(snapshot, facing) ?? eff.language;
  if (inbound) return { play: true, to: 'pstn', language, phase: 'pre-answer', delaySeconds: 0 };
  return {
    play: true,
    to: 'pstn',
    language,
    phase: 'post-answer',
    delaySeconds: eff.compliance.outboundDelay ? eff.compliance.delaySeconds : 0,
  };
}

const NO_CONTROLS: RecordingControls = { start: false, stop: false, pause: false, resume: false };

/** R-17 controls by mode. */
export function controlsForMode(mode: RecordingMode): RecordingControls {
  switch (mode) {
    case 'alwaysWithPauseResume':
      return { start: false, stop: false, pause: true, resume: true };
    case 'onDemand':
      return { start: true, stop: true, pause: true, resume: true };
    default:
      return NO_CONTROLS;
  }
}

function decideParty(
  snapshot: PolicySnapshot,
  input: CallDecisionInput,
  kind: RecordableKind,
  id: string,
  side: 'caller' | 'callee',
  viaVoicemail: boolean,
  complianceHeard: boolean,
): PartyRecordingDecision {
  const eff = resolveEffectiveSettings(snapshot, kind, id);
  const rec = eff.recording;
  let reason: RecordReason;
  if (!rec.enabled) reason = 'recordingDisabled';
  else if (rec.mode === 'never') reason = 'modeNever';
  else if (eff.provider === null) reason = 'noProvider';
  else if (viaVoicemail) reason = rec.recordVoicemail ? 'voicemail' : 'voicemailNotRecorded';
  else reason = rec.mode;
  const record = reason === 'always' || reason === 'alwaysWithPauseResume' || reason === 'onDemand' || reason === 'voicemail';
  const controls = record && !viaVoicemail ? controlsForMode(rec.mode) : NO_CONTROLS;

  let startStop: StartStopAnnouncementDecision;
  if (!record) startStop = { play: false, reason: 'notRecording' };
  else if (input.direction === 'internal')
    startStop = rec.startStopAnnouncement.internal ? { play: true, to: 'all', language: eff.language } : { play: false, reason: 'settingOff' };
  else if (!rec.startStopAnnouncement.pstn) startStop = { play: false, reason: 'settingOff' };
  else if (input.direction === 'outbound-pstn') startStop = { play: false, reason: 'outboundPstn' };
  else if (complianceHeard) startStop = { play: false, reason: 'compliancePrecedence' };
  else startStop = { play: true, to: 'all', language: eff.language };

  return {
    party: partyInfo(snapshot, kind, id, side),
    record,
    reason,
    start: !record ? null : reason === 'onDemand' ? 'onDemand' : 'onAnswer',
    mode: rec.mode,
    provider: eff.provider,
    startStopAnnouncement: startStop,
    pauseResumeNotification: controls.pause ? rec.pauseResumeNotification : 'none',
    repeatToneIntervalSeconds: record && rec.repeatTone.enabled ? rec.repeatTone.intervalSeconds : null,
    controls,
    recordVoicemail: rec.recordVoicemail,
    language: eff.language,
  };
}

function partyInfo(snapshot: PolicySnapshot, kind: RecordableKind, id: string, side: 'caller' | 'callee'): RecordedPartyInfo {
  const s = findRecordable(snapshot, kind, id);
  const displayName = 'displayName' in s ? s.displayName : `${s.firstName} ${s.lastName}`.trim();
  return {
    kind,
    id,
    orgId: s.orgId,
    locationId: s.locationId,
    displayName,
    numbers: s.numbers,
    extension: s.extension,
    sipIdentities: s.sipIdentities,
    platformInfo: s.platformInfo,
    side,
  };
}
