import { useState } from 'preact/hooks';
import { ApiError, api, enc } from '../api';
import type { RecordingListItem } from '../types';
import { SelectField, TextField } from '../ui';
import { Player } from './player';
import { Timeline, type Summary } from './timeline';

/** Recordings of the in-process recording server: search by time, user and direction; play; timeline from the metadata. */
export function Recordings({ orgId }: { orgId: string }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [user, setUser] = useState('');
  const [direction, setDirection] = useState('');
  const [result, setResult] = useState<{ total: number; recordings: RecordingListItem[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  const search = async (e?: Event) => {
    e?.preventDefault();
    const q = new URLSearchParams();
    if (from) q.set('from', new Date(from).toISOString());
    if (to) q.set('to', new Date(to).toISOString());
    if (user) q.set('user', user);
    if (orgId) q.set('org', orgId);
    try {
      const r = await api<{ total: number; recordings: RecordingListItem[] }>('GET', `/v1/recordings?${q.toString()}`);
      setResult({ total: r.total, recordings: direction ? r.recordings.filter((x) => x.direction === direction) : r.recordings });
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };

  return (
    <>
      <form class="search" onSubmit={search} aria-label="Search recordings">
        <TextField label="From" name="from" type="datetime-local" value={from} onInput={setFrom} />
        <TextField label="To" name="to" type="datetime-local" value={to} onInput={setTo} />
        <TextField label="User (number, name or id)" name="user" value={user} onInput={setUser} />
        <SelectField
          label="Direction"
          name="direction"
          value={direction}
          onChange={setDirection}
          options={[
            ['', 'Any'],
            ['inbound', 'Inbound'],
            ['outbound', 'Outbound'],
            ['internal', 'Internal'],
          ]}
        />
        <button type="submit">Search</button>
      </form>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div class="table-wrap">
          <table>
            <caption>
              {result.recordings.length} of {result.total} recordings
            </caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Direction</th>
                <th scope="col">Participants</th>
                <th scope="col">Duration</th>
                <th scope="col">Ended</th>
                <th scope="col">
                  <span class="visually-hidden">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {result.recordings.map((r) => (
                <tr key={r.recordingId}>
                  <td>{new Date(r.startedAt).toLocaleString()}</td>
                  <td>{r.direction}</td>
                  <td>{r.participants.map((p) => p.name ?? p.aor).join(', ')}</td>
                  <td>{(r.durationMs / 1000).toFixed(1)} s</td>
                  <td>{r.endReason}</td>
                  <td>
                    <button type="button" aria-pressed={selected === r.recordingId} onClick={() => setSelected(r.recordingId)}>
                      Open <span class="visually-hidden">recording of {new Date(r.startedAt).toLocaleString()}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected && <RecordingDetail key={selected} id={selected} />}
    </>
  );
}

function RecordingDetail({ id }: { id: string }) {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState<string | null>(null);
  useState(() => {
    api<Summary>('GET', `/v1/recordings/${enc(id)}`).then(setSummary, (e: unknown) => setError(String(e)));
    return 0;
  });
  return (
    <section aria-label="Recording" class="card">
      <h2>Recording {id}</h2>
      {error && <p class="form-error">{error}</p>}
      <Player src={`/v1/recordings/${enc(id)}/audio`} />
      {summary && <Timeline summary={summary} />}
    </section>
  );
}
