import type { Compliance } from '../types';
import { CheckField, TextField, type FieldErrors } from '../ui';

/** The 1-60 s rule of the compliance announcement delay, checked before the form is sent. */
export function checkDelay(text: string): string | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 60 ? undefined : 'The delay must be a whole number of seconds from 1 to 60.';
}

/** Compliance announcement: inbound PSTN, outbound PSTN and its delay. */
export function ComplianceFields(p: { value: Compliance; delayText: string; onChange: (c: Compliance) => void; onDelay: (t: string) => void; errors: FieldErrors; disabled?: boolean }) {
  const set = (patch: Partial<Compliance>) => p.onChange({ ...p.value, ...patch });
  return (
    <fieldset disabled={p.disabled}>
      <legend>Compliance announcement</legend>
      <CheckField label="Play on inbound PSTN calls" name="inboundPstn" checked={p.value.inboundPstn} onChange={(v) => set({ inboundPstn: v })} errors={p.errors} />
      <CheckField label="Play on outbound PSTN calls" name="outboundPstn" checked={p.value.outboundPstn} onChange={(v) => set({ outboundPstn: v })} errors={p.errors} />
      <CheckField label="Delay the outbound announcement" name="outboundDelay" checked={p.value.outboundDelay} onChange={(v) => set({ outboundDelay: v })} errors={p.errors} />
      <TextField label="Delay (seconds)" name="delaySeconds" type="number" min={1} max={60} value={p.delayText} onInput={p.onDelay} errors={p.errors} hint="From 1 to 60 seconds after the answer." />
    </fieldset>
  );
}
