/** The admin API's shapes the console reads (docs/admin-api.md). */
export interface Compliance {
  inboundPstn: boolean;
  outboundPstn: boolean;
  outboundDelay: boolean;
  delaySeconds: number;
}
export interface Provider {
  id: string;
  name: string;
  profile: string;
  recordingServers: { uri: string; transport?: string }[];
  transport: string;
  srtp: boolean;
  dialect: string;
  autoProvisioning: boolean;
  provisioningUrl: string | null;
  allowedRegions: string[] | null;
  plan: string | null;
  failurePolicy: string;
  sharedData: string[];
}
export interface Organisation {
  id: string;
  name: string;
  region: string;
  defaultLanguage: string;
}
export interface Location {
  id: string;
  name: string;
  timeZone: string;
  announcementLanguage: string | null;
  callHandling: {
    provider: { mode: 'orgDefault' | 'provider' | 'none'; providerId?: string };
    compliance: { mode: 'orgDefault' | 'custom'; settings?: Compliance };
  };
}
export interface RecordingSettings {
  enabled: boolean;
  mode: 'never' | 'always' | 'alwaysWithPauseResume' | 'onDemand';
  recordVoicemail: boolean;
  startStopAnnouncement: { pstn: boolean; internal: boolean };
  pauseResumeNotification: 'none' | 'beep' | 'announcement';
  repeatTone: { enabled: boolean; intervalSeconds: number };
}
export interface PlatformInfo {
  serviceProvider: string;
  externalGroup: string;
  externalIdentifier: string;
  externalType: string;
}
export interface Person {
  id: string;
  locationId: string;
  firstName?: string;
  lastName?: string;
  displayName?: string;
  licence?: string;
  numbers: string[];
  extension: string | null;
  announcementLanguage: string | null;
  recording: RecordingSettings;
  platformInfo: PlatformInfo;
}
export interface Feature {
  id: string;
  locationId: string;
  name: string;
  numbers: string[];
  extension: string | null;
  announcementLanguage: string | null;
}
export interface Trunk {
  id: string;
  name: string;
  sourceAddresses: string[];
}
export interface RecordingLink {
  /** Whom the recording is for (the recorded user or virtual line) and its recording mode. */
  party?: { kind: string; id: string } | null;
  mode?: string | null;
  state: string;
  siprecSessionId?: string;
  srsRecordingId?: string | null;
  [key: string]: unknown;
}
export interface LiveCall {
  id: string;
  callId: string;
  state: string;
  direction: string;
  from: string;
  to: string;
  startedAt: string;
  answeredAt: string | null;
  recording: { state: string; [key: string]: unknown };
  recordings: RecordingLink[];
  announcements: { kind: string; result: string; target: string }[];
}
export interface RecordingListItem {
  recordingId: string;
  callId: string;
  orgId: string;
  direction: string;
  startedAt: string;
  stoppedAt: string;
  durationMs: number;
  endReason: string;
  participants: { aor: string; name?: string }[];
  /** The sender of stream label 2: whom this recording is for (a call with two recorded users has one recording each). */
  recordedParty?: { aor?: string; name?: string };
  mode?: string;
  sipSessionIds?: string[];
  wavDurationMs: number;
}
