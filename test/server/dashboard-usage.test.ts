// The cost page over HTTP on a real store with a hand-driven clock: linked from the nav and the
// pools page, guarded like every page on a private server, and showing each pool's days.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createDashboard } from '../../server/dashboard/index.js';
import type { KilnService } from '../../server/service.js';
import { testAccess } from '../helpers/access.js';
import { fakeClock, newRun, plan, plannedJob, tempStore } from './store/fixtures.js';

const MIN = 60_000;

function setup() {
  const clock = fakeClock(Date.UTC(2025, 0, 2, 9, 0));
  const { store } = tempStore(clock);
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('build', { runsOn: ['linux'] })) }));
  store.jobs.markJobReady(run.jobs[0]!.id);
  clock.advance(3 * MIN);
  const agent = store.agents.registerAgent({ name: 'p-1', labels: ['linux'], pool: 'linux', capacity: 1, protocol: 1, version: null });
  const claim = store.leases.claimNextJob(agent.id, ['linux'], clock.now(), 60 * MIN)!;
  clock.advance(10 * MIN);
  store.leases.completeJob(claim.job.id, claim.token, { status: 'success', exitCode: 0 }, clock.now());
  clock.advance(7 * MIN);
  store.agents.setAgentStatus(agent.id, 'offline');
  const service = { pools: () => [{ name: 'linux', provider: 'process', min: 0, max: 2, agents: {}, queued: 0, events: [] }] } as unknown as KilnService;
  const dashboard = createDashboard({ store, service, logger: pino({ level: 'silent' }), now: clock.now, access: testAccess(store, { private: true, admin: 'admin-secret' }) });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await dashboard.app.request(path, { headers, redirect: 'manual' });
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  };
  return { get };
}

describe('the cost page', () => {
  it('sends a visitor of a private server to the login, and shows a reader each pool\'s days', async () => {
    const s = setup();
    expect(await s.get('/usage?days=2')).toMatchObject({ status: 303, location: '/login?next=%2Fusage' });
    const page = await s.get('/usage?days=2', { authorization: 'Bearer admin-secret' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<a href="/usage" aria-current="page">Cost</a>');
    expect(page.text).toContain('<h1>Cost view</h1>');
    // 2 January: p-1 connected 17 minutes (09:03–09:20), busy 10, one cold start of 3 minutes;
    // a fixed pool of 2 would have run 2 × 17 minutes (since kiln first saw an agent, at 09:03).
    const today = page.text.slice(page.text.indexOf('<tr data-day="2025-01-02">'));
    expect(today.slice(0, today.indexOf('</tr>')).match(/<td>[^<]*/g)).toEqual(
      ['<td>2025-01-02', '<td>17', '<td>10', '<td>7', '<td>1', '<td>3 min', '<td>3 min', '<td>34', '<td>17'],
    );
    expect(page.text).toContain('<tr data-day="2025-01-01"><td>2025-01-01</td><td>0</td>');
    expect(page.text).toMatch(/<tr data-day="2025-01-01">.*?<td>0<\/td><td>0<\/td><\/tr>/s); // no fixed pool before any agent
    expect(page.text.match(/data-series="(busy|idle|fixed)"/g)).toHaveLength(6);
    expect(page.text).toMatch(/<table class="queue-wait">.*<td>2025-01-02<\/td><td><code>linux <\/code><\/td><td>1<\/td><td>3 min<\/td>/s);
  });

  it('explains a bad day count in one line and shows the default week', async () => {
    const page = await setup().get('/usage?days=x', { authorization: 'Bearer admin-secret' });
    expect(page.text).toContain('days must be a whole number from 1 to 90, not &quot;x&quot;: showing 7 days');
    expect(page.text).toContain('The last 7 days');
  });

  it('is linked from the pools page', async () => {
    const page = await setup().get('/pools', { authorization: 'Bearer admin-secret' });
    expect(page.text).toContain('<a href="/usage">Cost view</a>');
  });
});
