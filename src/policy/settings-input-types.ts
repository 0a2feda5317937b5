import type {
  ComplianceSettings,
  FailurePolicy,
  FeatureKind,
  LicenceType,
  PauseResumeNotification,
  PlatformInfo,
  ProviderPlan,
  ProviderProfileName,
  RecordingMode,
  RecordingServer,
  SharedDataField,
  SipTransport,
  SiprecDialect,
} from './policy-types.js';

/**
 * What an administrator (admin API body, provisioning file entry) may send. Omitted fields take the
 * defaults of policy-defaults.ts on create and keep their current value on update.
 */

export interface OrganisationInput {
  readonly id?: string;
  readonly name: string;
  readonly region?: string;
  readonly customerName?: string | null;
  readonly defaultLanguage?: string;
  readonly serviceProviderId?: string;
}

export interface ServiceSettingsInput {
  /** null = provider `none` (R-07 needs confirmRemoveForAllUsers). */
  readonly providerId?: string | null;
  readonly compliance?: Partial<ComplianceSettings>;
  readonly confirmRemoveForAllUsers?: boolean;
}

export interface ProviderInput {
  readonly id?: string;
  readonly name?: string;
  /** Default 'custom'. */
  readonly profile?: ProviderProfileName;
  readonly recordingServers: readonly RecordingServer[];
  readonly transport?: SipTransport;
  readonly srtp?: boolean;
  readonly dialect?: SiprecDialect;
  readonly autoProvisioning?: boolean;
  readonly provisioningUrl?: string | null;
  readonly allowedRegions?: readonly string[] | null;
  readonly plan?: ProviderPlan | null;
  readonly failurePolicy?: FailurePolicy;
  readonly sharedData?: readonly SharedDataField[];
}

export interface LocationInput {
  readonly id?: string;
  readonly name: string;
  /** Default 'UTC'. */
  readonly timeZone?: string;
  readonly announcementLanguage?: string | null;
}

/** R-02 location call handling as the screen sends it. */
export interface CallHandlingInput {
  readonly provider?: { readonly mode: 'orgDefault' | 'provider' | 'none'; readonly providerId?: string | null };
  readonly compliance?: { readonly mode: 'orgDefault' | 'custom'; readonly settings?: Partial<ComplianceSettings> | null };
}

/** R-03 recording settings as sent: nested objects may be partial. */
export interface RecordingInput {
  readonly enabled?: boolean;
  readonly mode?: RecordingMode;
  readonly recordVoicemail?: boolean;
  readonly startStopAnnouncement?: { readonly pstn?: boolean; readonly internal?: boolean };
  readonly pauseResumeNotification?: PauseResumeNotification;
  readonly repeatTone?: { readonly enabled?: boolean; readonly intervalSeconds?: number };
}

export interface AddressingInput {
  readonly numbers?: readonly string[];
  readonly extension?: string | null;
  readonly sipIdentities?: readonly string[];
}

export interface UserInput extends AddressingInput {
  readonly id?: string;
  readonly locationId: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email?: string | null;
  /** Default 'none'. */
  readonly licence?: LicenceType;
  readonly timeZone?: string | null;
  readonly announcementLanguage?: string | null;
  readonly recording?: RecordingInput;
  /** Provisioning file only (the admin API treats platform information as read-only, R-33). */
  readonly platformInfo?: Partial<PlatformInfo>;
}

export interface VirtualLineInput extends AddressingInput {
  readonly id?: string;
  readonly locationId: string;
  readonly displayName: string;
  readonly assignedUserId?: string | null;
  readonly announcementLanguage?: string | null;
  readonly recording?: RecordingInput;
  readonly platformInfo?: Partial<PlatformInfo>;
}

export interface FeatureInput extends AddressingInput {
  readonly id?: string;
  readonly kind: FeatureKind;
  readonly locationId: string;
  readonly name: string;
  readonly announcementLanguage?: string | null;
}

export interface TrunkInput {
  readonly id?: string;
  readonly name: string;
  readonly sourceAddresses: readonly string[];
}

/** R-03 user call experience screen. */
export interface CallExperienceInput {
  readonly announcementLanguage?: string | null;
  readonly recording?: RecordingInput;
}

export type Updates<T> = Partial<Omit<T, 'id' | 'kind'>>;
