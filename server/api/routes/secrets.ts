// Secrets through the API, at both levels: `/api/secrets/:name` (the server's, for every repo)
// and `/api/repos/:repo/secrets/:name` (a repo's, which wins over the server's of the same
// name). All need the admin token; values are written, never read back.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { KilnError, notFound } from '../../../shared/errors.js';
import type { SecretScopes } from '../../store/index.js';
import type { Bodies } from '../bodies.js';
import { param, readJson, repoNamed, type ApiOptions } from '../http.js';
import { repoParam } from '../../access/index.js';
import { secretView } from '../views.js';

const secretName = (c: Context): string => checkSecretName(param(c, 'name'));

/** The name, when it is one a step can read as $NAME; else bad_input (the API's and the dashboard's rule). */
export function checkSecretName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new KilnError('bad_input', 'a secret name is letters, digits and _');
  return name;
}

/** Absent keys: any (a PUT replaces the whole secret, scopes included). */
export const scopesOf = (body: Bodies['secret']): SecretScopes => ({
  branches: body.branches ?? null, events: body.events ?? null, environments: body.environments ?? null,
});

export function createSecretRoutes({ store, access: { guard } }: ApiOptions): Hono {
  const app = new Hono();
  // The server's secrets reach every repo: a server admin's. A repo's: its maintainers'.
  const admin = guard('admin');
  const maintain = guard('maintain', repoParam);

  app.get('/api/secrets', admin, (c) => c.json(store.secrets.listServerSecrets().map(secretView)));
  app.put('/api/secrets/:name', admin, async (c) => {
    const name = secretName(c);
    const body = await readJson(c, 'serverSecret');
    return c.json(secretView(store.secrets.setServerSecret(name, body.value, scopesOf(body))), 200);
  });
  app.delete('/api/secrets/:name', admin, (c) => {
    if (!store.secrets.deleteServerSecret(param(c, 'name'))) throw notFound(`no server secret ${param(c, 'name')}`);
    return c.body(null, 204);
  });

  app.get('/api/repos/:repo/secrets', maintain, (c) => c.json(store.secrets.listSecretNames(repoNamed(store, param(c, 'repo')).id)));
  app.get('/api/repos/:repo/secrets/:name', maintain, (c) => {
    const secret = store.secrets.getSecret(repoNamed(store, param(c, 'repo')).id, param(c, 'name'));
    if (!secret) throw notFound(`no secret ${param(c, 'name')}`);
    return c.json(secretView(secret));
  });
  app.put('/api/repos/:repo/secrets/:name', maintain, async (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    const name = secretName(c);
    const body = await readJson(c, 'secret');
    return c.json(secretView(store.secrets.setSecret(repo.id, name, body.value, scopesOf(body))), 200);
  });
  app.delete('/api/repos/:repo/secrets/:name', maintain, (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    if (!store.secrets.deleteSecret(repo.id, param(c, 'name'))) throw notFound(`no secret ${param(c, 'name')}`);
    return c.body(null, 204);
  });
  return app;
}
