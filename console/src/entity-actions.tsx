import { useState } from 'preact/hooks';
import { ApiError, api } from './api';
import { Dialog, FormStatus, SelectField, TextField, errorsFrom, listOf, type FieldErrors } from './ui';

/**
 * Creating and deleting an organisation's entities (docs/console.md "Creating and deleting"): a
 * form that POSTs to the entity's collection, and a Delete button that asks first and shows the
 * API's refusal (POLICY_IN_USE while the entity is still selected, populated or assigned).
 */

/** One field of a create form; `name` is the API's body field, so its schema errors land next to it. */
export interface CreateFieldSpec {
  name: string;
  label: string;
  /** text (default), a choice, or a list typed as space/comma separated words (sent as a string array). */
  kind?: 'text' | 'select' | 'list';
  options?: readonly (readonly [string, string])[];
  hint?: string;
  /** Default ''. */
  initial?: string;
  /** Left out of the body when empty (default: sent as typed, so the API's own rule answers). */
  optional?: boolean;
}

export function CreateForm(p: {
  /** The form's name and the disclosure's text, e.g. "Add a location". */
  title: string;
  url: string;
  fields: readonly CreateFieldSpec[];
  /** API error code -> field (e.g. POLICY_ADDRESS_IN_USE -> numbers); the rest by the schema message or above the button. */
  fieldOf?: Record<string, string>;
  /** Turns what the form read into the body (default: as read). */
  body?: (values: Record<string, unknown>) => unknown;
  onCreated: (entity: { id: string }) => void;
}) {
  const initial = () => Object.fromEntries(p.fields.map((f) => [f.name, f.initial ?? f.options?.[0]?.[0] ?? '']));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const set = (name: string) => (v: string) => setValues({ ...values, [name]: v });

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const read: Record<string, unknown> = {};
    for (const f of p.fields) {
      const v = values[f.name] ?? '';
      if (f.kind === 'list') {
        if (v.trim() !== '' || !f.optional) read[f.name] = listOf(v);
      } else if (v !== '' || !f.optional) read[f.name] = v;
    }
    try {
      const created = await api<{ id: string }>('POST', p.url, p.body ? p.body(read) : read);
      setErrors({});
      setValues(initial());
      setSaved(`Created ${created.id}.`);
      p.onCreated(created);
    } catch (err) {
      setErrors(errorsFrom(err, p.fieldOf ?? {}, p.fields.map((f) => f.name)));
    }
  };

  return (
    <details class="create">
      <summary>{p.title}</summary>
      <form onSubmit={submit} noValidate aria-label={p.title}>
        {p.fields.map((f) =>
          f.kind === 'select' ? (
            <SelectField key={f.name} label={f.label} name={f.name} value={values[f.name] ?? ''} onChange={set(f.name)} options={f.options ?? []} errors={errors} {...(f.hint ? { hint: f.hint } : {})} />
          ) : (
            <TextField key={f.name} label={f.label} name={f.name} value={values[f.name] ?? ''} onInput={set(f.name)} errors={errors} {...(f.hint ? { hint: f.hint } : {})} />
          ),
        )}
        <button type="submit">Create</button>
        <FormStatus errors={errors} saved={saved} />
      </form>
    </details>
  );
}

/** A Delete button for one entity: asks first; the API's refusal stays in the dialog, with its code. */
export function DeleteAction(p: { what: string; url: string; onDeleted: () => void }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    try {
      await api('DELETE', p.url);
      setOpen(false);
      p.onDeleted();
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  return (
    <>
      <button
        type="button"
        class="danger"
        onClick={() => {
          setError(null);
          setOpen(true);
        }}
      >
        Delete <span class="visually-hidden">{p.what}</span>
      </button>
      <Dialog title={`Delete ${p.what}?`} open={open} onClose={() => setOpen(false)}>
        <p>This cannot be undone.</p>
        {error && (
          <p class="form-error" role="alert">
            Not deleted: {error}
          </p>
        )}
        <div class="actions">
          <button type="button" class="danger" onClick={() => void confirm()}>
            Delete
          </button>
          <button type="button" class="secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}
