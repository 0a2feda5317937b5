import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import type { Trunk } from '../types';
import { FormStatus, TextField, errorsFrom, useLoad, type FieldErrors } from '../ui';
import { CreateForm, DeleteAction } from '../entity-actions';

const FIELD_OF = { POLICY_INVALID: 'sourceAddresses', POLICY_ADDRESS_IN_USE: 'sourceAddresses' };

/** Trunks: the carriers' source addresses; a call from one is a PSTN call (R-10). */
export function Trunks({ orgId }: { orgId: string }) {
  const base = `/v1/orgs/${enc(orgId)}/trunks`;
  const list = useLoad(() => api<Trunk[]>('GET', base), [orgId]);
  if (list.error) return <p class="form-error">{list.error}</p>;
  return (
    <>
      {list.data?.length === 0 && <p class="hint">No trunk.</p>}
      {(list.data ?? []).map((t) => (
        <div key={t.id} class="card">
          <TrunkForm url={`${base}/${enc(t.id)}`} trunk={t} />
          <DeleteAction what={`trunk ${t.name}`} url={`${base}/${enc(t.id)}`} onDeleted={list.reload} />
        </div>
      ))}
      <CreateForm
        title="Add a trunk"
        url={base}
        fields={[
          { name: 'name', label: 'Name' },
          { name: 'sourceAddresses', label: 'Source addresses', kind: 'list', hint: 'host or host:port of the carrier, space separated.' },
        ]}
        fieldOf={FIELD_OF}
        onCreated={list.reload}
      />
    </>
  );
}

function TrunkForm({ url, trunk }: { url: string; trunk: Trunk }) {
  const [name, setName] = useState(trunk.name);
  const [sources, setSources] = useState(trunk.sourceAddresses.join(' '));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api('PATCH', url, { name, sourceAddresses: sources.split(/[\s,]+/).filter(Boolean) });
      setErrors({});
      setSaved('Saved.');
    } catch (err) {
      setErrors(errorsFrom(err, { ...FIELD_OF, ADMIN_VALIDATION_FAILED: 'sourceAddresses' }));
    }
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Trunk ${trunk.name}`}>
      <TextField label="Trunk name" name="name" value={name} onInput={setName} errors={errors} />
      <TextField label="Source addresses (host:port, space separated)" name="sourceAddresses" value={sources} onInput={setSources} errors={errors} />
      <button type="submit">Save</button>
      <FormStatus errors={errors} saved={saved} />
    </form>
  );
}
