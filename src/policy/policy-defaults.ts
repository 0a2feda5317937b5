import type {
  ComplianceSettings,
  FailurePolicy,
  LocationCallHandling,
  ProviderPlan,
  ProviderProfileName,
  RecordingSettings,
  SharedDataField,
  SipTransport,
  SiprecDialect,
} from './policy-types.js';

/** Every default of the settings model in one place (docs/policy.md repeats them). */

/** all off; delay 5 s when someone turns the delay on without choosing a value. */
export const DEFAULT_COMPLIANCE: ComplianceSettings = Object.freeze({
  inboundPstn: false,
  outboundPstn: false,
  outboundDelay: false,
  delaySeconds: 5,
});

/** R-03 defaults; also what turning recording off resets a user / virtual line to. */
export const DEFAULT_RECORDING: RecordingSettings = Object.freeze({
  enabled: false,
  mode: 'never',
  recordVoicemail: false,
  startStopAnnouncement: Object.freeze({ pstn: false, internal: false }),
  pauseResumeNotification: 'none',
  repeatTone: Object.freeze({ enabled: false, intervalSeconds: 20 }),
});

/** a new location inherits both settings. */
export const DEFAULT_LOCATION_CALL_HANDLING: LocationCallHandling = Object.freeze({
  provider: Object.freeze({ mode: 'orgDefault' as const }),
  compliance: Object.freeze({ mode: 'orgDefault' as const }),
});

export const DEFAULT_LANGUAGE = 'en-US';
export const DEFAULT_REGION = 'US';
export const DEFAULT_FAILURE_POLICY: FailurePolicy = 'proceedWithoutAnnouncement';

/** Ranges enforced by settings-rules.ts. */
export const DELAY_SECONDS_RANGE = Object.freeze({ min: 1, max: 60 });
export const REPEAT_TONE_RANGE = Object.freeze({ min: 10, max: 90 });

/** provider-side retention of the free plan. */
export const FREE_PLAN_RETENTION_DAYS = 30;

/** Profile defaults a new provider starts from; any field can be overridden when it is created. */
export interface ProviderProfile {
  readonly name: ProviderProfileName;
  readonly displayName: string;
  readonly transport: SipTransport;
  readonly srtp: boolean;
  readonly dialect: SiprecDialect;
  readonly autoProvisioning: boolean;
  readonly allowedRegions: readonly string[] | null;
  readonly plan: ProviderPlan | null;
  readonly failurePolicy: FailurePolicy;
  readonly sharedData: readonly SharedDataField[];
}

const USER_DATA: readonly SharedDataField[] = ['timeZone', 'firstName', 'lastName', 'email'];

/**
 * The out-of-the-box profiles:
 * - dubber: auto-provisioning, free plan by default, BroadWorks-style metadata;
 * - imagicle: manual provisioning, also receives the customer name;
 * - callcabinet: US-hosted organisations only, also receives the customer name;
 * - custom: any SIPREC recording server, strict RFC 7865, UDP, nothing shared beyond user data.
 */
export const PROVIDER_PROFILES: Readonly<Record<ProviderProfileName, ProviderProfile>> = Object.freeze({
  dubber: {
    name: 'dubber',
    displayName: 'Dubber',
    transport: 'tls',
    srtp: true,
    dialect: 'broadworks',
    autoProvisioning: true,
    allowedRegions: null,
    plan: 'free',
    failurePolicy: DEFAULT_FAILURE_POLICY,
    sharedData: USER_DATA,
  },
  imagicle: {
    name: 'imagicle',
    displayName: 'Imagicle',
    transport: 'tls',
    srtp: true,
    dialect: 'rfc7865',
    autoProvisioning: false,
    allowedRegions: null,
    plan: null,
    failurePolicy: DEFAULT_FAILURE_POLICY,
    sharedData: [...USER_DATA, 'customerName'],
  },
  callcabinet: {
    name: 'callcabinet',
    displayName: 'CallCabinet',
    transport: 'tls',
    srtp: true,
    dialect: 'rfc7865',
    autoProvisioning: false,
    allowedRegions: ['US'],
    plan: null,
    failurePolicy: DEFAULT_FAILURE_POLICY,
    sharedData: [...USER_DATA, 'customerName'],
  },
  custom: {
    name: 'custom',
    displayName: 'Custom SIPREC recording server',
    transport: 'udp',
    srtp: false,
    dialect: 'rfc7865',
    autoProvisioning: false,
    allowedRegions: null,
    plan: null,
    failurePolicy: DEFAULT_FAILURE_POLICY,
    sharedData: USER_DATA,
  },
});

/** provider-side retention in days for a plan; null = without limit or unknown. */
export function retentionDays(plan: ProviderPlan | null): number | null {
  return plan === 'free' ? FREE_PLAN_RETENTION_DAYS : null;
}
