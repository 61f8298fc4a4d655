// `/tokens`: a signed-in user's own API tokens. It lists them (name, scope, repos, created,
// expires, last used) with a Revoke button each, and a form makes one; the new token's secret
// is on the answer to that form only, once (the server keeps its SHA-256).
import type { UserToken } from '../../store/index.js';
import { ago, type Viewer } from '../layout.js';
import type { Page } from './page.js';

/** What the page shows the user; `created`: the token just made, with its secret (shown once). */
export interface TokensView {
  user: string;
  tokens: UserToken[];
  created: { token: UserToken; secret: string } | null;
}

const LIVES: Array<[string, string]> = [['7d', '7 days'], ['30d', '30 days'], ['90d', '90 days'], ['365d', '1 year'], ['never', 'never']];

const when = (iso: string | null, nowMs: number, none: string) => (iso === null ? <span class="muted">{none}</span> : new Date(iso).toISOString().slice(0, 16).replace('T', ' '));

export function tokensPage(view: TokensView, viewer: Viewer, nowMs: number, error: string | null): Page {
  return {
    title: 'Tokens',
    ...(error ? { status: 400 as const } : {}),
    body: (
      <>
        <h1>API tokens of {view.user}</h1>
        <p class="muted">
          For scripts and the <code>kiln</code> command (<code>KILN_TOKEN</code>, or <code>Authorization: Bearer</code>). A token's
          scope caps your roles: read as a viewer, run as a developer, admin as yourself; repos limit it further.
        </p>
        {view.created ? (
          <div class="panel" data-new-token>
            <p>{`Token ${view.created.token.name} made. Copy it now: it is not shown again.`}</p>
            <pre><code data-token-secret>{view.created.secret}</code></pre>
          </div>
        ) : null}
        {error ? <p class="error-box" data-token-error>{error}</p> : null}
        {view.tokens.length === 0 ? <p class="muted" data-no-tokens>No tokens yet.</p> : (
          <table data-tokens>
            <thead><tr><th>name</th><th>scope</th><th>repos</th><th>created (UTC)</th><th>expires</th><th>last used</th><th></th></tr></thead>
            <tbody>
              {view.tokens.map((t) => (
                <tr data-token={t.name}>
                  <td><code>{t.name}</code></td>
                  <td>{t.scope}</td>
                  <td>{t.repos === null ? <span class="muted">all</span> : t.repos.join(', ')}</td>
                  <td>{when(t.createdAt, nowMs, '')}</td>
                  <td>{when(t.expiresAt, nowMs, 'never')}</td>
                  <td>{t.lastUsedAt === null ? <span class="muted">never</span> : ago(t.lastUsedAt, nowMs)}</td>
                  <td>
                    <form method="post" action={`/tokens/${t.id}/revoke`}>
                      <input type="hidden" name="csrf" value={viewer.csrf ?? ''} />
                      <button type="submit" class="danger">Revoke</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Make a token</h2>
        <form method="post" action="/tokens" class="secret-form" data-token-form autocomplete="off">
          <input type="hidden" name="csrf" value={viewer.csrf ?? ''} />
          <label>name <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}" placeholder="deploy-script" /></label>
          <label>scope <select name="scope">
            <option value="read">read</option>
            <option value="run" selected>run</option>
            <option value="admin">admin</option>
          </select></label>
          <label>repos <input name="repos" placeholder="all (e.g. web, api)" /></label>
          <label>expires <select name="expires">
            {LIVES.map(([value, label]) => <option value={value} selected={value === '90d'}>{label}</option>)}
          </select></label>
          <button type="submit" class="primary">Make token</button>
        </form>
      </>
    ),
  };
}
