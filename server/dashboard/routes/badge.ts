// `GET /badge/:repo.svg?branch=`: the status badge of a branch's last run (the default branch's without ?branch=).
import { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import type { DashboardAuth } from '../auth.js';
import { badgeSvg } from '../badge.js';

export function createBadgeRoutes({ store, auth }: { store: Store; auth: DashboardAuth }): Hono {
  const app = new Hono();
  app.get('/badge/*', auth.readGuard);
  app.get('/badge/:file', (c) => {
    const file = c.req.param('file');
    if (!file.endsWith('.svg')) return c.text('not found', 404);
    const repo = store.repos.getRepoByName(file.slice(0, -4));
    const headers = { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-cache' };
    if (!repo) return c.body(badgeSvg(null), 404, headers);
    const branch = c.req.query('branch') || repo.defaultBranch;
    const last = store.runs.listLastRunsByBranch(repo.id).find((r) => r.branch === branch);
    return c.body(badgeSvg(last?.status ?? null), 200, headers);
  });
  return app;
}
