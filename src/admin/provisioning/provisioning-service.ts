import type { Clock, TimerHandle, Timers } from '../../common/clock.js';
import { systemClock, systemTimers } from '../../common/clock.js';
import { AppError, isAppError } from '../../common/errors.js';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';
import { findRecordable, resolveEffectiveSettings } from '../../policy/effective-settings.js';
import type { PolicyRepository } from '../../policy/policy-repository.js';
import type { PolicySnapshot, Provider, ProvisioningRecord, ProvisioningSubjectKind, User, VirtualLine } from '../../policy/policy-types.js';
import { createHttpProvisioningClient, type ProvisioningClient, type UserRequest } from './provisioning-client.js';

/**
 * R-06 auto-provisioning. For a provider marked auto-provisioning, turning recording on for a user
 * (or virtual line, R-20) makes sure that:
 *   1. the organisation's provider account exists (created with the first user),
 *   2. the user is provisioned (for a virtual line: the line and its assigned user),
 *   3. the administrator who enabled it is provisioned as provider admin (when known).
 * Each outcome is stored as a ProvisioningRecord (status, attempts, lastError, nextRetryAt).
 * A request is tried `attempts` times with exponential back-off; if it still fails the record says
 * why, a warning is logged, and a background retry is scheduled (retryDelayMs, doubling, at most
 * maxBackgroundRetries times). Failures are never swallowed: they are stored, logged and returned.
 */
export interface ProvisioningServiceOptions {
  readonly repository: PolicyRepository;
  /** Default: the HTTP client (global fetch). */
  readonly client?: ProvisioningClient;
  /** Base URL used when a provider has no provisioningUrl of its own; default none (such providers fail with a reason). */
  readonly defaultBaseUrl?: string | null;
  /** Tries per request; default 3. */
  readonly attempts?: number;
  /** First back-off between tries, doubling; default 200 ms. */
  readonly backoffMs?: number;
  /** First background retry delay after a failed operation, doubling; default 60 000 ms. */
  readonly retryDelayMs?: number;
  /** Background retries per organisation before giving up (an admin can still POST .../provisioning/retry); default 5. */
  readonly maxBackgroundRetries?: number;
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly logger?: Logger;
}

export interface ProvisioningSubject {
  readonly kind: 'user' | 'virtual-line';
  readonly id: string;
}

export class ProvisioningService {
  readonly #repo: PolicyRepository;
  readonly #client: ProvisioningClient;
  readonly #defaultBaseUrl: string | null;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #retryDelayMs: number;
  readonly #maxBackground: number;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #log: Logger;
  readonly #scheduled = new Map<string, { handle: TimerHandle; count: number }>();
  readonly #backgroundCount = new Map<string, number>();
  #closed = false;

  constructor(options: ProvisioningServiceOptions) {
    this.#repo = options.repository;
    this.#client = options.client ?? createHttpProvisioningClient();
    this.#defaultBaseUrl = options.defaultBaseUrl ?? null;
    this.#attempts = Math.max(1, options.attempts ?? 3);
    this.#backoffMs = options.backoffMs ?? 200;
    this.#retryDelayMs = options.retryDelayMs ?? 60_000;
    this.#maxBackground = options.maxBackgroundRetries ?? 5;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#log = options.logger ?? silentLogger;
  }

  /**
   * Recording was turned on for a subject. Returns the records written (organisation account,
   * subject, assigned user, admin), or null when the subject's provider does not auto-provision.
   */
  async recordingEnabled(orgId: string, subject: ProvisioningSubject, actor?: string): Promise<ProvisioningRecord[] | null> {
    if (this.#closed) throw new AppError('CLOSED', 'provisioning service');
    const snap = await this.#repo.loadSnapshot(orgId);
    if (!snap) throw new AppError('POLICY_NOT_FOUND', `organisation ${orgId}`);
    const provider = this.#providerOf(snap, subject);
    if (!provider?.autoProvisioning) return null;
    const records = await this.#provision(snap, provider, subject, actor);
    if (records.some((r) => r.status === 'failed')) this.#scheduleRetry(orgId);
    return records;
  }

  /** Retry every failed record of the organisation now. Returns the records after the retry. */
  async retryFailed(orgId: string): Promise<ProvisioningRecord[]> {
    if (this.#closed) throw new AppError('CLOSED', 'provisioning service');
    const snap = await this.#repo.loadSnapshot(orgId);
    if (!snap) throw new AppError('POLICY_NOT_FOUND', `organisation ${orgId}`);
    const failed = (await this.#repo.listProvisioningRecords(orgId)).filter((r) => r.status !== 'provisioned');
    const out: ProvisioningRecord[] = [];
    for (const r of failed) {
      const provider = snap.providers.find((p) => p.id === r.providerId);
      if (!provider) continue;
      if (r.subjectKind === 'organisation') out.push(await this.#ensureAccount(snap, provider));
      else if (r.subjectKind === 'admin') out.push(...(await this.#provision(snap, provider, null, r.subjectId)));
      else if (snap.users.some((u) => u.id === r.subjectId) || snap.virtualLines.some((v) => v.id === r.subjectId)) {
        out.push(...(await this.#provision(snap, provider, { kind: r.subjectKind === 'user' ? 'user' : 'virtual-line', id: r.subjectId })));
      }
    }
    if (out.some((r) => r.status === 'failed')) this.#scheduleRetry(orgId);
    else this.#backgroundCount.delete(orgId);
    return out;
  }

  /** Idempotent: cancels the scheduled background retries; later calls reject with CLOSED. */
  close(): void {
    this.#closed = true;
    for (const s of this.#scheduled.values()) this.#timers.clearTimeout(s.handle);
    this.#scheduled.clear();
  }

  #providerOf(snap: PolicySnapshot, subject: ProvisioningSubject): Provider | undefined {
    const eff = resolveEffectiveSettings(snap, subject.kind, subject.id);
    return eff.provider ? snap.providers.find((p) => p.id === eff.provider?.id) : undefined;
  }

  async #provision(snap: PolicySnapshot, provider: Provider, subject: ProvisioningSubject | null, actor?: string): Promise<ProvisioningRecord[]> {
    const records: ProvisioningRecord[] = [];
    const account = await this.#ensureAccount(snap, provider);
    records.push(account);
    const targets: { kind: ProvisioningSubjectKind; id: string; req: UserRequest }[] = [];
    if (subject) {
      const s = findRecordable(snap, subject.kind, subject.id);
      targets.push({ kind: subject.kind, id: s.id, req: this.#userRequest(snap, provider, s, 'user') });
      if ('assignedUserId' in s && s.assignedUserId) {
        const u = snap.users.find((x) => x.id === s.assignedUserId);
        if (u) targets.push({ kind: 'user', id: u.id, req: this.#userRequest(snap, provider, u, 'user') });
      }
    }
    if (actor) targets.push({ kind: 'admin', id: actor, req: { role: 'admin', externalIdentifier: actor, ...(provider.sharedData.includes('email') && actor.includes('@') ? { email: actor } : {}) } });
    for (const t of targets) {
      const prev = await this.#repo.getProvisioningRecord(snap.org.id, provider.id, t.kind, t.id);
      if (prev?.status === 'provisioned') {
        records.push(prev);
        continue;
      }
      if (account.status !== 'provisioned' || account.externalId === null) {
        records.push(await this.#store(snap.org.id, provider.id, t.kind, t.id, prev, { ok: false, reason: `provider account not provisioned: ${account.lastError ?? 'unknown'}`, attempts: 0 }));
        continue;
      }
      const accountId = account.externalId;
      const baseUrl = this.#baseUrl(provider);
      const outcome = await this.#tryRequest(() => this.#client.provisionUser(baseUrl ?? '', accountId, t.req).then((r) => r.userId), baseUrl);
      records.push(await this.#store(snap.org.id, provider.id, t.kind, t.id, prev, outcome));
    }
    return records;
  }

  async #ensureAccount(snap: PolicySnapshot, provider: Provider): Promise<ProvisioningRecord> {
    const prev = await this.#repo.getProvisioningRecord(snap.org.id, provider.id, 'organisation', snap.org.id);
    if (prev?.status === 'provisioned') return prev;
    const baseUrl = this.#baseUrl(provider);
    const org = snap.org;
    const outcome = await this.#tryRequest(
      () =>
        this.#client
          .createAccount(baseUrl ?? '', {
            organisationId: org.id,
            name: org.name,
            region: org.region,
            plan: provider.plan,
            ...(provider.sharedData.includes('customerName') && org.customerName ? { customerName: org.customerName } : {}),
          })
          .then((r) => r.accountId),
      baseUrl,
    );
    return this.#store(org.id, provider.id, 'organisation', org.id, prev, outcome);
  }

  #baseUrl(provider: Provider): string | null {
    return provider.provisioningUrl ?? this.#defaultBaseUrl;
  }

  /** only the shared fields leave the product. */
  #userRequest(snap: PolicySnapshot, provider: Provider, s: User | VirtualLine, role: 'user' | 'admin'): UserRequest {
    const shared = new Set(provider.sharedData);
    const loc = snap.locations.find((l) => l.id === s.locationId);
    const req: { -readonly [K in keyof UserRequest]: UserRequest[K] } = { role, externalIdentifier: s.platformInfo.externalIdentifier, platformInfo: s.platformInfo };
    if ('firstName' in s) {
      if (shared.has('firstName')) req.firstName = s.firstName;
      if (shared.has('lastName')) req.lastName = s.lastName;
      if (shared.has('email') && s.email) req.email = s.email;
      if (shared.has('timeZone')) req.timeZone = s.timeZone ?? loc?.timeZone;
    } else {
      if (shared.has('firstName')) req.firstName = s.displayName;
      if (shared.has('timeZone') && loc) req.timeZone = loc.timeZone;
    }
    return req;
  }

  async #tryRequest(fn: () => Promise<string>, baseUrl: string | null): Promise<{ ok: true; externalId: string; attempts: number } | { ok: false; reason: string; attempts: number }> {
    if (baseUrl === null) return { ok: false, reason: 'no provisioning endpoint configured for this provider', attempts: 0 };
    let reason = '';
    for (let i = 0; i < this.#attempts; i++) {
      if (i > 0) await new Promise<void>((resolve) => this.#timers.setTimeout(resolve, this.#backoffMs * 2 ** (i - 1)));
      try {
        return { ok: true, externalId: await fn(), attempts: i + 1 };
      } catch (err) {
        reason = isAppError(err) ? err.message : (err as Error).message;
      }
    }
    return { ok: false, reason, attempts: this.#attempts };
  }

  async #store(
    orgId: string,
    providerId: string,
    subjectKind: ProvisioningSubjectKind,
    subjectId: string,
    prev: ProvisioningRecord | undefined,
    outcome: { ok: true; externalId: string; attempts: number } | { ok: false; reason: string; attempts: number },
  ): Promise<ProvisioningRecord> {
    const now = this.#clock.now();
    const count = this.#backgroundCount.get(orgId) ?? 0;
    const record: ProvisioningRecord = {
      orgId,
      providerId,
      subjectKind,
      subjectId,
      status: outcome.ok ? 'provisioned' : 'failed',
      externalId: outcome.ok ? outcome.externalId : null,
      attempts: (prev?.attempts ?? 0) + outcome.attempts,
      lastError: outcome.ok ? null : outcome.reason,
      updatedAt: new Date(now).toISOString(),
      nextRetryAt: outcome.ok || count >= this.#maxBackground ? null : new Date(now + this.#retryDelayMs * 2 ** count).toISOString(),
    };
    if (!outcome.ok) this.#log.warn({ orgId, providerId, subjectKind, subjectId, reason: outcome.reason }, 'auto-provisioning failed');
    else this.#log.info({ orgId, providerId, subjectKind, subjectId, externalId: outcome.externalId }, 'auto-provisioned');
    return this.#repo.putProvisioningRecord(record);
  }

  #scheduleRetry(orgId: string): void {
    if (this.#closed || this.#scheduled.has(orgId)) return;
    const count = this.#backgroundCount.get(orgId) ?? 0;
    if (count >= this.#maxBackground) {
      this.#log.error({ orgId }, 'auto-provisioning still failing; background retries exhausted (POST .../provisioning/retry to try again)');
      return;
    }
    const handle = this.#timers.setTimeout(() => {
      this.#scheduled.delete(orgId);
      this.#backgroundCount.set(orgId, count + 1);
      this.retryFailed(orgId).catch((err: unknown) => this.#log.error({ orgId, err }, 'auto-provisioning retry failed'));
    }, this.#retryDelayMs * 2 ** count);
    this.#scheduled.set(orgId, { handle, count });
  }
}
