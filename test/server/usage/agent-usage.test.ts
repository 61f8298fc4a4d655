// The cost view from a history recorded in a real store on a hand-driven clock: agents connect,
// run jobs and idle across a UTC midnight; the figures are exact minutes and seconds.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../../server/api/app.js';
import { createEventBus } from '../../../server/events.js';
import type { KilnService } from '../../../server/service.js';
import type { Store } from '../../../server/store/index.js';
import { percentiles } from '../../../server/usage/agent-usage.js';
import { readAgentUsage } from '../../../server/usage/report.js';
import { testAccess } from '../../helpers/access.js';
import { fakeClock, newRun, plan, plannedJob, tempStore } from '../store/fixtures.js';

const MIN = 60_000;
const at = (hh: number, mm: number, day = 1) => Date.UTC(2025, 0, day, hh, mm);

/** A history on one pool `linux` (max 3), from 23:00 on 1 January to 01:20 on the 2nd. */
function history() {
  const clock = fakeClock(at(23, 0));
  const { store } = tempStore(clock);
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const to = (ms: number) => clock.advance(ms - clock.now());
  const queueJob = (name: string) => {
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob(name, { runsOn: ['linux'] })) }));
    const job = store.runs.getRun(run.id)!.jobs[0]!;
    store.jobs.markJobReady(job.id);
    return job.id;
  };
  const connect = (name: string) => store.agents.registerAgent({ name, labels: ['linux'], pool: 'linux', capacity: 1, protocol: 1, version: null });
  const claim = (agentId: number) => store.leases.claimNextJob(agentId, ['linux'], clock.now(), 60 * MIN)!;

  const a = queueJob('a'); // 23:00, no agent yet
  to(at(23, 2));
  const p1 = connect('p-1');
  const claimA = claim(p1.id); // a cold start of 2 minutes
  to(at(23, 32));
  store.leases.completeJob(a, claimA.token, { status: 'success', exitCode: 0 }, clock.now());
  to(at(0, 10, 2)); // p-1 idles through midnight
  queueJob('b');
  to(at(0, 11, 2));
  const claimB = claim(p1.id); // a warm start: p-1 was there before b waited
  to(at(0, 41, 2));
  store.leases.completeJob(claimB.job.id, claimB.token, { status: 'success', exitCode: 0 }, clock.now());
  to(at(0, 50, 2));
  store.agents.setAgentStatus(p1.id, 'offline'); // scaled down
  to(at(1, 0, 2));
  queueJob('c');
  to(at(1, 5, 2));
  const p2 = connect('p-2');
  claim(p2.id); // a cold start of 5 minutes; c still runs at 01:20
  to(at(1, 20, 2));
  return { store, clock };
}

const percentile = (count: number, p50Seconds: number | null, p95Seconds: number | null) => ({ count, p50Seconds, p95Seconds });

describe('the cost view', () => {
  it('counts busy and idle agent-minutes per pool and UTC day, cold starts, and what a fixed pool of max would have used', () => {
    const { store, clock } = history();
    // Agents were first watched at 23:02 on the 1st: a fixed pool is counted from then, not from midnight.
    const usage = readAgentUsage(store, [{ name: 'linux', max: 3 }], clock.now(), 2);
    expect(usage.days).toEqual(['2025-01-01', '2025-01-02']);
    expect(usage.pools).toEqual([
      {
        day: '2025-01-01', pool: 'linux', agentMinutes: 58, busyMinutes: 30, idleMinutes: 28,
        coldStarts: percentile(1, 120, 120), max: 3, observedMinutes: 58, fixedPoolMinutes: 174, savedMinutes: 116,
      },
      {
        // p-1 00:00–00:50 (busy 00:11–00:41), p-2 01:05–01:20 (busy all along).
        day: '2025-01-02', pool: 'linux', agentMinutes: 65, busyMinutes: 45, idleMinutes: 20,
        coldStarts: percentile(1, 300, 300), max: 3, observedMinutes: 80, fixedPoolMinutes: 240, savedMinutes: 175,
      },
    ]);
    expect(usage.queueWait).toEqual([
      { day: '2025-01-01', labels: ['linux'], queueWait: percentile(1, 120, 120) },
      { day: '2025-01-02', labels: ['linux'], queueWait: percentile(2, 60, 300) },
    ]);
  });

  it('reads only the days asked for: one day leaves out yesterday', () => {
    const { store, clock } = history();
    const usage = readAgentUsage(store, [{ name: 'linux', max: 3 }], clock.now(), 1);
    expect(usage.days).toEqual(['2025-01-02']);
    expect(usage.pools.map((p) => [p.day, p.agentMinutes, p.busyMinutes])).toEqual([['2025-01-02', 65, 45]]);
    expect(usage.queueWait.map((w) => w.day)).toEqual(['2025-01-02']);
  });

  it('keeps one span across a replaced connection, and shows agents of no pool without a fixed-pool figure', () => {
    const clock = fakeClock(at(10, 0));
    const { store } = tempStore(clock);
    const hello = { name: 'laptop', labels: [], pool: null, capacity: 1, protocol: 1, version: null };
    const agent = store.agents.registerAgent(hello);
    clock.advance(10 * MIN);
    store.agents.registerAgent(hello); // a second hello while connected: the same span goes on
    clock.advance(20 * MIN);
    store.agents.setAgentStatus(agent.id, 'offline');
    clock.advance(30 * MIN);
    const usage = readAgentUsage(store, [{ name: 'linux', max: 2 }], clock.now(), 1);
    expect(usage.pools).toEqual([
      { day: '2025-01-01', pool: 'linux', agentMinutes: 0, busyMinutes: 0, idleMinutes: 0, coldStarts: percentile(0, null, null), max: 2, observedMinutes: 60, fixedPoolMinutes: 120, savedMinutes: 120 },
      { day: '2025-01-01', pool: null, agentMinutes: 30, busyMinutes: 0, idleMinutes: 30, coldStarts: percentile(0, null, null), max: null, observedMinutes: 60, fixedPoolMinutes: null, savedMinutes: null },
    ]);
  });

  it('lets the retention sweeper delete spans that ended before its cutoff, never an open one', () => {
    const { store, clock } = history();
    expect(store.usage.sweepSpansBefore(at(0, 51, 2), 100)).toBe(1); // p-1's span; p-2's is open
    expect(store.usage.listAgentSpans(0, clock.now()).map((s) => s.agent)).toEqual(['p-2']);
    expect(store.usage.sweepSpansBefore(clock.now(), 100)).toBe(0);
  });

  it('takes nearest-rank percentiles', () => {
    const ms = Array.from({ length: 20 }, (_, i) => (i + 1) * 1000);
    expect(percentiles(ms)).toEqual(percentile(20, 10, 19));
    expect(percentiles([])).toEqual(percentile(0, null, null));
  });
});

function api(store: Store, now: () => number) {
  const service = { pools: () => [{ name: 'linux', provider: 'process', min: 0, max: 3 }] } as unknown as KilnService;
  return createApi({ store, bus: createEventBus(), service, logger: pino({ level: 'silent' }), now, access: testAccess(store, { private: true, admin: 'admin-secret' }) });
}

describe('GET /api/usage/agents', () => {
  it('answers a server admin with the days asked for, refuses without a token, and refuses a bad day count with one line', async () => {
    const { store, clock } = history();
    const app = api(store, clock.now);
    const admin = { authorization: 'Bearer admin-secret' };
    expect((await app.request('/api/usage/agents?days=2')).status).toBe(401);
    const answer = await app.request('/api/usage/agents?days=2', { headers: admin });
    expect(answer.status).toBe(200);
    const body = await answer.json() as { days: string[]; pools: Array<{ agentMinutes: number; fixedPoolMinutes: number }> };
    expect(body.days).toEqual(['2025-01-01', '2025-01-02']);
    expect(body.pools.map((p) => [p.agentMinutes, p.fixedPoolMinutes])).toEqual([[58, 174], [65, 240]]);
    for (const bad of ['0', '91', 'abc', '1.5']) {
      const refused = await app.request(`/api/usage/agents?days=${bad}`, { headers: admin });
      expect([bad, refused.status, await refused.json()]).toEqual([bad, 400, { error: `days must be a whole number from 1 to 90, not "${bad}"` }]);
    }
    expect(((await (await app.request('/api/usage/agents', { headers: admin })).json()) as { days: string[] }).days).toHaveLength(7);
  });
});
