import { AppError } from '../../common/errors.js';

/**
 * The provider's auto-provisioning endpoint (R-06), over HTTP with the global fetch. The wire
 * contract (docs/admin-api.md "Auto-provisioning"):
 *
 *   POST {baseUrl}/accounts                      -> 200/201 { "accountId": "..." }
 *        { organisationId, name, region, plan, customerName? }
 *   POST {baseUrl}/accounts/{accountId}/users    -> 200/201 { "userId": "..." }
 *        { role: 'user' | 'admin', externalIdentifier, firstName?, lastName?, email?, timeZone?, platformInfo? }
 *
 * Only the fields the organisation agreed to share (terms, R-05) are sent. Any non-2xx answer,
 * network error or timeout rejects with PROVISIONING_FAILED carrying the reason.
 */
export interface AccountRequest {
  readonly organisationId: string;
  readonly name: string;
  readonly region: string;
  readonly plan: string | null;
  readonly customerName?: string;
}

export interface UserRequest {
  readonly role: 'user' | 'admin';
  readonly externalIdentifier: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly email?: string;
  readonly timeZone?: string;
  readonly platformInfo?: { readonly serviceProvider: string; readonly externalGroup: string; readonly externalIdentifier: string; readonly externalType: string };
}

export interface ProvisioningClient {
  createAccount(baseUrl: string, req: AccountRequest): Promise<{ accountId: string }>;
  provisionUser(baseUrl: string, accountId: string, req: UserRequest): Promise<{ userId: string }>;
}

export interface HttpProvisioningClientOptions {
  /** Per-request timeout; default 5000 ms. */
  readonly timeoutMs?: number;
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new AppError('PROVISIONING_FAILED', `${url}: ${e.cause?.code ?? e.name}: ${e.message}`, { cause: err });
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new AppError('PROVISIONING_FAILED', `${url}: HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AppError('PROVISIONING_FAILED', `${url}: answer is not a JSON object`);
}

function field(obj: Record<string, unknown>, name: string, url: string): string {
  const v = obj[name];
  if (typeof v !== 'string' || v === '') throw new AppError('PROVISIONING_FAILED', `${url}: answer lacks '${name}'`);
  return v;
}

export function createHttpProvisioningClient(options: HttpProvisioningClientOptions = {}): ProvisioningClient {
  const timeoutMs = options.timeoutMs ?? 5000;
  const base = (u: string) => u.replace(/\/+$/, '');
  return {
    async createAccount(baseUrl, req) {
      const url = `${base(baseUrl)}/accounts`;
      return { accountId: field(await post(url, req, timeoutMs), 'accountId', url) };
    },
    async provisionUser(baseUrl, accountId, req) {
      const url = `${base(baseUrl)}/accounts/${encodeURIComponent(accountId)}/users`;
      return { userId: field(await post(url, req, timeoutMs), 'userId', url) };
    },
  };
}
