// The secrets page and its forms (admins only): set or delete a repo's or the server's secret.
// Values go into the store as through PUT /api/…/secrets/:name and are never read back.
import { Hono, type Context } from 'hono';
import { KilnError, notFound } from '../../../shared/errors.js';
import { RUN_EVENTS, type RunEvent, type SecretScopes, type Store } from '../../store/index.js';
import { crossSite, type DashboardAuth } from '../auth.js';
import { notFoundPage, type Render } from '../render.js';
import { secretsPage } from '../pages/secrets.js';
import { sameToken } from '../session.js';

type Form = Record<string, unknown>;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const list = (value: unknown): string[] | null => {
  const items = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
  return items.length ? items : null;
};
function scopesOf(form: Form): SecretScopes {
  const events = list(form.events);
  const unknown = events?.find((e) => !(RUN_EVENTS as readonly string[]).includes(e));
  if (unknown !== undefined) throw new KilnError('bad_input', `unknown event "${unknown}": one of ${RUN_EVENTS.join(', ')}`);
  return { branches: list(form.branches), events: events as RunEvent[] | null, environments: list(form.environments) };
}

function nameAndValue(form: Form): { name: string; value: string } {
  const name = typeof form.name === 'string' ? form.name.trim() : '';
  if (!NAME.test(name)) throw new KilnError('bad_input', 'a secret name is letters, digits and _');
  if (typeof form.value !== 'string' || form.value === '') throw new KilnError('bad_input', `secret ${name}: the value is empty`);
  return { name, value: form.value };
}

export function createSecretPageRoutes({ store, auth, render, now }: { store: Store; auth: DashboardAuth; render: Render; now: () => number }): Hono {
  const app = new Hono();
  const isAdmin = (c: Context) => auth.sessionOf(c)?.kind === 'admin';
  const pageOf = (c: Context) => `/repos/${encodeURIComponent(c.req.param('repo') ?? c.req.query('repo') ?? '')}/secrets`;

  app.get('/repos/:repo/secrets', (c) => {
    if (!isAdmin(c)) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
    const repo = store.repos.getRepoByName(c.req.param('repo'));
    if (!repo) return render(c, notFoundPage(`no repo named ${c.req.param('repo')}`));
    return render(c, secretsPage(repo, store.secrets.listSecrets(repo.id), store.secrets.listServerSecrets(), auth.viewerOf(c), now(), c.req.query('error') ?? null));
  });

  const action = (handler: (c: Context, form: Form) => void) => async (c: Context) => {
    if (crossSite(c)) return c.text('cross-site request refused', 403);
    const session = auth.sessionOf(c);
    if (!session || session.kind !== 'admin') return c.redirect(`/login?next=${encodeURIComponent(pageOf(c))}`, 303);
    const form = await c.req.parseBody();
    if (!sameToken(session.csrf, form.csrf)) return c.text('missing or wrong CSRF token', 403);
    try {
      handler(c, form);
      return c.redirect(pageOf(c), 303);
    } catch (error) {
      if (!(error instanceof KilnError) || error.code === 'internal') throw error;
      return c.redirect(`${pageOf(c)}?error=${encodeURIComponent(error.message.split('\n')[0]!)}`, 303);
    }
  };
  const repoOf = (c: Context) => {
    const repo = store.repos.getRepoByName(c.req.param('repo') ?? '');
    if (!repo) throw notFound(`no repo named ${c.req.param('repo')}`);
    return repo;
  };
  app.post('/repos/:repo/secrets', action((c, form) => {
    const { name, value } = nameAndValue(form);
    store.secrets.setSecret(repoOf(c).id, name, value, scopesOf(form));
  }));
  app.post('/repos/:repo/secrets/:name/delete', action((c) => {
    if (!store.secrets.deleteSecret(repoOf(c).id, c.req.param('name') ?? '')) throw notFound(`no secret ${c.req.param('name')}`);
  }));
  app.post('/secrets', action((_c, form) => {
    const { name, value } = nameAndValue(form);
    store.secrets.setServerSecret(name, value, scopesOf(form));
  }));
  app.post('/secrets/:name/delete', action((c) => {
    if (!store.secrets.deleteServerSecret(c.req.param('name') ?? '')) throw notFound(`no server secret ${c.req.param('name')}`);
  }));
  return app;
}
