import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import type { Feature } from '../types';
import { FormStatus, TextField, errorsFrom, useLoad, type FieldErrors } from '../ui';

const KINDS = [
  ['auto-attendants', 'Auto attendants'],
  ['call-queues', 'Call queues'],
  ['hunt-groups', 'Hunt groups'],
] as const;

/** Auto attendants, call queues and hunt groups: the language of their announcements. */
export function Features({ orgId }: { orgId: string }) {
  return (
    <>
      {KINDS.map(([kind, title]) => (
        <FeatureKind key={kind} base={`/v1/orgs/${enc(orgId)}/${kind}`} title={title} />
      ))}
    </>
  );
}

function FeatureKind({ base, title }: { base: string; title: string }) {
  const list = useLoad(() => api<Feature[]>('GET', base), [base]);
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {list.error && <p class="form-error">{list.error}</p>}
      {list.data?.length === 0 && <p class="hint">None.</p>}
      {(list.data ?? []).map((f) => (
        <FeatureRow key={f.id} url={`${base}/${enc(f.id)}`} feature={f} />
      ))}
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
