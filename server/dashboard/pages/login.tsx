// `/login`: a form for the admin token, and "Sign in with SSO" when single sign-on is configured.
import type { Page } from './page.js';

/** Single sign-on on the login page: none (not configured), or whether its issuer answers. */
export type SsoState = 'available' | 'unavailable' | null;

export function loginPage(next: string, error: string | null, sso: SsoState = null): Page {
  return {
    title: 'Log in',
    body: (
      <>
        <h1>Log in</h1>
        {error ? <p class="error-box">{error}</p> : null}
        {sso === 'available' ? (
          <p class="panel"><a class="button" href={`/auth/oidc/login?next=${encodeURIComponent(next)}`}>Sign in with SSO</a></p>
        ) : sso === 'unavailable' ? (
          <p class="panel muted">Single sign-on is unavailable: the identity provider does not answer. Log in with a token below, or try again later.</p>
        ) : null}
        <form method="post" action="/login" class="panel">
          <input type="hidden" name="next" value={next} />
          <label>
            Admin token <input type="password" name="token" autocomplete="current-password" required autofocus />
          </label>{' '}
          <button type="submit" class="primary">Log in</button>
        </form>
        <p class="muted">The admin token is in <code>&lt;data&gt;/admin.token</code>, or set by <code>KILN_ADMIN_TOKEN</code>.</p>
      </>
    ),
  };
}
