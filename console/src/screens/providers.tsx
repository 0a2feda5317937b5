import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import type { Provider } from '../types';
import { CheckField, FormStatus, SelectField, TextField, errorsFrom, useLoad, type FieldErrors } from '../ui';
import { CreateForm, DeleteAction } from '../entity-actions';

const FIELD_OF: Record<string, string> = { POLICY_INVALID: 'recordingServers', ADMIN_VALIDATION_FAILED: 'recordingServers' };

/** Recording providers: profile, recording servers in failover order, transport, dialect, SRTP, failure policy, plan. */
export function Providers({ orgId }: { orgId: string }) {
  const base = `/v1/orgs/${enc(orgId)}/providers`;
  const list = useLoad(() => api<Provider[]>('GET', base), [orgId]);
  if (list.error) return <p class="form-error">{list.error}</p>;
  return (
    <>
      {(list.data ?? []).map((p) => (
        <div key={p.id} class="card">
          <ProviderForm url={`${base}/${enc(p.id)}`} provider={p} onSaved={list.reload} />
          <DeleteAction what={`provider ${p.name}`} url={`${base}/${enc(p.id)}`} onDeleted={list.reload} />
        </div>
      ))}
      <CreateForm
        title="Add a provider"
        url={base}
        fields={[
          { name: 'name', label: 'Name' },
          {
            name: 'profile',
            label: 'Profile',
            kind: 'select',
            options: [
              ['custom', 'Custom'],
              ['dubber', 'Dubber'],
              ['imagicle', 'Imagicle'],
              ['callcabinet', 'CallCabinet'],
            ],
            hint: "The profile gives the defaults (transport, dialect, SRTP, shared data); change them once it is added.",
          },
          { name: 'recordingServers', label: 'Recording servers, in failover order', kind: 'list', hint: 'SIP URIs, space separated, e.g. sip:rec@192.0.2.10.' },
        ]}
        fieldOf={{ POLICY_INVALID: 'recordingServers' }}
        body={(v) => ({ ...v, recordingServers: (v.recordingServers as string[]).map((uri) => ({ uri })) })}
        onCreated={list.reload}
      />
    </>
  );
}

function ProviderForm({ url, provider, onSaved }: { url: string; provider: Provider; onSaved: () => void }) {
  const [p, setP] = useState(provider);
  const [servers, setServers] = useState(provider.recordingServers.map((s) => s.uri).join('\n'));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const set = (patch: Partial<Provider>) => setP({ ...p, ...patch });
  const submit = async (e: Event) => {
    e.preventDefault();
    const uris = servers.split(/\s+/).filter(Boolean);
    if (uris.length === 0) return setErrors({ recordingServers: 'At least one recording server URI.' });
    try {
      await api('PATCH', url, {
        name: p.name,
        recordingServers: uris.map((uri) => ({ uri })),
        transport: p.transport,
        srtp: p.srtp,
        dialect: p.dialect,
        failurePolicy: p.failurePolicy,
        plan: p.plan,
      });
      setErrors({});
      setSaved('Saved.');
      onSaved();
    } catch (err) {
      setErrors(errorsFrom(err, FIELD_OF));
    }
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Provider ${provider.name}`}>
      <h2>
        {provider.name} <small>profile {provider.profile}</small>
      </h2>
      <TextField label="Name" name="name" value={p.name} onInput={(v) => set({ name: v })} errors={errors} />
      <div class="field">
        <label for={`servers-${provider.id}`}>Recording servers, in failover order (one SIP URI a line)</label>
        <textarea id={`servers-${provider.id}`} rows={3} value={servers} aria-describedby={errors.recordingServers ? `servers-${provider.id}-error` : undefined} onInput={(e) => setServers((e.target as HTMLTextAreaElement).value)} />
        {errors.recordingServers && (
          <p class="field-error" id={`servers-${provider.id}-error`} role="alert">
            {errors.recordingServers}
          </p>
        )}
      </div>
      <SelectField label="Transport" name="transport" value={p.transport} onChange={(v) => set({ transport: v })} options={[['udp', 'UDP'], ['tcp', 'TCP'], ['tls', 'TLS']]} />
      <SelectField label="Metadata dialect" name="dialect" value={p.dialect} onChange={(v) => set({ dialect: v })} options={[['rfc7865', 'RFC 7865'], ['broadworks', 'BroadWorks']]} />
      <CheckField label="SRTP to the recording server" name="srtp" checked={p.srtp} onChange={(v) => set({ srtp: v })} />
      <SelectField
        label="When no recording server answers"
        name="failurePolicy"
        value={p.failurePolicy}
        onChange={(v) => set({ failurePolicy: v })}
        options={[
          ['proceedWithoutAnnouncement', 'Connect the call, no announcement'],
          ['proceedWithAnnouncement', 'Connect the call with an announcement'],
          ['endCallWithAnnouncement', 'End the call with an announcement'],
        ]}
      />
      <SelectField label="Plan" name="plan" value={p.plan ?? ''} onChange={(v) => set({ plan: v === '' ? null : v })} options={[['', 'Not set'], ['free', 'Free (30 days)'], ['paid', 'Paid']]} />
      <p class="hint">
        Shares: {provider.sharedData.join(', ') || 'nothing'}; auto-provisioning {provider.autoProvisioning ? 'on' : 'off'}; regions {provider.allowedRegions?.join(', ') ?? 'any'}.
      </p>
      <button type="submit">Save</button>
      <FormStatus errors={errors} saved={saved} />
    </form>
  );
}
