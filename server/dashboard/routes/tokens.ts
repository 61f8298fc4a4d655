// The Tokens page's routes: `GET /tokens` lists the signed-in user's tokens, `POST /tokens` makes
// one and answers the page with its secret (once: never a redirect, so the secret is in no URL,
// and `Cache-Control: no-store`), `POST /tokens/:id/revoke` revokes one of the user's own. Each
// needs a user's session (the admin token's session has no tokens of its own) and its CSRF token.
import { Hono, type Context } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { checkBody } from '../../api/http.js';
import { issueUserToken } from '../../access/user-tokens.js';
import type { Store, User } from '../../store/index.js';
import { crossSite, type DashboardAuth } from '../auth.js';
import { tokensPage } from '../pages/tokens.js';
import { forbiddenPage, positiveId, type Render } from '../render.js';
import { sameToken } from '../session.js';

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

export function createTokenRoutes({ store, auth, render, now }: { store: Store; auth: DashboardAuth; render: Render; now: () => number }): Hono {
  const app = new Hono();
  /** The session's user, or the answer for a request without one. */
  const userOf = async (c: Context): Promise<User | Response> => {
    const session = auth.sessionOf(c);
    if (!session) return c.redirect(`/login?next=${encodeURIComponent('/tokens')}`, 303);
    const user = session.userId === null ? null : store.users.getUser(session.userId);
    return user ?? await render(c, forbiddenPage('The admin token has no tokens of its own: sign in as a user to make one.'));
  };
  const page = (c: Context, user: User, created: Parameters<typeof tokensPage>[0]['created'], error: string | null) => {
    c.header('Cache-Control', 'no-store');
    return render(c, tokensPage({ user: user.name, tokens: store.users.listTokens(user.id), created }, auth.viewerOf(c), now(), error));
  };
  /** A form's checks: same site, a user's session, its CSRF token. */
  const formOf = async (c: Context): Promise<{ user: User; form: Record<string, unknown> } | Response> => {
    if (crossSite(c)) return c.text('cross-site request refused', 403);
    const user = await userOf(c);
    if (user instanceof Response) return user;
    const form = await c.req.parseBody();
    if (!sameToken(auth.sessionOf(c)!.csrf, form.csrf)) return c.text('missing or wrong CSRF token', 403);
    return { user, form };
  };

  app.get('/tokens', async (c) => {
    const user = await userOf(c);
    return user instanceof Response ? user : page(c, user, null, c.req.query('error') ?? null);
  });
  app.post('/tokens', async (c) => {
    const checked = await formOf(c);
    if (checked instanceof Response) return checked;
    const { user, form } = checked;
    try {
      const repos = text(form.repos).split(',').map((r) => r.trim()).filter((r) => r !== '');
      const expires = text(form.expires) || '90d';
      const body = await checkBody('token', {
        name: text(form.name), scope: text(form.scope), ...(repos.length > 0 ? { repos } : {}), expires_in: expires === 'never' ? null : expires,
      });
      (c.set as (key: string, value: unknown) => void)('auditTarget', `user/${user.name}/token/${body.name}`);
      return page(c, user, issueUserToken(store, user, auth.access.principalOf(c), body, now()), null);
    } catch (error) {
      if (!(error instanceof KilnError) || error.code === 'internal') throw error;
      c.status(400);
      return page(c, user, null, error.message.split('\n')[0]!);
    }
  });
  app.post('/tokens/:id/revoke', async (c) => {
    const checked = await formOf(c);
    if (checked instanceof Response) return checked;
    const { user } = checked;
    const id = positiveId(c.req.param('id'));
    const token = id === null ? null : store.users.getToken(id);
    // Someone else's token is as unknown as a missing one.
    if (!token || token.userId !== user.id) return c.redirect(`/tokens?error=${encodeURIComponent(`no token ${c.req.param('id')}`)}`, 303);
    (c.set as (key: string, value: unknown) => void)('auditTarget', `user/${user.name}/token/${token.name}`);
    store.users.revokeToken(token.id);
    return c.redirect('/tokens', 303);
  });
  return app;
}
