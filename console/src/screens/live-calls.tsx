import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, enc } from '../api';
import type { LiveCall } from '../types';

/** The user part of a From/To header value (`<sip:+1555...@host>;tag=..` -> `+1555...`); the whole value as its title. */
const partyOf = (header: string) => /(?:sips?|tel):([^@;>]+)/.exec(header)?.[1] ?? header;

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString() : '—');

/** Live calls, updated by the server's events (GET /v1/calls/events), with recording control (R-17) and hang-up. */
export function LiveCalls() {
  const [calls, setCalls] = useState<LiveCall[] | null>(null);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/v1/calls/events');
    source.addEventListener('calls', (e) => {
      setCalls((JSON.parse((e as MessageEvent<string>).data) as { calls: LiveCall[] }).calls);
      setConnected(true);
    });
    source.onerror = () => setConnected(false);
    return () => source.close();
  }, []);
  return (
    <>
      <p class="hint" aria-live="polite">
        {connected ? 'Live: the list updates by itself.' : 'Connecting to the live feed…'}
      </p>
      {calls?.length === 0 && <p>No call in progress.</p>}
      {calls && calls.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Calls in progress</caption>
            <thead>
              <tr>
                <th scope="col">Direction</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Call</th>
                <th scope="col">Recording</th>
                <th scope="col">Announcements</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((c) => (
                <CallRow key={c.id} call={c} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function CallRow({ call }: { call: LiveCall }) {
  const [party, setParty] = useState('');
  const [error, setError] = useState<string | null>(null);
  const several = call.recordings.length > 1;
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  const control = (action: string) => act(() => api('POST', `/v1/calls/${enc(call.id)}/recording`, { action, ...(party ? { party } : {}) }));
  const rec = call.recording as { state: string; party?: { kind: string; id: string } | null; mode?: string | null };
  const label = `${partyOf(call.from)} to ${partyOf(call.to)}`;
  return (
    <tr data-call-id={call.id}>
      <td>{call.direction}</td>
      <td title={call.from}>{partyOf(call.from)}</td>
      <td title={call.to}>{partyOf(call.to)}</td>
      <td>
        {call.state}
        <br />
        <small>answered {time(call.answeredAt)}</small>
      </td>
      <td>
        <span class={`state state-${rec.state}`} data-testid="recording-state">
          {rec.state}
        </span>
        {rec.party && (
          <small>
            {' '}
            {rec.party.kind} {rec.party.id}
            {rec.mode ? `, ${rec.mode}` : ''}
          </small>
        )}
        <ul class="plain">
          {call.recordings.map((r, i) => {
            const srs = r.srs as { target?: string; attempt?: number } | null | undefined;
            return (
              <li key={r.siprecSessionId ?? i}>
                <small>
                  {several ? `recording ${i + 1}: ${r.state}` : 'server'}
                  {several && r.party ? ` for ${r.party.kind} ${r.party.id}${r.mode ? `, ${r.mode}` : ''}` : ''}
                  {srs?.target ? ` ${srs.target.replace(/^sips?:/, '')}` : ''}
                  {srs?.attempt ? ` (failover, try ${srs.attempt + 1})` : ''}
                </small>
              </li>
            );
          })}
        </ul>
      </td>
      <td>{call.announcements.length === 0 ? 'none' : call.announcements.map((a) => `${a.kind} (${a.result}, ${a.target})`).join('; ')}</td>
      <td class="actions">
        {several && (
          <label>
            Recording of{' '}
            <select value={party} onChange={(e) => setParty((e.target as HTMLSelectElement).value)}>
              <option value="">choose</option>
              <option value="caller">caller</option>
              <option value="callee">callee</option>
            </select>
          </label>
        )}
        {(['start', 'pause', 'resume', 'stop'] as const).map((a) => (
          <button key={a} type="button" aria-label={`${a[0]!.toUpperCase()}${a.slice(1)} recording of ${label}`} onClick={() => void control(a)}>
            {a[0]!.toUpperCase() + a.slice(1)}
          </button>
        ))}
        <button type="button" class="danger" aria-label={`Hang up ${label}`} onClick={() => void act(() => api('DELETE', `/v1/calls/${enc(call.id)}`))}>
          Hang up
        </button>
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}
