/**
 * JSON schemas of the admin API bodies and paths (validated by Fastify's Ajv; unknown properties
 * are rejected). Ranges that are product rules (delay 1..60, tone 10..90) are NOT encoded here: the
 * policy rules raise their own coded errors (POLICY_DELAY_OUT_OF_RANGE, ...), documented once.
 */

const str = { type: 'string', minLength: 1, maxLength: 256 } as const;
const nullableStr = { type: ['string', 'null'], maxLength: 256 } as const;
const strList = { type: 'array', items: str, maxItems: 100 } as const;
export const idSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } as const;

export const complianceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    inboundPstn: { type: 'boolean', description: 'R-11, default false' },
    outboundPstn: { type: 'boolean', description: 'R-12, default false' },
    outboundDelay: { type: 'boolean', description: 'R-12, default false' },
    delaySeconds: { type: 'integer', description: 'R-12, 1..60, default 5 (POLICY_DELAY_OUT_OF_RANGE otherwise)' },
  },
} as const;

export const recordingSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'R-03 recording settings; omitted fields keep their value; enabled=false clears all of them',
  properties: {
    enabled: { type: 'boolean' },
    mode: { enum: ['never', 'always', 'alwaysWithPauseResume', 'onDemand'] },
    recordVoicemail: { type: 'boolean' },
    startStopAnnouncement: { type: 'object', additionalProperties: false, properties: { pstn: { type: 'boolean' }, internal: { type: 'boolean' } } },
    pauseResumeNotification: { enum: ['none', 'beep', 'announcement'] },
    repeatTone: {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' }, intervalSeconds: { type: 'integer', description: '10..90, default 20' } },
    },
  },
} as const;

const addressing = {
  numbers: { ...strList, description: 'E.164 numbers' },
  extension: nullableStr,
  sipIdentities: { ...strList, description: "SIP identities ('user@host')" },
} as const;

export const organisationCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    id: idSchema,
    name: str,
    region: { ...str, description: "default 'US' (R-06 region restrictions)" },
    customerName: nullableStr,
    defaultLanguage: { ...str, description: "BCP 47, default 'en-US'" },
    serviceProviderId: { ...str, description: 'R-33 platform service provider, default the organisation id' },
  },
} as const;

export const organisationPatchSchema = { ...organisationCreateSchema, required: [], properties: { ...organisationCreateSchema.properties, id: undefined } } as const;

export const serviceSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    providerId: { type: ['string', 'null'], description: 'null = none (R-07: needs confirmRemoveForAllUsers)' },
    compliance: complianceSchema,
    confirmRemoveForAllUsers: { type: 'boolean', description: 'R-07 "this removes the feature for all users"' },
  },
} as const;

export const voicemailSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { numbers: strList, sipIdentities: strList },
} as const;

const recordingServer = {
  type: 'object',
  additionalProperties: false,
  required: ['uri'],
  properties: { uri: str, transport: { enum: ['udp', 'tcp', 'tls'] } },
} as const;

export const providerCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['recordingServers'],
  properties: {
    id: idSchema,
    name: str,
    profile: { enum: ['dubber', 'imagicle', 'callcabinet', 'custom'], description: "default 'custom'; the profile gives the defaults" },
    recordingServers: { type: 'array', items: recordingServer, maxItems: 16, description: 'R-40 failover order' },
    transport: { enum: ['udp', 'tcp', 'tls'] },
    srtp: { type: 'boolean', description: 'R-42' },
    dialect: { enum: ['rfc7865', 'broadworks'], description: 'R-41' },
    autoProvisioning: { type: 'boolean', description: 'R-06' },
    provisioningUrl: { type: ['string', 'null'], maxLength: 1024 },
    allowedRegions: { anyOf: [strList, { type: 'null' }], description: 'R-06; null = anywhere' },
    plan: { enum: ['free', 'paid', null], description: 'R-08' },
    failurePolicy: { enum: ['proceedWithoutAnnouncement', 'proceedWithAnnouncement', 'endCallWithAnnouncement'], description: 'R-40' },
    sharedData: { type: 'array', items: { enum: ['timeZone', 'firstName', 'lastName', 'email', 'customerName'] } },
  },
} as const;

export const providerPatchSchema = { ...providerCreateSchema, required: [], properties: { ...providerCreateSchema.properties, id: undefined, profile: undefined } } as const;

export const termsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['acceptedBy'],
  properties: { acceptedBy: { ...str, description: 'who accepts on the organisation’s behalf (R-05)' } },
} as const;

export const locationCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { id: idSchema, name: str, timeZone: str, announcementLanguage: nullableStr },
} as const;

export const locationPatchSchema = { ...locationCreateSchema, required: [], properties: { ...locationCreateSchema.properties, id: undefined } } as const;

export const callHandlingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    provider: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: { mode: { enum: ['orgDefault', 'provider', 'none'] }, providerId: { type: ['string', 'null'] } },
    },
    compliance: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: { mode: { enum: ['orgDefault', 'custom'] }, settings: { anyOf: [complianceSchema, { type: 'null' }] } },
    },
  },
} as const;

export const userCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['locationId', 'firstName', 'lastName'],
  properties: {
    id: idSchema,
    locationId: str,
    firstName: str,
    lastName: str,
    email: nullableStr,
    licence: { enum: ['professional', 'basic', 'none'], description: "default 'none' (R-03)" },
    ...addressing,
    timeZone: nullableStr,
    announcementLanguage: nullableStr,
    recording: recordingSchema,
  },
} as const;

export const userPatchSchema = { ...userCreateSchema, required: [], properties: { ...userCreateSchema.properties, id: undefined } } as const;

export const callExperienceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { announcementLanguage: nullableStr, recording: recordingSchema },
} as const;

export const virtualLineCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['locationId', 'displayName'],
  properties: {
    id: idSchema,
    locationId: str,
    displayName: str,
    assignedUserId: { type: ['string', 'null'] },
    ...addressing,
    announcementLanguage: nullableStr,
    recording: recordingSchema,
  },
} as const;

export const virtualLinePatchSchema = { ...virtualLineCreateSchema, required: [], properties: { ...virtualLineCreateSchema.properties, id: undefined } } as const;

export const featureCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['locationId', 'name'],
  properties: { id: idSchema, locationId: str, name: str, ...addressing, announcementLanguage: nullableStr },
} as const;

export const featurePatchSchema = { ...featureCreateSchema, required: [], properties: { ...featureCreateSchema.properties, id: undefined } } as const;

export const trunkCreateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sourceAddresses'],
  properties: { id: idSchema, name: str, sourceAddresses: strList },
} as const;

export const trunkPatchSchema = { ...trunkCreateSchema, required: [], properties: { ...trunkCreateSchema.properties, id: undefined } } as const;

const party = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { enum: ['pstn', 'user', 'virtual-line', 'auto-attendant', 'call-queue', 'hunt-group', 'voicemail'] },
    id: str,
    number: str,
    onBehalfOf: { anyOf: [{ type: 'null' }, { type: 'object', required: ['kind', 'id'], properties: { kind: { enum: ['user', 'virtual-line'] }, id: str } }] },
  },
} as const;

export const callDecisionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['direction', 'caller', 'callee'],
  properties: {
    direction: { enum: ['inbound-pstn', 'outbound-pstn', 'internal'] },
    caller: party,
    callee: party,
    answeredBy: party,
    complianceAlreadyPlayed: { type: 'boolean' },
  },
} as const;

export const classifySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sourceAddress', 'from', 'to'],
  properties: { sourceAddress: str, from: str, to: str, divertedFrom: str },
} as const;

/** Remove keys set to undefined (the *PatchSchema spreads drop `id`) so Ajv sees plain JSON. */
export function clean<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema)) as T;
}

export const errorResponseSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
} as const;
