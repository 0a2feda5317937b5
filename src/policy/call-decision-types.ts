import type { ResolvedProvider } from './effective-settings.js';
import type { FeatureKind, PauseResumeNotification, PlatformInfo, RecordingMode } from './policy-types.js';

/**
 * Input and output of the per-call decision (src/policy/call-decision.ts), consumed by the call
 * layer. The decision is pure: same snapshot + same input -> same decision.
 */

/** R-10 classification of a call. */
export type CallDirection = 'inbound-pstn' | 'outbound-pstn' | 'internal';

/** A party of the call as the call layer identified it (see policy-directory.ts). */
export type CallParty =
  | { readonly kind: 'pstn'; readonly number: string }
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'virtual-line'; readonly id: string }
  | { readonly kind: FeatureKind; readonly id: string }
  /** the voicemail system, answering on behalf of a user / virtual line when known. */
  | { readonly kind: 'voicemail'; readonly onBehalfOf: { readonly kind: 'user' | 'virtual-line'; readonly id: string } | null };

export type DestinationKind = Exclude<CallParty['kind'], 'pstn'> | 'pstn';

export interface CallDecisionInput {
  readonly direction: CallDirection;
  /** Who placed the call: `pstn` for inbound PSTN, a user / virtual line otherwise. */
  readonly caller: CallParty;
  /** What was dialled: a user, virtual line, feature, voicemail, or `pstn` for outbound PSTN. */
  readonly callee: CallParty;
  /**
   * Who actually answered when it differs from the callee: the agent of a call queue / hunt group,
   * a forwarded-to user, or voicemail answering on behalf of the callee. Omitted = callee.
   */
  readonly answeredBy?: CallParty;
  /**
   * true when the compliance announcement was already played earlier in this call (the call
   * layer re-evaluates after a transfer / REFER / Replaces); it is then never played again.
   * Default false.
   */
  readonly complianceAlreadyPlayed?: boolean;
}

/** The user or virtual line whose settings record, with what the metadata needs. */
export interface RecordedPartyInfo {
  readonly kind: 'user' | 'virtual-line';
  readonly id: string;
  readonly orgId: string;
  readonly locationId: string;
  readonly displayName: string;
  readonly numbers: readonly string[];
  readonly extension: string | null;
  readonly sipIdentities: readonly string[];
  readonly platformInfo: PlatformInfo;
  /** Which side of the call the party is on. */
  readonly side: 'caller' | 'callee';
}

/** Why a party is or is not recorded. */
export type RecordReason =
  | 'always' // R-17 always: from answer to hang-up
  | 'alwaysWithPauseResume'
  | 'onDemand' // set up, started by the user
  | 'voicemail' // R-21 recordVoicemail on
  | 'recordingDisabled' // R-03 enabled = false
  | 'modeNever' // R-17 never
  | 'noProvider' // effective provider none (organisation or location)
  | 'voicemailNotRecorded'; // R-21 recordVoicemail off

/** when recording starts. */
export type RecordingStart = 'onAnswer' | 'onDemand';

/** R-17 controls the recorded party may use (DTMF feature codes, SIP INFO/REST, admin API). */
export interface RecordingControls {
  readonly start: boolean;
  readonly stop: boolean;
  readonly pause: boolean;
  readonly resume: boolean;
}

/** R-16 start/stop announcement decision for one recorded party. */
export type StartStopAnnouncementDecision =
  | { readonly play: true; readonly to: 'all'; readonly language: string }
  | {
      readonly play: false;
      readonly reason:
        | 'notRecording' // the party does not record
        | 'settingOff' // the user's pstn/internal flag is off
        | 'compliancePrecedence' // R-16 the compliance announcement is (or was) played on this PSTN call
        | 'outboundPstn'; // R-16 user-level start/stop applies to inbound PSTN calls only
    };

/** The decision for one recorded party (an internal call can have two, R-10). */
export interface PartyRecordingDecision {
  readonly party: RecordedPartyInfo;
  readonly record: boolean;
  readonly reason: RecordReason;
  /** Set when record is true. */
  readonly start: RecordingStart | null;
  readonly mode: RecordingMode;
  /** The effective provider; null when none. */
  readonly provider: ResolvedProvider | null;
  readonly startStopAnnouncement: StartStopAnnouncementDecision;
  /** R-18 kind played to all when pausing/resuming; 'none' when pausing is not allowed or not recording. */
  readonly pauseResumeNotification: PauseResumeNotification;
  /** R-19 repeat tone interval in seconds, or null for no tone. */
  readonly repeatToneIntervalSeconds: number | null;
  readonly controls: RecordingControls;
  /** R-21 the party's recordVoicemail setting. */
  readonly recordVoicemail: boolean;
  /** Language of prompts played because of this party. */
  readonly language: string;
}

/** compliance announcement decision for the call. */
export type ComplianceAnnouncementDecision =
  | {
      readonly play: true;
      readonly to: 'pstn';
      readonly language: string;
      /** R-11 inbound: before answer (early media); R-12 outbound: after answer. */
      readonly phase: 'pre-answer' | 'post-answer';
      /** R-12 delay after answer; 0 when none (always 0 pre-answer). */
      readonly delaySeconds: number;
    }
  | {
      readonly play: false;
      readonly reason:
        | 'internalCall' // only PSTN calls get it
        | 'disabled' // off for this direction at the effective location/org
        | 'noProvider' // no recording possible at the effective location
        | 'alreadyPlayed' // R-13 once per call
        | 'noLocation'; // the PSTN-facing party has no location (e.g. unknown)
    };

export interface CallDecision {
  readonly direction: CallDirection;
  /** True when at least one party records (or may record on demand). */
  readonly record: boolean;
  /** One entry per user / virtual line of the call, recorded or not, callee side first for inbound. */
  readonly parties: readonly PartyRecordingDecision[];
  readonly compliance: ComplianceAnnouncementDecision;
  /** Destination kind and language of the call. */
  readonly destination: { readonly kind: DestinationKind; readonly language: string | null };
}
