// `/api/repos`: listing and registering repos, their runs (list, start one) and their secrets.
import { Hono } from 'hono';
import { KilnError } from '../../../shared/errors.js';
import { param, readJson, repoNamed, requireAdmin, type ApiOptions } from '../http.js';
import { repoView, runDetailView, runView } from '../views.js';

export function createRepoRoutes({ store, service, tokenKind }: ApiOptions): Hono {
  const app = new Hono();
  const admin = requireAdmin(tokenKind);

  app.get('/api/repos', (c) => c.json(store.repos.listRepos().map((r) => repoView(r, store.runs.listLastRunsByBranch(r.id)))));
  app.post('/api/repos', admin, async (c) => {
    const body = await readJson(c, 'repo');
    const repo = await service.registerRepo(body);
    return c.json(repoView(repo, []), 201);
  });
  app.get('/api/repos/:repo/runs', (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 500);
    const before = c.req.query('before') ? Number(c.req.query('before')) : undefined;
    return c.json(store.runs.listRuns(repo.id, { limit, ...(before ? { before } : {}) }).map(runView));
  });
  app.post('/api/repos/:repo/runs', admin, async (c) => {
    const body = await readJson(c, 'run');
    const run = await service.triggerRun(param(c, 'repo'), { ...body, event: 'api' });
    return c.json(runDetailView(run), 201);
  });

  app.put('/api/repos/:repo/secrets/:name', admin, async (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    const name = param(c, 'name');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new KilnError('bad_input', 'a secret name is letters, digits and _');
    store.secrets.setSecret(repo.id, name, (await readJson(c, 'secret')).value);
    return c.json({ name }, 200);
  });
  app.delete('/api/repos/:repo/secrets/:name', admin, (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    if (!store.secrets.deleteSecret(repo.id, param(c, 'name'))) throw new KilnError('not_found', `no secret ${param(c, 'name')}`);
    return c.body(null, 204);
  });
  app.get('/api/repos/:repo/secrets', admin, (c) => c.json(store.secrets.listSecretNames(repoNamed(store, param(c, 'repo')).id)));
  return app;
}
