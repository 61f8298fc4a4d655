// `GET /badge/:repo.svg?branch=&event=`: the status badge of a branch's last run (the default
// branch's without ?branch=). Only push and tag runs count unless ?event= names others
// (comma-separated): a nightly cron run of one job must not turn the badge passing while the
// last push failed. Tag runs belong to no branch: `?event=tag` alone shows the repo's last tag run.
import { Hono } from 'hono';
import { RUN_EVENTS, type RunEvent, type Store } from '../../store/index.js';
import type { DashboardAuth } from '../auth.js';
import { badgeSvg } from '../badge.js';

const DEFAULT_EVENTS: readonly RunEvent[] = ['push', 'tag'];

/** The events ?event= names, the default when absent; null when it names one kiln does not have. */
function eventsOf(query: string | undefined): readonly RunEvent[] | null {
  if (!query) return DEFAULT_EVENTS;
  const names = query.split(',').map((e) => e.trim()).filter(Boolean);
  return names.length > 0 && names.every((e) => (RUN_EVENTS as readonly string[]).includes(e)) ? (names as RunEvent[]) : null;
}

export function createBadgeRoutes({ store, auth }: { store: Store; auth: DashboardAuth }): Hono {
  const app = new Hono();
  app.get('/badge/*', auth.readGuard);
  app.get('/badge/:file', (c) => {
    const file = c.req.param('file');
    if (!file.endsWith('.svg')) return c.text('not found', 404);
    const repo = store.repos.getRepoByName(file.slice(0, -4));
    const headers = { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-cache' };
    if (!repo) return c.body(badgeSvg(null), 404, headers);
    const events = eventsOf(c.req.query('event'));
    if (events === null) return c.text(`unknown event in ?event=${c.req.query('event')}: one of ${RUN_EVENTS.join(', ')}`, 400);
    const onlyTags = events.length === 1 && events[0] === 'tag';
    const branch = onlyTags ? null : c.req.query('branch') || repo.defaultBranch;
    const last = store.runs.lastRunOf(repo.id, branch, events);
    return c.body(badgeSvg(last?.status ?? null), 200, headers);
  });
  return app;
}
