import { useState } from 'preact/hooks';
import { ApiError, api, enc } from '../api';
import type { RecordingListItem } from '../types';
import { SelectField, TextField } from '../ui';
import { Player } from './player';
import { Timeline, type RecordingEvent, type Summary } from './timeline';

const MODES: Record<string, string> = { always: 'always', alwaysWithPauseResume: 'always, with pause and resume', onDemand: 'on demand', never: 'never' };

/** Whom a recording is for and in which mode: "Alice Demo (always)". */
export const recordedText = (r: RecordingListItem) => {
  const who = r.recordedParty ? (r.recordedParty.name ?? r.recordedParty.aor ?? '?') : 'unknown';
  return r.mode ? `${who} (${MODES[r.mode] ?? r.mode})` : who;
};

/** The other listed recordings of the same call (they share a SIP Call-ID). */
const siblingsOf = (r: RecordingListItem, all: readonly RecordingListItem[]) =>
  all.filter((x) => x.recordingId !== r.recordingId && (x.sipSessionIds ?? []).some((id) => (r.sipSessionIds ?? []).includes(id)));

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
                <th scope="col">Recorded party (mode)</th>
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
                  <td data-testid="recorded-party">
                    {recordedText(r)}
                    {siblingsOf(r, result.recordings).length > 0 && (
                      <>
                        <br />
                        <small>1 of {siblingsOf(r, result.recordings).length + 1} recordings of this call</small>
                      </>
                    )}
                  </td>
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
      {selected && (
        <RecordingDetail
          key={selected}
          id={selected}
          item={result?.recordings.find((r) => r.recordingId === selected)}
          siblings={(() => {
            const item = result?.recordings.find((r) => r.recordingId === selected);
            return item && result ? siblingsOf(item, result.recordings) : [];
          })()}
          onOpen={setSelected}
        />
      )}
    </>
  );
}

function RecordingDetail({ id, item, siblings, onOpen }: { id: string; item: RecordingListItem | undefined; siblings: RecordingListItem[]; onOpen: (id: string) => void }) {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [events, setEvents] = useState<RecordingEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useState(() => {
    api<Summary>('GET', `/v1/recordings/${enc(id)}`).then(setSummary, (e: unknown) => setError(String(e)));
    // the event log's entries (failovers, a lost link); none when the product no longer holds them
    api<{ events: RecordingEvent[] }>('GET', `/v1/recordings/${enc(id)}/events`).then(
      (r) => setEvents(r.events),
      () => setEvents([]),
    );
    return 0;
  });
  return (
    <section aria-label="Recording" class="card">
      <h2>Recording {id}</h2>
      {error && <p class="form-error">{error}</p>}
      {item && <p>Recording of {recordedText(item)}.</p>}
      {siblings.length > 0 && (
        <div>
          <p>The same call has {siblings.length === 1 ? 'another recording' : `${siblings.length} more recordings`}:</p>
          <ul class="plain">
            {siblings.map((x) => (
              <li key={x.recordingId}>
                <button type="button" class="secondary" onClick={() => onOpen(x.recordingId)}>
                  Open the recording of {recordedText(x)}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <Player src={`/v1/recordings/${enc(id)}/audio`} />
      {summary && events && <Timeline summary={summary} events={events} />}
    </section>
  );
}
