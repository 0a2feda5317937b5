import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

/** Which field an API error code belongs to (docs/errors.md); the code is shown next to that field. */
export type FieldErrors = Record<string, string>;

/**
 * The field an error belongs to: `fieldOf[code]` first; for ADMIN_VALIDATION_FAILED the body field the
 * schema message names (`body/name must ...`, `body must have required property 'name'`) when the
 * form shows that field (`fields`); else the form.
 */
export function errorsFrom(err: unknown, fieldOf: Record<string, string>, fields: readonly string[] = []): FieldErrors {
  if (!(err instanceof ApiError)) return { form: String(err) };
  const text = `${err.code}: ${err.message}`;
  const mapped = fieldOf[err.code];
  if (mapped) return { [mapped]: text };
  if (err.code === 'ADMIN_VALIDATION_FAILED') {
    const named = /^body\/([A-Za-z]+)/.exec(err.message)?.[1] ?? /required property '([A-Za-z]+)'/.exec(err.message)?.[1];
    if (named && fields.includes(named)) return { [named]: text };
  }
  return { form: text };
}

/** A comma/space/newline separated list as the API's string array (empty entries dropped). */
export const listOf = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

let nextId = 0;
const useId = (prefix: string) => useRef(`${prefix}-${++nextId}`).current;

export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <p class="field-error" id={`${id}-error`} role="alert">
      {error}
    </p>
  ) : null;
}

interface FieldProps {
  label: string;
  name: string;
  errors?: FieldErrors;
  hint?: string;
}

export function TextField(p: FieldProps & { value: string; onInput: (v: string) => void; type?: string; min?: number; max?: number; required?: boolean; readOnly?: boolean }) {
  const id = useId(p.name);
  const error = p.errors?.[p.name];
  const describedBy = [p.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={p.value}
        min={p.min}
        max={p.max}
        required={p.required}
        readOnly={p.readOnly}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy}
        onInput={(e) => p.onInput((e.target as HTMLInputElement).value)}
      />
      {p.hint && (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
      <FieldError id={id} error={error} />
    </div>
  );
}

export function SelectField(p: FieldProps & { value: string; onChange: (v: string) => void; options: readonly (readonly [string, string])[] }) {
  const id = useId(p.name);
  const error = p.errors?.[p.name];
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} name={p.name} value={p.value} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? `${id}-error` : undefined} onChange={(e) => p.onChange((e.target as HTMLSelectElement).value)}>
        {p.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
      {p.hint && <p class="hint">{p.hint}</p>}
      <FieldError id={id} error={error} />
    </div>
  );
}

export function CheckField(p: FieldProps & { checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId(p.name);
  const error = p.errors?.[p.name];
  return (
    <div class="field check">
      <input id={id} name={p.name} type="checkbox" checked={p.checked} aria-describedby={error ? `${id}-error` : undefined} onChange={(e) => p.onChange((e.target as HTMLInputElement).checked)} />
      <label for={id}>{p.label}</label>
      <FieldError id={id} error={error} />
    </div>
  );
}

/** A modal <dialog> (focus moves into it; Escape closes it). */
export function Dialog(p: { title: string; open: boolean; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId('dialog');
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (p.open && !d.open) d.showModal();
    if (!p.open && d.open) d.close();
  }, [p.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={p.onClose}>
      <h2 id={titleId}>{p.title}</h2>
      {p.children}
    </dialog>
  );
}

export function FormStatus({ errors, saved }: { errors: FieldErrors; saved: string | null }) {
  return (
    <div aria-live="polite">
      {errors.form && (
        <p class="form-error" role="alert">
          {errors.form}
        </p>
      )}
      {saved && <p class="saved">{saved}</p>}
    </div>
  );
}

/** Loads once per key; `reload()` fetches again; `set()` takes data the caller already has (a PUT's answer). */
export function useLoad<T>(load: () => Promise<T>, key: unknown[]): { data: T | undefined; error: string | null; reload: () => void; set: (data: T) => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => live && (setData(d), setError(null)),
      (e: unknown) => live && setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)),
    );
    return () => {
      live = false;
    };
  }, [...key, n]);
  return { data, error, reload: () => setN((x) => x + 1), set: setData };
}
