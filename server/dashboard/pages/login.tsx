// `/login`: a user's name and password, or a token (the admin token, or a user's own).
import type { Page } from './page.js';

export function loginPage(next: string, error: string | null, options: { sso?: boolean } = {}): Page {
  return {
    title: 'Log in',
    body: (
      <>
        <h1>Log in</h1>
        {error ? <p class="error-box" data-login-error>{error}</p> : null}
        <form method="post" action="/login" class="panel" data-login="password">
          <input type="hidden" name="next" value={next} />
          <label>
            User <input type="text" name="name" autocomplete="username" required autofocus />
          </label>{' '}
          <label>
            Password <input type="password" name="password" autocomplete="current-password" required />
          </label>{' '}
          <button type="submit" class="primary">Log in</button>
        </form>
        {options.sso ? <p><a class="sso" href={`/auth/oidc/login?next=${encodeURIComponent(next)}`}>Sign in with SSO</a></p> : null}
        <details>
          <summary>Log in with a token</summary>
          <form method="post" action="/login" class="panel" data-login="token">
            <input type="hidden" name="next" value={next} />
            <label>
              Token <input type="password" name="token" autocomplete="off" required />
            </label>{' '}
            <button type="submit">Log in</button>
          </form>
          <p class="muted">The admin token is in <code>&lt;data&gt;/admin.token</code>, or set by <code>KILN_ADMIN_TOKEN</code>; a user's token (<code>kiln_…</code>) of scope admin works too.</p>
        </details>
      </>
    ),
  };
}
