// `/login`: a user's name and password, "Sign in with SSO" when single sign-on is configured, or a token.
import type { Page } from './page.js';

/** Single sign-on on the login page: none (not configured), or whether its issuer answers. */
export type SsoState = 'available' | 'unavailable' | null;

export function loginPage(next: string, error: string | null, sso: SsoState = null): Page {
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
        {sso === 'available' ? (
          <p class="panel"><a class="button" href={`/auth/oidc/login?next=${encodeURIComponent(next)}`}>Sign in with SSO</a></p>
        ) : sso === 'unavailable' ? (
          <p class="panel muted">Single sign-on is unavailable: the identity provider does not answer. Log in with a password or a token, or try again later.</p>
        ) : null}
        <h2>Or with a token</h2>
        <form method="post" action="/login" class="panel" data-login="token">
          <input type="hidden" name="next" value={next} />
          <label>
            Token <input type="password" name="token" autocomplete="off" required />
          </label>{' '}
          <button type="submit">Log in with the token</button>
        </form>
        <p class="muted">The admin token is in <code>&lt;data&gt;/admin.token</code>, or set by <code>KILN_ADMIN_TOKEN</code>; a user's token (<code>kiln_…</code>) of scope admin works too.</p>
      </>
    ),
  };
}
