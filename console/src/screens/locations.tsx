import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api';
import type { Compliance, Location, Provider } from '../types';
import { FormStatus, SelectField, errorsFrom, useLoad, type FieldErrors } from '../ui';
import { CreateForm, DeleteAction } from '../entity-actions';
import { ComplianceFields, checkDelay } from './compliance-fields';

const FIELD_OF: Record<string, string> = {
  POLICY_DELAY_OUT_OF_RANGE: 'delaySeconds',
  POLICY_TERMS_NOT_ACCEPTED: 'providerMode',
  POLICY_REGION_RESTRICTED: 'providerMode',
  POLICY_PROVIDER_REQUIRED: 'providerMode',
  POLICY_REFERENCE_INVALID: 'providerMode',
};

const DEFAULT_COMPLIANCE: Compliance = { inboundPstn: false, outboundPstn: false, outboundDelay: false, delaySeconds: 5 };

/** A location inherits the organisation's provider and compliance announcement, or overrides them. */
export function Locations({ orgId }: { orgId: string }) {
  const base = `/v1/orgs/${enc(orgId)}`;
  const locations = useLoad(() => api<Location[]>('GET', `${base}/locations`), [orgId]);
  const providers = useLoad(() => api<Provider[]>('GET', `${base}/providers`), [orgId]);
  const [selected, setSelected] = useState('');
  const location = locations.data?.find((l) => l.id === selected);
  useEffect(() => {
    if ((!selected || !locations.data?.some((l) => l.id === selected)) && locations.data?.[0]) setSelected(locations.data[0].id);
  }, [locations.data]);
  if (locations.error) return <p class="form-error">{locations.error}</p>;
  return (
    <div class="split">
      <ul class="list" aria-label="Locations">
        {(locations.data ?? []).map((l) => (
          <li key={l.id}>
            <button type="button" aria-pressed={l.id === selected} onClick={() => setSelected(l.id)}>
              {l.name} <small>{l.timeZone}</small>
            </button>
          </li>
        ))}
      </ul>
      <div>
        {location && (
          <>
            <CallHandling key={location.id} base={`${base}/locations/${enc(location.id)}`} location={location} providers={providers.data ?? []} onSaved={locations.reload} />
            <DeleteAction
              key={`delete-${location.id}`}
              what={`location ${location.name}`}
              url={`${base}/locations/${enc(location.id)}`}
              onDeleted={() => {
                setSelected('');
                locations.reload();
              }}
            />
          </>
        )}
        <CreateForm
          title="Add a location"
          url={`${base}/locations`}
          fields={[
            { name: 'name', label: 'Name' },
            { name: 'timeZone', label: 'Time zone', hint: 'IANA name, e.g. Europe/Paris; empty = UTC.', optional: true },
            { name: 'announcementLanguage', label: 'Announcement language', hint: "BCP 47; empty = the organisation's.", optional: true },
          ]}
          onCreated={(l) => {
            setSelected(l.id);
            locations.reload();
          }}
        />
      </div>
    </div>
  );
}

function CallHandling({ base, location, providers, onSaved }: { base: string; location: Location; providers: Provider[]; onSaved: () => void }) {
  const ch = location.callHandling;
  const [providerMode, setProviderMode] = useState<string>(ch.provider.mode);
  const [providerId, setProviderId] = useState(ch.provider.providerId ?? providers[0]?.id ?? '');
  const [complianceMode, setComplianceMode] = useState<string>(ch.compliance.mode);
  const [compliance, setCompliance] = useState<Compliance>(ch.compliance.settings ?? DEFAULT_COMPLIANCE);
  const [delayText, setDelayText] = useState(String((ch.compliance.settings ?? DEFAULT_COMPLIANCE).delaySeconds));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const delayError = complianceMode === 'custom' ? checkDelay(delayText) : undefined;
    if (delayError) return setErrors({ delaySeconds: delayError });
    try {
      await api('PUT', `${base}/call-handling`, {
        provider: providerMode === 'provider' ? { mode: 'provider', providerId } : { mode: providerMode },
        compliance: complianceMode === 'custom' ? { mode: 'custom', settings: { ...compliance, delaySeconds: Number(delayText) } } : { mode: 'orgDefault' },
      });
      setErrors({});
      setSaved('Saved.');
      onSaved();
    } catch (err) {
      setErrors(errorsFrom(err, FIELD_OF));
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-label={`Call handling of ${location.name}`}>
      <h2>{location.name}</h2>
      <fieldset>
        <legend>Recording provider</legend>
        <SelectField
          label="Provider at this location"
          name="providerMode"
          value={providerMode}
          onChange={setProviderMode}
          errors={errors}
          options={[
            ['orgDefault', "The organisation's (inherit)"],
            ['provider', 'Another provider (override)'],
            ['none', 'None: no recording here'],
          ]}
        />
        {providerMode === 'provider' && <SelectField label="Provider" name="providerId" value={providerId} onChange={setProviderId} options={providers.map((p) => [p.id, p.name] as const)} errors={errors} />}
      </fieldset>
      <SelectField
        label="Compliance announcement at this location"
        name="complianceMode"
        value={complianceMode}
        onChange={setComplianceMode}
        errors={errors}
        options={[
          ['orgDefault', "The organisation's (inherit)"],
          ['custom', 'Own settings (override)'],
        ]}
      />
      {complianceMode === 'custom' && <ComplianceFields value={compliance} delayText={delayText} onChange={setCompliance} onDelay={setDelayText} errors={errors} />}
      <button type="submit">Save</button>
      <FormStatus errors={errors} saved={saved} />
    </form>
  );
}
