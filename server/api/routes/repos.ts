// `/api/repos`: listing and registering repos, and their runs (list, start one). Their secrets: routes/secrets.ts.
import { Hono } from 'hono';
import { badInput } from '../../../shared/errors.js';
import { parseDuration } from '../../../shared/pipeline/duration.js';
import type { RepoSettingsInput } from '../../store/repos.js';
import { onlyAttempt } from '../../store/index.js';
import type { Bodies } from '../bodies.js';
import { param, readJson, repoNamed, type ApiOptions } from '../http.js';
import { nameOf, repoParam } from '../../access/index.js';
import { notificationView, repoView, runDetailView, runView } from '../views.js';

/** Polling more often than this only loads the remote. */
const MIN_POLL_MS = 1000;

/** The API's snake_case settings as the store takes them (undefined: unchanged, null: cleared). */
function settingsOf(body: Partial<Bodies['repoSettings']>): RepoSettingsInput {
  const out: RepoSettingsInput = {};
  if (body.poll !== undefined) {
    const ms = body.poll === null ? null : parseDuration(body.poll);
    if (ms !== null && ms! < MIN_POLL_MS) throw badInput(`poll: at least ${MIN_POLL_MS / 1000}s`);
    out.pollMs = ms;
  }
  if (body.webhook_secret !== undefined) out.webhookSecret = body.webhook_secret;
  if (body.webhook !== undefined) out.webhookInsecure = body.webhook.insecure;
  if (body.credentials !== undefined) {
    const c = body.credentials;
    out.credentials = c === null ? null : 'token' in c ? { kind: 'token', token: c.token, username: c.username ?? null } : { kind: 'ssh_key', sshKey: c.ssh_key };
  }
  if (body.forge !== undefined) out.forge = body.forge === null ? null : { kind: body.forge.kind, apiUrl: body.forge.api_url, token: body.forge.token };
  if (body.cancel_superseded !== undefined) out.cancelSuperseded = body.cancel_superseded;
  return out;
}

export function createRepoRoutes({ store, service, access }: ApiOptions): Hono {
  const app = new Hono();
  const { guard } = access;

  app.get('/api/repos', guard('read'), (c) => c.json(store.repos.listRepos().map((r) => repoView(r, store.runs.listLastRunsByBranch(r.id)))));
  app.post('/api/repos', guard('admin'), async (c) => {
    const body = await readJson(c, 'repo');
    const repo = await service.registerRepo('path' in body
      ? { name: body.name, path: body.path, ...settingsOf({ cancel_superseded: body.cancel_superseded }) }
      : { name: body.name, url: body.url, ...settingsOf(body) });
    return c.json(repoView(repo, []), 201);
  });
  app.get('/api/repos/:repo', guard('read', repoParam), (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    return c.json(repoView(repo, store.runs.listLastRunsByBranch(repo.id)));
  });
  app.patch('/api/repos/:repo', guard('maintain', repoParam), async (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    const body = await readJson(c, 'repoSettings');
    const settings = settingsOf(body);
    const remoteOnly = Object.keys(body).filter((key) => key !== 'cancel_superseded');
    if (repo.url === null && remoteOnly.length > 0) throw badInput(`repo ${repo.name} is a folder on this server; poll, webhook, credentials and forge are for remote repos`);
    const updated = service.updateRepo(repo.id, settings);
    return c.json(repoView(updated, store.runs.listLastRunsByBranch(updated.id)));
  });
  app.get('/api/repos/:repo/runs', guard('read', repoParam), (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 500);
    const before = c.req.query('before') ? Number(c.req.query('before')) : undefined;
    return c.json(store.runs.listRuns(repo.id, { limit, ...(before ? { before } : {}) }).map(runView));
  });
  // Who may read the repo's runs may read how their notifications went (targets show only their origin).
  app.get('/api/repos/:repo/notifications', guard('read', repoParam), (c) => {
    const repo = repoNamed(store, param(c, 'repo'));
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 500);
    return c.json(store.notifications.listRecent(repo.id, limit).map(notificationView));
  });
  app.post('/api/repos/:repo/runs', guard('run', repoParam), async (c) => {
    const body = await readJson(c, 'run');
    const run = await service.triggerRun(param(c, 'repo'), { ...body, event: 'api', triggeredBy: nameOf(access.principalOf(c)) });
    return c.json(runDetailView(run, [onlyAttempt(run)]), 201); // a new run: its one attempt
  });

  return app;
}
