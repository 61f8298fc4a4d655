// The dashboard's buttons: cancel, re-run (the run, its failed jobs, one job), approve, run a branch (with inputs), set and delete secrets. Each needs a session and its
// CSRF token, from this site; it answers 303 to a page (with ?error=<one line> when refused).
import { Hono, type Context } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import type { KilnService } from '../../service.js';
import type { Store } from '../../store/index.js';
import { checkBody } from '../../api/http.js';
import { looksRemote } from '../../git/remote-url.js';
import { checkSecretName, scopesOf } from '../../api/routes/secrets.js';
import { crossSite, type DashboardAuth } from '../auth.js';
import { formInputs, INPUT_FIELD } from '../pages/run-form.js';
import { positiveId } from '../render.js';
import { sameToken } from '../session.js';
import { nameOf, repoFinders, type Need, type RepoOf } from '../../access/index.js';

type Form = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const secretsBase = (c: Context) => (c.req.param('repo') === undefined ? '/secrets' : `/repos/${encodeURIComponent(c.req.param('repo')!)}/secrets`);

export function createActionRoutes({ store, service, auth }: { store: Store; service: KilnService; auth: DashboardAuth }): Hono {
  const app = new Hono();
  const of = repoFinders(store);
  /** Each button's handler, after the session, its CSRF token and the role `need` asks for (on the repo `repoOf` names). */
  const action = (handler: (c: Context, form: Form) => Promise<string> | string, back: (c: Context, form?: Form) => string, need?: [Need, RepoOf]) =>
    async (c: Context) => {
      const session = auth.sessionOf(c);
      if (crossSite(c)) return c.text('cross-site request refused', 403);
      if (!session) return c.redirect(`/login?next=${encodeURIComponent(back(c))}`, 303);
      const form = await c.req.parseBody();
      if (!sameToken(session.csrf, form.csrf)) return c.text('missing or wrong CSRF token', 403);
      try {
        if (need && !auth.may(c, need[0], need[1](c))) {
          throw new KilnError('forbidden', `${nameOf(auth.access.principalOf(c))} may not do this: it needs the ${need[0] === 'run' ? 'developer' : need[0] === 'maintain' ? 'maintainer' : 'admin'} role`);
        }
        return c.redirect(await handler(c, form), 303);
      } catch (error) {
        if (!(error instanceof KilnError) || error.code === 'internal') throw error;
        const to = back(c, form);
        return c.redirect(`${to}${to.includes('?') ? '&' : '?'}error=${encodeURIComponent(error.message.split('\n')[0]!)}`, 303);
      }
    };
  const idParam = (c: Context) => {
    const id = positiveId(c.req.param('id'));
    if (id === null) throw new KilnError('bad_input', 'the id must be a positive integer');
    return id;
  };

  // Secrets (write-only; an admin session only): set replaces value and scopes, delete removes.
  const secretsOf = (c: Context) => {
    const repoName = c.req.param('repo');
    if (!auth.may(c, repoName === undefined ? 'admin' : 'maintain', repoName ?? null)) {
      throw new KilnError('forbidden', repoName === undefined ? 'only a server admin may change the server\'s secrets' : `only a maintainer of ${repoName} may change its secrets`);
    }
    if (repoName === undefined) return { repoId: null, base: '/secrets' };
    const repo = store.repos.getRepoByName(repoName);
    if (!repo) throw new KilnError('not_found', `no repo named ${repoName}`);
    return { repoId: repo.id, base: `/repos/${encodeURIComponent(repo.name)}/secrets` };
  };
  const setSecret = action(async (c, form) => {
    const { repoId, base } = secretsOf(c);
    const name = checkSecretName(text(form.name));
    const list = (key: string) => {
      const items = text(form[key]).split(',').map((v) => v.trim()).filter((v) => v !== '');
      return items.length === 0 ? {} : { [key]: items };
    };
    const body = await checkBody(repoId === null ? 'serverSecret' : 'secret', { value: text(form.value), ...list('branches'), ...list('events'), ...list('environments') });
    if (repoId === null) store.secrets.setServerSecret(name, body.value, scopesOf(body));
    else store.secrets.setSecret(repoId, name, body.value, scopesOf(body));
    return base;
  }, (c, form) => {
    // Back to the form with what was entered, never the value.
    const keep = new URLSearchParams(['name', 'branches', 'events', 'environments'].map((k): [string, string] => [k, text(form?.[k])]));
    return `${secretsBase(c)}?${keep}`;
  });
  const deleteSecret = action((c) => {
    const { repoId, base } = secretsOf(c);
    const name = c.req.param('name') ?? '';
    const gone = repoId === null ? store.secrets.deleteServerSecret(name) : store.secrets.deleteSecret(repoId, name);
    if (!gone) throw new KilnError('not_found', `no secret ${name}`);
    return base;
  }, (c) => secretsBase(c));
  app.post('/secrets', setSecret);
  app.post('/secrets/:name/delete', deleteSecret);
  app.post('/repos/:repo/secrets', setSecret);
  app.post('/repos/:repo/secrets/:name/delete', deleteSecret);

  // A repo from the home page's form: a URL (https://, http://, ssh://, user@host:path) is a
  // remote, anything else a folder on this server; checked by the API's own body schema.
  app.post('/repos', action(async (c, form) => {
    if (!auth.may(c, 'admin')) throw new KilnError('forbidden', 'only a server admin may add repos');
    const name = text(form.name).trim();
    const source = text(form.source).trim();
    const body = await checkBody('repo', looksRemote(source) ? { name, url: source } : { name, path: source });
    const repo = await service.registerRepo('path' in body ? { name: body.name, path: body.path } : { name: body.name, url: body.url });
    return `/repos/${encodeURIComponent(repo.name)}?registered=1`;
  }, (_c, form) => `/?${new URLSearchParams({ name: text(form?.name), source: text(form?.source) })}`));

  app.post('/runs/:id/cancel', action((c) => `/runs/${service.cancelRun(idParam(c)).id}`, (c) => `/runs/${c.req.param('id')}`, ['run', of.run]));
  app.post('/runs/:id/rerun', action((c, form) => `/runs/${service.rerun(idParam(c), form.failed_only === '1').id}`, (c) => `/runs/${c.req.param('id')}`, ['run', of.run]));
  app.post('/jobs/:id/retry', action((c) => `/runs/${service.retryJob(idParam(c)).id}`, (c) => {
    const job = store.jobs.getJob(positiveId(c.req.param('id')) ?? 0);
    return job ? `/runs/${job.runId}` : '/';
  }, ['run', of.job]));
  app.post('/jobs/:id/approve', action((c) => `/runs/${service.approveJob(idParam(c), auth.access.principalOf(c)).runId}`, (c) => {
    const job = store.jobs.getJob(positiveId(c.req.param('id')) ?? 0);
    return job ? `/runs/${job.runId}` : '/queue';
  }));
  app.post('/repos/:repo/run', action(async (c, form) => {
    const branch = typeof form.branch === 'string' ? form.branch.trim() : '';
    const inputs = formInputs(form);
    const run = await service.triggerRun(c.req.param('repo') ?? '', { ...(branch ? { ref: branch } : {}), ...(Object.keys(inputs).length ? { inputs } : {}), event: 'manual', triggeredBy: nameOf(auth.access.principalOf(c)) });
    return `/runs/${run.id}`;
  }, (c, form) => {
    // A refused run goes back to the form with what was entered, to fix rather than retype.
    const entered = new URLSearchParams(form ? { branch: typeof form.branch === 'string' ? form.branch : '', ...Object.fromEntries(Object.entries(formInputs(form)).map(([k, v]) => [`${INPUT_FIELD}${k}`, v])) } : {});
    return `/repos/${encodeURIComponent(c.req.param('repo') ?? '')}${form ? `?${entered}` : ''}`;
  }, ['run', (c) => c.req.param('repo') ?? null]));
  return app;
}
