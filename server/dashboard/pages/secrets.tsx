// `/secrets` (the server's secrets, for every repo) and `/repos/:repo/secrets` (a repo's): a
// write-only page for an admin session. It lists names, scopes and when each was set, never a
// value (the server cannot show one: values are sealed, and no view carries them); a form sets
// one (a new value replaces the old, scopes included) and a button deletes one.
import type { SecretInfo } from '../../store/index.js';
import { ActionButton, ago, type Viewer } from '../layout.js';
import type { Page } from './page.js';

const scope = (list: readonly string[] | null) => (list === null ? <span class="muted">any</span> : <code>{list.join(', ')}</code>);

/** A secret's scopes and when it was set, as table cells: here and on the repo page alike. */
export function ScopeCells({ secret, nowMs }: { secret: SecretInfo; nowMs: number }) {
  return (
    <>
      <td>{scope(secret.branches)}</td>
      <td>{scope(secret.events)}</td>
      <td>{scope(secret.environments)}</td>
      <td class="muted">{ago(secret.updatedAt, nowMs)}</td>
    </>
  );
}

/** What a refused form keeps (never the value): from the query of the page it came back to. */
export interface SecretFormValues {
  name: string;
  branches: string;
  events: string;
  environments: string;
}

export interface SecretsTarget {
  /** null: the server's secrets. */
  repo: string | null;
  /** The target's own secrets (deletable here). */
  own: SecretInfo[];
  /** For a repo: the server's secrets its jobs may also name (a repo's of the same name wins). */
  inherited: SecretInfo[];
}

export function secretsPage(target: SecretsTarget, viewer: Viewer, nowMs: number, error: string | null, entered: SecretFormValues | null): Page {
  const base = target.repo === null ? '/secrets' : `/repos/${encodeURIComponent(target.repo)}/secrets`;
  const own = new Set(target.own.map((s) => s.name));
  return {
    title: target.repo === null ? 'Server secrets' : `Secrets · ${target.repo}`,
    body: (
      <>
        <h1>
          {target.repo === null ? 'Server secrets' : <><a href={`/repos/${encodeURIComponent(target.repo)}`}>{target.repo}</a> · secrets</>}
        </h1>
        <p class="muted">
          {target.repo === null
            ? 'Given to the jobs of every repo that name them (secrets: [NAME]); a repo\'s secret of the same name wins. '
            : 'Given to this repo\'s jobs that name them (secrets: [NAME]), as $NAME. '}
          Values are write-only: sealed at rest, masked in logs, never shown here or by the API.
        </p>
        {error ? <p class="error-box" data-secret-error>{error}</p> : null}
        {target.own.length === 0 ? <p class="muted" data-no-secrets>No secrets yet.</p> : (
          <table data-secrets-table>
            <thead><tr><th>name</th><th>branches</th><th>events</th><th>environments</th><th>updated</th><th></th></tr></thead>
            <tbody>
              {target.own.map((s) => (
                <tr data-secret={s.name}>
                  <td><code>{s.name}</code></td>
                  <ScopeCells secret={s} nowMs={nowMs} />
                  <td><ActionButton viewer={viewer} need={target.repo === null ? 'admin' : 'maintain'} repo={target.repo} action={`${base}/${encodeURIComponent(s.name)}/delete`} label="Delete" kind="danger" /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Set a secret</h2>
        <form method="post" action={base} class="secret-form" data-secret-form autocomplete="off">
          <input type="hidden" name="csrf" value={viewer.csrf ?? ''} />
          <label>name <input name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" value={entered?.name ?? ''} /></label>
          <label>value <input name="value" type="password" required autocomplete="new-password" /></label>
          <label>branches <input name="branches" placeholder="any (e.g. main, release/*)" value={entered?.branches ?? ''} /></label>
          <label>events <input name="events" placeholder="any (push, tag, pull_request, cron, manual, api)" value={entered?.events ?? ''} /></label>
          <label>environments <input name="environments" placeholder="any (e.g. production)" value={entered?.environments ?? ''} /></label>
          <button type="submit" class="primary">Set secret</button>
        </form>
        {target.repo !== null ? (
          <>
            <h2>From the server</h2>
            {target.inherited.length === 0 ? <p class="muted">No server secrets. <a href="/secrets">Server secrets</a></p> : (
              <table data-inherited-secrets>
                <thead><tr><th>name</th><th>branches</th><th>events</th><th>environments</th><th>updated</th></tr></thead>
                <tbody>
                  {target.inherited.map((s) => (
                    <tr data-secret={`server:${s.name}`}>
                      <td><code>{s.name}</code>{own.has(s.name) ? <span class="muted"> (this repo's wins)</span> : null}</td>
                      <ScopeCells secret={s} nowMs={nowMs} />
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        ) : null}
      </>
    ),
  };
}
