// The status badge on a real store through the dashboard's routes: by default the last push or
// tag run of the branch, so a later cron (or manual) run does not change it; ?event= picks others.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createDashboard } from '../../server/dashboard/index.js';
import type { KilnService } from '../../server/service.js';
import type { RunEvent } from '../../server/store/index.js';
import { T0, newRun, seeded } from './store/fixtures.js';
import { testAccess } from '../helpers/access.js';

function setup() {
  const ctx = seeded();
  const dashboard = createDashboard({ store: ctx.store, service: {} as KilnService, logger: pino({ level: 'silent' }), access: testAccess(ctx.store, { private: false }) });
  const badge = async (query = '') => {
    const response = await dashboard.app.request(`/badge/web.svg${query}`);
    const text = await response.text();
    return { status: response.status, word: /aria-label="build: ([^"]+)"/.exec(text)?.[1] ?? text };
  };
  /** A run of `event` on `branch` that ends as `status` (success or failed, through a real lease). */
  const finished = (event: RunEvent, status: 'success' | 'failed', branch = 'main') => {
    ctx.store.runs.createRun(newRun(ctx.repo.id, { event, branch, ref: `refs/heads/${branch}` }));
    const claimed = ctx.store.leases.claimNextJob(ctx.agents[0]!.id, [], T0, 30_000)!;
    ctx.store.leases.completeJob(claimed.job.id, claimed.token, { status, exitCode: status === 'success' ? 0 : 1 }, T0 + 1);
  };
  return { ...ctx, badge, finished };
}

describe('the badge', () => {
  it('shows the last push of the branch, not a later cron or manual run; ?event= picks those', async () => {
    const s = setup();
    expect(await s.badge()).toEqual({ status: 200, word: 'unknown' });
    s.finished('push', 'failed');
    s.finished('cron', 'success');
    s.finished('manual', 'success');
    expect(await s.badge()).toEqual({ status: 200, word: 'failing' });
    expect(await s.badge('?event=cron')).toEqual({ status: 200, word: 'passing' });
    expect(await s.badge('?event=push,cron')).toEqual({ status: 200, word: 'passing' });
    s.finished('push', 'success', 'other');
    expect(await s.badge()).toEqual({ status: 200, word: 'failing' });
    expect(await s.badge('?branch=other')).toEqual({ status: 200, word: 'passing' });
    expect(await s.badge('?branch=other&event=cron')).toEqual({ status: 200, word: 'unknown' });
  });

  it('shows the last tag run for ?event=tag (tag runs are on no branch)', async () => {
    const s = setup();
    s.store.runs.createRun(newRun(s.repo.id, { event: 'tag', branch: null, tag: 'v1.0', ref: 'refs/tags/v1.0' }));
    const claimed = s.store.leases.claimNextJob(s.agents[0]!.id, [], T0, 30_000)!;
    s.store.leases.completeJob(claimed.job.id, claimed.token, { status: 'success', exitCode: 0 }, T0 + 1);
    s.finished('push', 'failed');
    expect(await s.badge('?event=tag')).toEqual({ status: 200, word: 'passing' });
    expect(await s.badge()).toEqual({ status: 200, word: 'failing' });
  });

  it('answers 400 naming the events for an unknown ?event=', async () => {
    const s = setup();
    const response = await s.badge('?event=nightly');
    expect(response).toEqual({ status: 400, word: 'unknown event in ?event=nightly: one of push, tag, pull_request, cron, manual, api' });
  });
});
