import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, setSession } from './api';
import type { Organisation } from './types';
import { TextField, useLoad } from './ui';
import { OrgRecording } from './screens/org-recording';
import { Locations } from './screens/locations';
import { People } from './screens/people';
import { Features } from './screens/features';
import { Providers } from './screens/providers';
import { Trunks } from './screens/trunks';
import { LiveCalls } from './screens/live-calls';
import { Recordings } from './screens/recordings';

/** The screens, in the order of the administrator's guide, then support's. */
const SCREENS = [
  ['recording', 'Call recording'],
  ['locations', 'Locations'],
  ['users', 'Users'],
  ['virtual-lines', 'Virtual lines'],
  ['features', 'Features'],
  ['providers', 'Providers'],
  ['trunks', 'Trunks'],
  ['calls', 'Live calls'],
  ['recordings', 'Recordings'],
] as const;
type Screen = (typeof SCREENS)[number][0];

const screenOf = (hash: string): Screen => {
  const name = hash.replace(/^#\/?/, '');
  return (SCREENS.find(([s]) => s === name)?.[0] ?? 'recording') as Screen;
};

function Login({ onDone }: { onDone: (csrf: string | null) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ csrfToken: string | null }>('POST', '/console/session', { token });
      onDone(r.csrfToken);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  return (
    <main class="login">
      <h1>Recording B2BUA console</h1>
      <form onSubmit={submit}>
        <TextField label="Admin token" name="token" type="password" value={token} onInput={setToken} required errors={error ? { token: error } : {}} hint="The admin API's bearer token (admin.token)." />
        <button type="submit">Log in</button>
      </form>
    </main>
  );
}

function Shell({ auth, onLogout }: { auth: 'none' | 'session'; onLogout: () => void }) {
  const [screen, setScreen] = useState<Screen>(screenOf(location.hash));
  const orgs = useLoad(() => api<Organisation[]>('GET', '/v1/orgs'), []);
  const [orgId, setOrgId] = useState<string>('');
  useEffect(() => {
    const on = () => setScreen(screenOf(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    if (!orgId && orgs.data?.[0]) setOrgId(orgs.data[0].id);
  }, [orgs.data]);
  const title = SCREENS.find(([s]) => s === screen)![1];
  useEffect(() => {
    document.title = `${title} · Recording B2BUA console`;
  }, [title]);
  return (
    <>
      <header class="top">
        <span class="brand">Recording B2BUA</span>
        <label class="org">
          Organisation{' '}
          <select value={orgId} onChange={(e) => setOrgId((e.target as HTMLSelectElement).value)}>
            {(orgs.data ?? []).map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        {auth === 'session' && (
          <button type="button" class="link" onClick={onLogout}>
            Log out
          </button>
        )}
      </header>
      <nav aria-label="Screens">
        <ul>
          {SCREENS.map(([s, label]) => (
            <li key={s}>
              <a href={`#/${s}`} aria-current={s === screen ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <h1>{title}</h1>
        {orgs.error && <p class="form-error">{orgs.error}</p>}
        {orgId || screen === 'calls' || screen === 'recordings' ? <Body screen={screen} orgId={orgId} /> : <p>No organisation yet: create one through the API or a provisioning file.</p>}
      </main>
    </>
  );
}

function Body({ screen, orgId }: { screen: Screen; orgId: string }) {
  switch (screen) {
    case 'recording':
      return <OrgRecording key={orgId} orgId={orgId} />;
    case 'locations':
      return <Locations key={orgId} orgId={orgId} />;
    case 'users':
      return <People key={`u-${orgId}`} orgId={orgId} kind="users" />;
    case 'virtual-lines':
      return <People key={`v-${orgId}`} orgId={orgId} kind="virtual-lines" />;
    case 'features':
      return <Features key={orgId} orgId={orgId} />;
    case 'providers':
      return <Providers key={orgId} orgId={orgId} />;
    case 'trunks':
      return <Trunks key={orgId} orgId={orgId} />;
    case 'calls':
      return <LiveCalls />;
    case 'recordings':
      return <Recordings orgId={orgId} />;
  }
}

function App() {
  const [state, setState] = useState<{ phase: 'checking' } | { phase: 'login' } | { phase: 'in'; auth: 'none' | 'session' }>({ phase: 'checking' });
  const loggedIn = (auth: 'none' | 'session', csrf: string | null) => {
    setSession(csrf, () => setState({ phase: 'login' }));
    setState({ phase: 'in', auth });
  };
  useEffect(() => {
    api<{ auth: 'none' | 'session'; csrfToken: string | null }>('GET', '/console/session').then(
      (s) => loggedIn(s.auth, s.csrfToken),
      () => setState({ phase: 'login' }),
    );
  }, []);
  if (state.phase === 'checking') return <p>Loading…</p>;
  if (state.phase === 'login') return <Login onDone={(csrf) => loggedIn(csrf ? 'session' : 'none', csrf)} />;
  const auth = state.auth;
  const logout = async () => {
    await api('DELETE', '/console/session').catch(() => undefined);
    setState({ phase: 'login' });
  };
  return <Shell auth={auth} onLogout={logout} />;
}

render(<App />, document.getElementById('app')!);
