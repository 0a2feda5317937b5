import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api';
import type { Location, Person, RecordingSettings } from '../types';
import { CheckField, FormStatus, SelectField, TextField, errorsFrom, useLoad, type FieldErrors } from '../ui';
import { CreateForm, DeleteAction, type CreateFieldSpec } from '../entity-actions';

/** Where the API's refusals of a new user or line belong. */
const CREATE_FIELD_OF: Record<string, string> = { POLICY_ADDRESS_IN_USE: 'numbers', POLICY_REFERENCE_INVALID: 'locationId', POLICY_LICENCE_REQUIRED: 'licence' };

const FIELD_OF: Record<string, string> = {
  POLICY_LICENCE_REQUIRED: 'enabled',
  POLICY_PROVIDER_REQUIRED: 'enabled',
  POLICY_TONE_INTERVAL_OUT_OF_RANGE: 'intervalSeconds',
  POLICY_INVALID: 'form',
};

const MODES = [
  ['always', 'Always'],
  ['alwaysWithPauseResume', 'Always, with pause and resume'],
  ['onDemand', 'On demand (the user starts it)'],
  ['never', 'Never'],
] as const;

const LICENCES: Record<string, string> = { professional: 'Professional', basic: 'Basic', none: 'No calling licence' };

const nameOf = (p: Person) => p.displayName ?? `${p.firstName ?? ''} ${p.lastName ?? ''}`.trim();

/** Users (R-03: recording needs a Professional or Basic licence) and virtual lines: recording, announcements, language, platform information. */
export function People({ orgId, kind }: { orgId: string; kind: 'users' | 'virtual-lines' }) {
  const base = `/v1/orgs/${enc(orgId)}/${kind}`;
  const people = useLoad(() => api<Person[]>('GET', base), [orgId, kind]);
  const locations = useLoad(() => api<Location[]>('GET', `/v1/orgs/${enc(orgId)}/locations`), [orgId]);
  const [selected, setSelected] = useState('');
  useEffect(() => {
    if ((!selected || !people.data?.some((p) => p.id === selected)) && people.data?.[0]) setSelected(people.data[0].id);
  }, [people.data]);
  const noun = kind === 'users' ? 'user' : 'virtual line';
  const locationField: CreateFieldSpec = { name: 'locationId', label: 'Location', kind: 'select', options: (locations.data ?? []).map((l) => [l.id, l.name] as const) };
  const addressFields: CreateFieldSpec[] = [
    { name: 'numbers', label: 'Numbers', kind: 'list', optional: true, hint: 'E.164, space separated, e.g. +15550001234.' },
    { name: 'extension', label: 'Extension', optional: true },
  ];
  const createFields: CreateFieldSpec[] =
    kind === 'users'
      ? [
          { name: 'firstName', label: 'First name' },
          { name: 'lastName', label: 'Last name' },
          locationField,
          { name: 'licence', label: 'Licence', kind: 'select', options: Object.entries(LICENCES).map(([v, l]) => [v, l] as const), hint: 'Recording needs a Professional or Basic licence.' },
          { name: 'email', label: 'Email', optional: true },
          ...addressFields,
        ]
      : [{ name: 'displayName', label: 'Display name' }, locationField, ...addressFields];
  const person = people.data?.find((p) => p.id === selected);
  if (people.error) return <p class="form-error">{people.error}</p>;
  return (
    <div class="split">
      <ul class="list" aria-label={kind === 'users' ? 'Users' : 'Virtual lines'}>
        {(people.data ?? []).map((p) => (
          <li key={p.id}>
            <button type="button" aria-pressed={p.id === selected} onClick={() => setSelected(p.id)}>
              {nameOf(p)} <small>{p.extension ?? p.numbers[0] ?? ''}</small>
            </button>
          </li>
        ))}
      </ul>
      <div>
        {person && (
          <>
            <RecordingForm key={person.id} url={`${base}/${enc(person.id)}`} kind={kind} person={person} onSaved={people.reload} />
            <DeleteAction
              key={`delete-${person.id}`}
              what={`${noun} ${nameOf(person)}`}
              url={`${base}/${enc(person.id)}`}
              onDeleted={() => {
                setSelected('');
                people.reload();
              }}
            />
          </>
        )}
        {locations.data && (
          <CreateForm
            key={locations.data.map((l) => l.id).join()}
            title={kind === 'users' ? 'Add a user' : 'Add a virtual line'}
            url={base}
            fields={createFields}
            fieldOf={CREATE_FIELD_OF}
            onCreated={(p) => {
              setSelected(p.id);
              people.reload();
            }}
          />
        )}
      </div>
    </div>
  );
}

function RecordingForm({ url, kind, person, onSaved }: { url: string; kind: 'users' | 'virtual-lines'; person: Person; onSaved: () => void }) {
  const [r, setR] = useState<RecordingSettings>(person.recording);
  const [interval, setInterval] = useState(String(person.recording.repeatTone.intervalSeconds));
  const [language, setLanguage] = useState(person.announcementLanguage ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const set = (patch: Partial<RecordingSettings>) => setR({ ...r, ...patch });
  const licensed = kind === 'virtual-lines' || person.licence === 'professional' || person.licence === 'basic';

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const n = Number(interval);
    if (r.enabled && r.repeatTone.enabled && !(Number.isInteger(n) && n >= 10 && n <= 90)) return setErrors({ intervalSeconds: 'The interval must be a whole number of seconds from 10 to 90.' });
    const recording = r.enabled ? { ...r, repeatTone: { ...r.repeatTone, intervalSeconds: n } } : { enabled: false };
    try {
      if (kind === 'users') {
        await api('PUT', `${url}/call-experience`, { announcementLanguage: language === '' ? null : language, recording });
      } else {
        await api('PUT', `${url}/recording`, recording);
        await api('PATCH', url, { announcementLanguage: language === '' ? null : language });
      }
      setErrors({});
      setSaved('Saved.');
      onSaved();
    } catch (err) {
      setErrors(errorsFrom(err, FIELD_OF));
    }
  };

  const info = person.platformInfo;
  return (
    <form onSubmit={submit} noValidate aria-label={`Recording of ${nameOf(person)}`}>
      <h2>{nameOf(person)}</h2>
      {kind === 'users' && (
        <p class="hint">
          Licence: {LICENCES[person.licence ?? 'none'] ?? person.licence}
          {!licensed && ' — recording needs a Professional or Basic licence.'}
        </p>
      )}
      <CheckField label={kind === 'users' ? "Record this user's calls" : "Record this line's calls"} name="enabled" checked={r.enabled} onChange={(v) => set({ enabled: v })} errors={errors} />
      <fieldset disabled={!r.enabled}>
        <legend>Recording</legend>
        <SelectField label="Mode" name="mode" value={r.mode} onChange={(v) => set({ mode: v as RecordingSettings['mode'] })} options={MODES} errors={errors} />
        <CheckField label="Record voicemail" name="recordVoicemail" checked={r.recordVoicemail} onChange={(v) => set({ recordVoicemail: v })} />
        <CheckField label="Start/stop announcement on PSTN calls" name="announcePstn" checked={r.startStopAnnouncement.pstn} onChange={(v) => set({ startStopAnnouncement: { ...r.startStopAnnouncement, pstn: v } })} />
        <CheckField label="Start/stop announcement on internal calls" name="announceInternal" checked={r.startStopAnnouncement.internal} onChange={(v) => set({ startStopAnnouncement: { ...r.startStopAnnouncement, internal: v } })} />
        <SelectField
          label="Pause/resume notification"
          name="pauseResumeNotification"
          value={r.pauseResumeNotification}
          onChange={(v) => set({ pauseResumeNotification: v as RecordingSettings['pauseResumeNotification'] })}
          options={[
            ['none', 'None'],
            ['beep', 'Beep'],
            ['announcement', 'Announcement'],
          ]}
        />
        <CheckField label="Repeat a tone while recording" name="repeatTone" checked={r.repeatTone.enabled} onChange={(v) => set({ repeatTone: { ...r.repeatTone, enabled: v } })} />
        <TextField label="Tone interval (seconds)" name="intervalSeconds" type="number" min={10} max={90} value={interval} onInput={setInterval} errors={errors} hint="From 10 to 90 seconds." />
      </fieldset>
      <TextField label="Announcement language" name="announcementLanguage" value={language} onInput={setLanguage} hint="BCP 47, e.g. en-US; empty = the location's or organisation's." errors={errors} />
      <button type="submit">Save</button>
      <FormStatus errors={errors} saved={saved} />
      <section aria-label="Platform information">
        <h3>Platform information (read-only, for support)</h3>
        <dl class="info">
          <dt>Service provider</dt>
          <dd>{info.serviceProvider}</dd>
          <dt>External group</dt>
          <dd>{info.externalGroup}</dd>
          <dt>External identifier</dt>
          <dd>{info.externalIdentifier}</dd>
          <dt>External type</dt>
          <dd>{info.externalType}</dd>
        </dl>
      </section>
    </form>
  );
}
