import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, enc } from '../api';
import type { Compliance, Provider } from '../types';
import { CheckField, Dialog, FormStatus, SelectField, TextField, errorsFrom, useLoad, type FieldErrors } from '../ui';
import { ComplianceFields, checkDelay } from './compliance-fields';

const SHARED_LABELS: Record<string, string> = {
  timeZone: 'Time zone',
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email address',
  customerName: 'Customer name',
};

/** API error codes of this form -> the field they are shown next to. */
const FIELD_OF: Record<string, string> = {
  POLICY_DELAY_OUT_OF_RANGE: 'delaySeconds',
  POLICY_TERMS_NOT_ACCEPTED: 'providerId',
  POLICY_REGION_RESTRICTED: 'providerId',
  POLICY_CONFIRMATION_REQUIRED: 'providerId',
};

interface ServiceSettings {
  providerId: string | null;
  compliance: Compliance;
}

/** The organisation's call recording: provider (terms dialog, R-05; confirmation to turn off, R-07) and compliance announcement. */
export function OrgRecording({ orgId }: { orgId: string }) {
  const base = `/v1/orgs/${enc(orgId)}`;
  const settings = useLoad(() => api<ServiceSettings>('GET', `${base}/service-settings`), [orgId]);
  const providers = useLoad(() => api<Provider[]>('GET', `${base}/providers`), [orgId]);
  const [providerId, setProviderId] = useState('');
  const [compliance, setCompliance] = useState<Compliance>({ inboundPstn: false, outboundPstn: false, outboundDelay: false, delaySeconds: 5 });
  const [delayText, setDelayText] = useState('5');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [terms, setTerms] = useState<Provider | null>(null);
  const [acceptedBy, setAcceptedBy] = useState('');
  const [confirmOff, setConfirmOff] = useState(false);
  const [understood, setUnderstood] = useState(false);

  useEffect(() => {
    if (!settings.data) return;
    setProviderId(settings.data.providerId ?? '');
    setCompliance(settings.data.compliance);
    setDelayText(String(settings.data.compliance.delaySeconds));
  }, [settings.data]);

  const put = async (confirm: boolean) => {
    setSaved(null);
    try {
      // the answer is the saved settings: taken at once, so no later fetch overwrites what is edited after "Saved."
      const now = await api<ServiceSettings>('PUT', `${base}/service-settings`, {
        providerId: providerId === '' ? null : providerId,
        compliance: { ...compliance, delaySeconds: Number(delayText) },
        ...(confirm ? { confirmRemoveForAllUsers: true } : {}),
      });
      setErrors({});
      settings.set(now);
      setSaved('Saved.');
    } catch (err) {
      setErrors(errorsFrom(err, FIELD_OF));
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const delayError = checkDelay(delayText);
    if (delayError) return setErrors({ delaySeconds: delayError });
    setErrors({});
    if (providerId === '' && settings.data?.providerId) {
      setUnderstood(false);
      return setConfirmOff(true);
    }
    if (providerId !== '' && providerId !== settings.data?.providerId) {
      try {
        await api('GET', `${base}/providers/${enc(providerId)}/terms`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return setTerms(providers.data?.find((p) => p.id === providerId) ?? null);
        return setErrors(errorsFrom(err, FIELD_OF));
      }
    }
    await put(false);
  };

  const accept = async (e: Event) => {
    e.preventDefault();
    if (!terms) return;
    try {
      await api('POST', `${base}/providers/${enc(terms.id)}/terms`, { acceptedBy });
      setTerms(null);
      await put(false);
    } catch (err) {
      setErrors(errorsFrom(err, { POLICY_INVALID: 'acceptedBy', ADMIN_VALIDATION_FAILED: 'acceptedBy' }));
    }
  };

  if (settings.error) return <p class="form-error">{settings.error}</p>;
  if (!settings.data) return <p>Loading…</p>;
  return (
    <>
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>Recording provider</legend>
          <SelectField
            label="Provider"
            name="providerId"
            value={providerId}
            onChange={setProviderId}
            errors={errors}
            options={[['', 'None (recording off)'], ...(providers.data ?? []).map((p) => [p.id, `${p.name} (${p.profile})`] as const)]}
            hint="Choosing a provider asks you to accept its terms once; choosing none turns recording off for every user."
          />
        </fieldset>
        <ComplianceFields value={compliance} delayText={delayText} onChange={setCompliance} onDelay={setDelayText} errors={errors} />
        <button type="submit">Save</button>
        <FormStatus errors={errors} saved={saved} />
      </form>

      <Dialog title={`Terms of use: ${terms?.name ?? ''}`} open={terms !== null} onClose={() => setTerms(null)}>
        <form onSubmit={accept}>
          <p>To record calls, the provider receives the recordings and, for each recorded user, the following information:</p>
          <ul class="shared">
            {(terms?.sharedData ?? []).map((f) => (
              <li key={f}>{SHARED_LABELS[f] ?? f}</li>
            ))}
            {terms?.sharedData.length === 0 && <li>No personal information beyond the recordings.</li>}
          </ul>
          <TextField label="Accepted by (your name)" name="acceptedBy" value={acceptedBy} onInput={setAcceptedBy} required errors={errors} />
          <div class="actions">
            <button type="submit" disabled={acceptedBy.trim() === ''}>
              Accept and save
            </button>
            <button type="button" class="secondary" onClick={() => setTerms(null)}>
              Cancel
            </button>
          </div>
        </form>
      </Dialog>

      <Dialog title="Turn call recording off for everyone?" open={confirmOff} onClose={() => setConfirmOff(false)}>
        <p>With no provider, no call of this organisation is recorded: this removes the feature for all users.</p>
        <CheckField label="I understand that recording stops for all users" name="understood" checked={understood} onChange={setUnderstood} />
        <div class="actions">
          <button
            type="button"
            class="danger"
            disabled={!understood}
            onClick={() => {
              setConfirmOff(false);
              void put(true);
            }}
          >
            Turn recording off
          </button>
          <button type="button" class="secondary" onClick={() => setConfirmOff(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}
