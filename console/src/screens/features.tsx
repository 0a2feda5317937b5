import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import type { Feature, Location } from '../types';
import { FormStatus, TextField, errorsFrom, useLoad, type FieldErrors } from '../ui';
import { CreateForm, DeleteAction } from '../entity-actions';

const KINDS = [
  ['auto-attendants', 'Auto attendants', 'auto attendant'],
  ['call-queues', 'Call queues', 'call queue'],
  ['hunt-groups', 'Hunt groups', 'hunt group'],
] as const;

/** Auto attendants, call queues and hunt groups: the language of their announcements. */
export function Features({ orgId }: { orgId: string }) {
  const locations = useLoad(() => api<Location[]>('GET', `/v1/orgs/${enc(orgId)}/locations`), [orgId]);
  return (
    <>
      {KINDS.map(([kind, title, noun]) => (
        <FeatureKind key={kind} base={`/v1/orgs/${enc(orgId)}/${kind}`} title={title} noun={noun} locations={locations.data} />
      ))}
    </>
  );
}

function FeatureKind({ base, title, noun, locations }: { base: string; title: string; noun: string; locations: Location[] | undefined }) {
  const list = useLoad(() => api<Feature[]>('GET', base), [base]);
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {list.error && <p class="form-error">{list.error}</p>}
      {list.data?.length === 0 && <p class="hint">None.</p>}
      {(list.data ?? []).map((f) => (
        <div key={f.id}>
          <FeatureRow url={`${base}/${enc(f.id)}`} feature={f} />
          <DeleteAction what={`${noun} ${f.name}`} url={`${base}/${enc(f.id)}`} onDeleted={list.reload} />
        </div>
      ))}
      {locations && (
        <CreateForm
          key={locations.map((l) => l.id).join()}
          title={`Add ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`}
          url={base}
          fields={[
            { name: 'name', label: 'Name' },
            { name: 'locationId', label: 'Location', kind: 'select', options: locations.map((l) => [l.id, l.name] as const) },
            { name: 'numbers', label: 'Numbers', kind: 'list', optional: true, hint: 'E.164, space separated.' },
            { name: 'extension', label: 'Extension', optional: true },
            { name: 'announcementLanguage', label: 'Announcement language', optional: true, hint: "BCP 47; empty = the location's." },
          ]}
          fieldOf={{ POLICY_ADDRESS_IN_USE: 'numbers', POLICY_REFERENCE_INVALID: 'locationId' }}
          onCreated={list.reload}
        />
      )}
    </section>
  );
}

function FeatureRow({ url, feature }: { url: string; feature: Feature }) {
  const [language, setLanguage] = useState(feature.announcementLanguage ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api('PATCH', url, { announcementLanguage: language === '' ? null : language });
      setErrors({});
      setSaved('Saved.');
    } catch (err) {
      setErrors(errorsFrom(err, { POLICY_INVALID: 'announcementLanguage', ADMIN_VALIDATION_FAILED: 'announcementLanguage' }));
    }
  };
  return (
    <form class="row" onSubmit={submit} noValidate aria-label={feature.name}>
      <strong>{feature.name}</strong> <small>{feature.numbers.join(', ') || feature.extension || ''}</small>
      <TextField label={`Announcement language of ${feature.name}`} name="announcementLanguage" value={language} onInput={setLanguage} hint="BCP 47; empty = the location's." errors={errors} />
      <button type="submit">Save</button>
      <FormStatus errors={errors} saved={saved} />
    </form>
  );
}
