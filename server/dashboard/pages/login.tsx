// `/login`: a form for the admin token.
import type { Page } from './page.js';

export function loginPage(next: string, error: string | null): Page {
  return {
    title: 'Log in',
    body: (
      <>
        <h1>Log in</h1>
        {error ? <p class="error-box">{error}</p> : null}
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
