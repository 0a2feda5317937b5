/**
 * The administrator's settings model (docs/policy.md, docs/requirements.md R-01..R-08, R-20,
 * ..R-42): organisation -> location -> user / virtual line, plus the providers, the terms
 * acceptance, the features (auto attendant, call queue, hunt group), trunks and the voicemail
 * destination the call layer needs to classify calls.
 *
 * Pure data: no I/O, no defaults applied implicitly (see policy-defaults.ts for every default).
 */

/** Built-in provider profiles and `custom` for any other SIPREC recording server. */
export type ProviderProfileName = 'dubber' | 'imagicle' | 'callcabinet' | 'custom';

/** SIP transport towards a recording server (R-42: `tls` for TLS signalling). */
export type SipTransport = 'udp' | 'tcp' | 'tls';

/** Metadata dialect: strict RFC 7865 (default) or the BroadWorks-style extension block. */
export type SiprecDialect = 'rfc7865' | 'broadworks';

/**
 * What to do when the recording server cannot be reached or fails mid-call.
 * Default 'proceedWithoutAnnouncement'.
 */
export type FailurePolicy = 'proceedWithoutAnnouncement' | 'proceedWithAnnouncement' | 'endCallWithAnnouncement';

/** Provider plan. `free` keeps recordings 30 days provider-side; `paid` without limit. */
export type ProviderPlan = 'free' | 'paid';

/** User data shared with a provider when its terms are accepted. */
export type SharedDataField = 'timeZone' | 'firstName' | 'lastName' | 'email' | 'customerName';

/** One recording server (SIPREC SRS), tried in list order (R-40 failover). */
export interface RecordingServer {
  /** `sip:` or `sips:` URI of the recording server. */
  readonly uri: string;
  /** Transport for this server; default the provider's transport. */
  readonly transport?: SipTransport;
}

/** A recording provider configured for one organisation (R-01, R-05, R-06, R-08, R-40..R-42). */
export interface Provider {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly profile: ProviderProfileName;
  /** One or more recording servers in failover order. */
  readonly recordingServers: readonly RecordingServer[];
  /** Default transport; profile default ('tls' for the built-in profiles, 'udp' for custom). */
  readonly transport: SipTransport;
  /** SRTP media towards the recording server. */
  readonly srtp: boolean;
  readonly dialect: SiprecDialect;
  /** enabling users creates the provider account and provisions each user. */
  readonly autoProvisioning: boolean;
  /** Provisioning endpoint base URL for auto-provisioning; default the admin server's option. */
  readonly provisioningUrl: string | null;
  /** Organisation regions this provider may be selected in; null = anywhere. */
  readonly allowedRegions: readonly string[] | null;
  /** the plan; null when the provider has no notion of plans. */
  readonly plan: ProviderPlan | null;
  readonly failurePolicy: FailurePolicy;
  /** What is shared with the provider on terms acceptance. */
  readonly sharedData: readonly SharedDataField[];
}

/** one-time acceptance of a provider's terms on the organisation's behalf. */
export interface TermsAcceptance {
  readonly orgId: string;
  readonly providerId: string;
  readonly acceptedBy: string;
  /** ISO 8601 timestamp. */
  readonly acceptedAt: string;
  readonly sharedData: readonly SharedDataField[];
}

/** R-01 compliance announcement settings (the same fields are a location override, R-02). */
export interface ComplianceSettings {
  /** Default false. Inbound PSTN callers hear it before answer. */
  readonly inboundPstn: boolean;
  /** Default false. Called PSTN party hears it after answer. */
  readonly outboundPstn: boolean;
  /** Default false. Delay the outbound announcement by `delaySeconds` after answer. */
  readonly outboundDelay: boolean;
  /** 1..60, default 5 (more than 60 is rejected, R-01). */
  readonly delaySeconds: number;
}

/** R-01 organisation service settings. */
export interface OrgServiceSettings {
  /** The organisation's provider, or null for `none`. */
  readonly providerId: string | null;
  readonly compliance: ComplianceSettings;
}

/** The voicemail destination: numbers / SIP identities that reach the voicemail system. */
export interface VoicemailDestination {
  readonly numbers: readonly string[];
  readonly sipIdentities: readonly string[];
}

export interface Organisation {
  readonly id: string;
  readonly name: string;
  /** Hosting region (R-06 region restrictions), e.g. 'US', 'EU'. Default 'US'. */
  readonly region: string;
  /** Customer name (shared with some providers, R-05). */
  readonly customerName: string | null;
  /** BCP 47 language for prompts when nothing more specific is set. Default 'en-US'. */
  readonly defaultLanguage: string;
  /** Platform "service provider" identifier. Default the organisation id. */
  readonly serviceProviderId: string;
  readonly serviceSettings: OrgServiceSettings;
  readonly voicemail: VoicemailDestination;
}

/** R-02 location provider choice. */
export type LocationProviderSetting =
  | { readonly mode: 'orgDefault' }
  | { readonly mode: 'provider'; readonly providerId: string }
  | { readonly mode: 'none' };

/** R-02 location compliance choice. */
export type LocationComplianceSetting =
  | { readonly mode: 'orgDefault' }
  | { readonly mode: 'custom'; readonly settings: ComplianceSettings };

/** R-02 location call handling (both start at orgDefault). */
export interface LocationCallHandling {
  readonly provider: LocationProviderSetting;
  readonly compliance: LocationComplianceSetting;
}

export interface Location {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly timeZone: string;
  /** Announcement language for the location; null = organisation default. */
  readonly announcementLanguage: string | null;
  readonly callHandling: LocationCallHandling;
}

/** R-03 licence types: recording requires `professional` or `basic`. */
export type LicenceType = 'professional' | 'basic' | 'none';

/** R-17 recording modes. */
export type RecordingMode = 'never' | 'always' | 'alwaysWithPauseResume' | 'onDemand';

/** R-18 notification when the user pauses or resumes. */
export type PauseResumeNotification = 'none' | 'beep' | 'announcement';

/** R-03 recording settings of a user or virtual line. Defaults in policy-defaults.ts. */
export interface RecordingSettings {
  /** Default false. */
  readonly enabled: boolean;
  /** Default 'never'. */
  readonly mode: RecordingMode;
  /** Default false. */
  readonly recordVoicemail: boolean;
  /** Default both false. */
  readonly startStopAnnouncement: { readonly pstn: boolean; readonly internal: boolean };
  /** Default 'none'. */
  readonly pauseResumeNotification: PauseResumeNotification;
  /** Default off, 20 s; interval 10..90. */
  readonly repeatTone: { readonly enabled: boolean; readonly intervalSeconds: number };
}

/** R-33 read-only platform information (also goes into the recording metadata, R-31). */
export interface PlatformInfo {
  readonly serviceProvider: string;
  readonly externalGroup: string;
  readonly externalIdentifier: string;
  readonly externalType: 'BroadWorks';
}

/** Numbers and identities that reach an entity (used for call classification). */
export interface Addressing {
  /** E.164 numbers ('+15551230001'). */
  readonly numbers: readonly string[];
  /** Internal extension, or null. */
  readonly extension: string | null;
  /** SIP identities ('alice@example.com'; a 'sip:' prefix is accepted and stripped). */
  readonly sipIdentities: readonly string[];
}

export interface User extends Addressing {
  readonly id: string;
  readonly orgId: string;
  readonly locationId: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string | null;
  readonly licence: LicenceType;
  /** IANA time zone; null = the location's. */
  readonly timeZone: string | null;
  /** Language for prompts played because of this user; null = location/org default. */
  readonly announcementLanguage: string | null;
  readonly recording: RecordingSettings;
  readonly platformInfo: PlatformInfo;
}

/** R-20 virtual line: a user-like line without a licence requirement. */
export interface VirtualLine extends Addressing {
  readonly id: string;
  readonly orgId: string;
  readonly locationId: string;
  readonly displayName: string;
  /** The user the line is assigned to (R-20 auto-provisioning), or null. */
  readonly assignedUserId: string | null;
  readonly announcementLanguage: string | null;
  readonly recording: RecordingSettings;
  readonly platformInfo: PlatformInfo;
}

/** R-04 call features with their own announcement language. */
export type FeatureKind = 'auto-attendant' | 'call-queue' | 'hunt-group';

export interface Feature extends Addressing {
  readonly id: string;
  readonly orgId: string;
  readonly kind: FeatureKind;
  readonly locationId: string;
  readonly name: string;
  /** R-04 language; null = location/org default. */
  readonly announcementLanguage: string | null;
}

/** A trunk / PSTN source: calls from these addresses are PSTN calls. */
export interface Trunk {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  /** Source IP addresses (or host names) of the carrier's signalling. */
  readonly sourceAddresses: readonly string[];
}

/** Everything the pure functions need about one organisation. */
export interface PolicySnapshot {
  readonly org: Organisation;
  readonly providers: readonly Provider[];
  readonly termsAcceptances: readonly TermsAcceptance[];
  readonly locations: readonly Location[];
  readonly users: readonly User[];
  readonly virtualLines: readonly VirtualLine[];
  readonly features: readonly Feature[];
  readonly trunks: readonly Trunk[];
}

/** Auto-provisioning subject. */
export type ProvisioningSubjectKind = 'organisation' | 'user' | 'virtual-line' | 'admin';

export type ProvisioningStatus = 'pending' | 'provisioned' | 'failed';

/** The stored outcome of auto-provisioning one subject at one provider. */
export interface ProvisioningRecord {
  readonly orgId: string;
  readonly providerId: string;
  readonly subjectKind: ProvisioningSubjectKind;
  readonly subjectId: string;
  readonly status: ProvisioningStatus;
  /** The provider's id for the subject once provisioned. */
  readonly externalId: string | null;
  readonly attempts: number;
  /** Why the last attempt failed; null when it did not. */
  readonly lastError: string | null;
  /** ISO 8601 of the last attempt. */
  readonly updatedAt: string;
  /** ISO 8601 of the next automatic retry, or null. */
  readonly nextRetryAt: string | null;
}
