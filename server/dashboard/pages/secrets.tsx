// `/repos/:repo/secrets` (admins): the repo's secrets and the server's, write only. Names,
// scopes and when each was last set; never a value. A form sets one (a new value replaces the
// old, scopes included) and a button deletes one, through the same store as /api/*secrets.
import type { Repo, SecretInfo } from '../../store/index.js';
import { ActionButton, ago, type Viewer } from '../layout.js';
import type { Page } from './page.js';

const scope = (list: readonly string[] | null) => (list === null ? <span class="muted">any</span> : <code>{list.join(', ')}</code>);

function SecretList({ secrets, viewer, deleteAt, nowMs }: { secrets: SecretInfo[]; viewer: Viewer; deleteAt: (name: string) => string; nowMs: number }) {
  if (secrets.length === 0) return <p class="muted">None yet.</p>;
  return (
    <table>
      <thead><tr><th>name</th><th>branches</th><th>events</th><th>environments</th><th>updated</th><th></th></tr></thead>
      <tbody>
        {secrets.map((s) => (
          <tr data-secret={`${s.level}:${s.name}`}>
            <td><code>{s.name}</code></td>
            <td>{scope(s.branches)}</td>
            <td>{scope(s.events)}</td>
            <td>{scope(s.environments)}</td>
            <td class="muted">{ago(s.updatedAt, nowMs)}</td>
            <td><ActionButton viewer={viewer} action={deleteAt(s.name)} label="Delete" kind="danger" /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SetForm({ viewer, action, level }: { viewer: Viewer; action: string; level: 'repo' | 'server' }) {
  return (
    <form method="post" action={action} class="secret-form" data-set-secret={level} autocomplete="off">
      <input type="hidden" name="csrf" value={viewer.csrf ?? ''} />
      <label>name <input name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" /></label>{' '}
      <label>value <input name="value" type="password" required autocomplete="new-password" /></label>{' '}
      <label>branches <input name="branches" placeholder="any" /></label>{' '}
      <label>events <input name="events" placeholder="any" /></label>{' '}
      <label>environments <input name="environments" placeholder="any" /></label>{' '}
      <button type="submit">{level === 'repo' ? 'Set repo secret' : 'Set server secret'}</button>
    </form>
  );
}

export function secretsPage(repo: Repo, own: SecretInfo[], server: SecretInfo[], viewer: Viewer, nowMs: number, error: string | null): Page {
  const name = encodeURIComponent(repo.name);
  return {
    title: `Secrets · ${repo.name}`,
    body: (
      <>
        <h1><a href={`/repos/${name}`}>{repo.name}</a> · secrets</h1>
        <p class="muted">Values are written here, never shown. Scopes are comma-separated lists; empty means any. A repo secret wins over a server secret of the same name.</p>
        {error ? <p class="error-box">{error}</p> : null}
        <h2>{`Repo secrets (${own.length})`}</h2>
        <SecretList secrets={own} viewer={viewer} deleteAt={(n) => `/repos/${name}/secrets/${encodeURIComponent(n)}/delete`} nowMs={nowMs} />
        <SetForm viewer={viewer} action={`/repos/${name}/secrets`} level="repo" />
        <h2>{`Server secrets (${server.length})`}</h2>
        <SecretList secrets={server} viewer={viewer} deleteAt={(n) => `/secrets/${encodeURIComponent(n)}/delete?repo=${name}`} nowMs={nowMs} />
        <SetForm viewer={viewer} action={`/secrets?repo=${name}`} level="server" />
      </>
    ),
  };
}
