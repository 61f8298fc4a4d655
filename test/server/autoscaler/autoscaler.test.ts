// The reconcile loop on a real store (SQLite in a temp folder), driven by reconcile() and a fake
// clock. The provider and the queue's sessions are fakes: the far side of the boundaries.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAutoscaler, type AutoscalerOptions } from '../../../server/autoscaler/autoscaler.js';
import type { ConnectedAgent } from '../../../server/autoscaler/observe.js';
import type { AgentProvider, AgentSpec, Instance } from '../../../server/autoscaler/provider.js';
import type { PoolConfig } from '../../../server/config.js';
import { createEventBus } from '../../../server/events.js';
import { createMetrics } from '../../../server/metrics/metrics.js';
import type { JobQueue } from '../../../server/queue/job-queue.js';
import { classifyWait } from '../../../server/queue/wait-reason.js';
import type { Store } from '../../../server/store/index.js';
import { fakeClock, newRun, plan, plannedJob, tempStore } from '../store/fixtures.js';

// The real job queue fits where the autoscaler expects its fleet.
export const queueFits = (queue: JobQueue): AutoscalerOptions['hub'] => queue;

const LOCAL: PoolConfig = { name: 'local', provider: 'process', labels: ['linux', 'local'], min: 0, max: 4, capacity: 1, idleTimeoutMs: 30_000, schedule: [], docker: null };

function fakeProvider(now: () => number) {
  const instances = new Map<string, Instance>();
  let made = 0;
  const provider = {
    kind: 'process' as const,
    failWith: null as string | null,
    deploys: [] as Array<{ pool: string; count: number; spec: AgentSpec }>,
    removed: [] as string[],
    async deploy(pool: PoolConfig, count: number, spec: AgentSpec) {
      provider.deploys.push({ pool: pool.name, count, spec });
      if (provider.failWith) throw new Error(provider.failWith);
      return Array.from({ length: count }, () => {
        const instance = { name: `${pool.name}-${++made}`, pool: pool.name, startedAtMs: now(), ref: String(made), log: `/logs/${pool.name}-${made}.log` };
        instances.set(instance.name, instance);
        return instance;
      });
    },
    async remove(instance: Instance) {
      provider.removed.push(instance.name);
      instances.delete(instance.name);
    },
    async list(pool: PoolConfig) {
      return [...instances.values()].filter((i) => i.pool === pool.name);
    },
    /** The agent process ended by itself. */
    exit: (name: string) => instances.delete(name),
    names: () => [...instances.keys()],
  } satisfies AgentProvider & Record<string, unknown>;
  return provider;
}

/** The hub's side: sessions that the test connects, gives jobs and disconnects. */
function fakeHub(store: Store, now: () => number) {
  const sessions: Array<ConnectedAgent & { jobs: Map<number, string> }> = [];
  const hub = {
    drained: [] as string[],
    sessions: () => sessions,
    // What the job queue says of the waiting jobs (its own classifier, on the real store).
    queued: () => store.jobs.listQueuedJobs().map((job) => ({ ...job, waiting: classifyWait(job, store.jobs.listHeldGroups()) })),
    drain(agentId: number) {
      const s = sessions.find((x) => x.agentId === agentId);
      if (!s) return false;
      s.draining = true;
      hub.drained.push(s.name);
      return true;
    },
    connect(name: string, pool: PoolConfig) {
      const agent = store.agents.registerAgent({ name, labels: pool.labels, pool: pool.name, capacity: pool.capacity, protocol: 1, version: null });
      sessions.push({ agentId: agent.id, name, labels: pool.labels, capacity: pool.capacity, pool: pool.name, jobs: new Map(), draining: false });
    },
    disconnect(name: string) {
      const s = sessions.splice(sessions.findIndex((x) => x.name === name), 1)[0]!;
      store.agents.setAgentStatus(s.agentId, 'offline');
    },
    /** Every session takes what it can, like the hub's dispatch. */
    dispatch() {
      for (const s of sessions) {
        while (!s.draining && s.jobs.size < s.capacity) {
          const claim = store.leases.claimNextJob(s.agentId, s.labels, now(), 30_000);
          if (!claim) break;
          s.jobs.set(claim.job.id, claim.token);
        }
      }
    },
    finishAll() {
      for (const s of sessions) {
        for (const [jobId, token] of s.jobs) store.leases.completeJob(jobId, token, { status: 'success', exitCode: 0 }, now());
        s.jobs.clear();
      }
    },
  };
  return hub;
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

function setup(pools: PoolConfig[] = [LOCAL], over: Partial<AutoscalerOptions> = {}) {
  const clock = fakeClock(new Date(2025, 0, 6, 12, 0).getTime());
  const { store } = tempStore(clock);
  const repo = store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
  const provider = fakeProvider(clock.now);
  const hub = fakeHub(store, clock.now);
  const bus = createEventBus();
  const scaler = createAutoscaler({
    pools, providers: { process: provider }, store, hub, bus, logger: pino({ level: 'silent' }), now: clock.now,
    serverUrl: 'http://127.0.0.1:8080', agentToken: 'agent-secret', ...over,
  });
  stops.push(() => scaler.stop());
  const queue = (...runsOn: string[][]) => store.runs.createRun(newRun(repo.id, { plan: plan(...runsOn.map((labels, i) => plannedJob(`job-${i}`, { runsOn: labels }))) }));
  const view = (name = 'local') => scaler.pools().find((p) => p.name === name)!;
  return { clock, store, provider, hub, bus, scaler, queue, view };
}

describe('the autoscaler loop', () => {
  it('starts agents for waiting jobs, then drains them after the idle timeout and forgets them when they exit', async () => {
    const { clock, store, provider, hub, scaler, queue, view } = setup();
    queue(['linux'], ['linux'], ['local']);
    await scaler.reconcile();
    expect(provider.deploys).toEqual([{ pool: 'local', count: 3, spec: { serverUrl: 'http://127.0.0.1:8080', token: 'agent-secret', labels: ['linux', 'local'], capacity: 1 } }]);
    expect(view()).toMatchObject({ desired: 3, queued: 3, agents: { starting: 3, idle: 0 }, error: null, events: [{ action: 'start', count: 3, reason: '3 jobs waiting, 0 free slots' }] });
    expect(scaler.waitReason(hub.queued()[0]!)).toMatch(/^pool local is starting agent local-\S+ \(0 s\)$/);

    clock.advance(2_000);
    expect(scaler.waitReason(hub.queued()[0]!)).toMatch(/^pool local is starting agent local-\S+ \(2 s\)$/);
    for (const name of provider.names()) hub.connect(name, LOCAL);
    hub.dispatch();
    await scaler.reconcile();
    expect(view()).toMatchObject({ queued: 0, agents: { busy: 3, starting: 0 } });
    expect(provider.deploys).toHaveLength(1);

    hub.finishAll();
    await scaler.reconcile();
    clock.advance(29_000);
    await scaler.reconcile();
    expect(hub.drained).toEqual([]);
    clock.advance(1_000);
    await scaler.reconcile();
    expect(hub.drained).toEqual(['local-1', 'local-2', 'local-3']);
    expect(view()).toMatchObject({ desired: 0, agents: { draining: 3, idle: 0 } });
    expect(view().events[0]).toMatchObject({ action: 'drain', agent: 'local-3', reason: 'idle for 30s (idle timeout 30s), above the floor of 0' });

    for (const name of provider.names()) {
      hub.disconnect(name);
      provider.exit(name);
    }
    await scaler.reconcile();
    expect(view().agents).toEqual({ idle: 0, busy: 0, draining: 0, offline: 0, starting: 0 });
    expect(store.agents.listAgents()).toEqual([]);
    expect(provider.removed).toEqual([]);
  });

  it('backs off while the provider fails, shows why, and recovers once an agent connects', async () => {
    const { clock, store, provider, hub, scaler, queue, view } = setup();
    queue(['linux']);
    provider.failWith = 'docker daemon unreachable';
    await scaler.reconcile();
    expect(view()).toMatchObject({ error: 'docker daemon unreachable', events: [{ action: 'error', reason: 'docker daemon unreachable' }] });
    expect(scaler.waitReason(hub.queued()[0]!)).toBe('pool local cannot start agents: docker daemon unreachable');

    clock.advance(4_000);
    await scaler.reconcile();
    expect(provider.deploys).toHaveLength(1);   // within the 5 s back-off
    clock.advance(1_000);
    await scaler.reconcile();
    expect(provider.deploys).toHaveLength(2);   // tried again, failed again: 10 s now
    clock.advance(9_000);
    await scaler.reconcile();
    expect(provider.deploys).toHaveLength(2);
    expect(view().events.filter((e) => e.action === 'error')).toHaveLength(2);

    provider.failWith = null;
    clock.advance(1_000);
    await scaler.reconcile();
    expect(view().agents.starting).toBe(1);
    expect(view().events[0]).toMatchObject({ action: 'start', count: 1, reason: '1 job waiting, 0 free slots' });
    hub.connect('local-1', LOCAL);
    await scaler.reconcile();
    expect(view().error).toBeNull();
  });

  it('removes an agent that never connected, counts it as a failure, and tries again after the back-off', async () => {
    const { clock, provider, scaler, queue, view } = setup();
    queue(['linux']);
    await scaler.reconcile();
    clock.advance(60_000);
    await scaler.reconcile();
    expect(provider.removed).toEqual(['local-1']);
    expect(view().events.slice(0, 2)).toMatchObject([
      { action: 'error', reason: 'agent local-1 never connected within 60s (see /logs/local-1.log)' },
      { action: 'remove', agent: 'local-1', reason: 'never connected within 60s' },
    ]);
    expect(provider.deploys).toHaveLength(1);
    clock.advance(5_000);
    await scaler.reconcile();
    expect(provider.names()).toEqual(['local-2']);
  });

  it('counts an agent that exits before connecting as a failure', async () => {
    const { clock, provider, scaler, queue, view } = setup();
    queue(['linux']);
    await scaler.reconcile();
    provider.exit('local-1');
    clock.advance(3_000);
    await scaler.reconcile();
    expect(view()).toMatchObject({ error: 'agent local-1 exited before connecting (see /logs/local-1.log)', agents: { starting: 0 } });
    expect(provider.deploys).toHaveLength(1);
  });

  it('finds its agents again after a server restart and waits for them to reconnect', async () => {
    const first = setup();
    first.queue(['linux'], ['linux']);
    await first.scaler.reconcile();
    for (const name of first.provider.names()) first.hub.connect(name, LOCAL);
    first.hub.dispatch();
    // The server restarts: a new autoscaler, no sessions yet, the same provider and database.
    for (const name of first.provider.names()) first.hub.disconnect(name);
    const second = createAutoscaler({
      pools: [LOCAL], providers: { process: first.provider }, store: first.store, hub: first.hub, bus: first.bus,
      logger: pino({ level: 'silent' }), now: first.clock.now, serverUrl: 'http://127.0.0.1:8080', agentToken: 'agent-secret',
    });
    stops.push(() => second.stop());
    first.queue(['linux']);
    await second.reconcile();
    expect(second.pools()[0]).toMatchObject({ agents: { offline: 2, starting: 0 }, events: [] });
    expect(first.provider.deploys).toHaveLength(1);
    first.hub.connect('local-1', LOCAL);
    await second.reconcile();
    expect(second.pools()[0]!.agents).toMatchObject({ idle: 1, offline: 1 });
  });

  it('raises the floor from a schedule entry on, and keeps agents up to it', async () => {
    const pool = { ...LOCAL, schedule: [{ cron: '0 9 * * 1-5', min: 2 }, { cron: '0 19 * * 1-5', min: 0 }] };
    const { clock, provider, hub, scaler, view } = setup([pool]);
    await scaler.reconcile();
    expect(view()).toMatchObject({ floor: 2, desired: 2, events: [{ action: 'start', count: 2, reason: 'below the floor of 2 (0 agents)' }] });
    for (const name of provider.names()) hub.connect(name, pool);
    clock.advance(3_600_000);
    await scaler.reconcile();
    expect(hub.drained).toEqual([]);
    clock.advance(6 * 3_600_000);   // 19:00
    await scaler.reconcile();
    expect(view().floor).toBe(0);
    expect(hub.drained).toEqual(['local-1', 'local-2']);
  });

  it('shares jobs between overlapping pools instead of scaling both', async () => {
    const docker: PoolConfig = { ...LOCAL, name: 'docker', labels: ['linux', 'docker'], max: 10 };
    const { provider, hub, scaler, queue, view } = setup([{ ...LOCAL, max: 1 }, docker]);
    queue(['linux'], ['linux'], ['docker'], ['gpu']);
    await scaler.reconcile();
    expect(provider.deploys.map((d) => [d.pool, d.count]).sort()).toEqual([['docker', 2], ['local', 1]]);
    expect(view('local').queued).toBe(2);
    const gpu = hub.queued().find((j) => j.runsOn.includes('gpu'))!;
    expect(scaler.waitReason(gpu)).toBe('no agent or pool has the labels [gpu]');
  });

  it('says a pool is at its max when all its agents are busy', async () => {
    const { provider, hub, store, scaler, queue } = setup([{ ...LOCAL, max: 1 }]);
    queue(['linux'], ['linux']);
    await scaler.reconcile();
    hub.connect(provider.names()[0]!, LOCAL);
    hub.dispatch();
    await scaler.reconcile();
    expect(scaler.waitReason(hub.queued()[0]!)).toBe('pool local is at its max (1 agent, all busy)');
    expect(scaler.pools()[0]!.events[0]).toMatchObject({ action: 'start', count: 1 });
  });

  it('reconciles at once when the queue changes, not only on its interval', async () => {
    const { bus, provider, scaler, queue } = setup([LOCAL], { intervalMs: 3_600_000 });
    scaler.start();
    await vi.waitFor(() => expect(provider.deploys).toHaveLength(0));
    queue(['linux']);
    bus.publish({ type: 'queue' });
    await vi.waitFor(() => expect(provider.deploys).toHaveLength(1), { timeout: 2_000 });
    await scaler.stop();
  });

  it('reports a pool whose provider this kiln does not have', async () => {
    const { scaler, view } = setup([{ ...LOCAL, name: 'swarm', provider: 'swarm' }]);
    await scaler.reconcile('swarm');
    expect(view('swarm').error).toBe('the swarm provider is not available in this kiln');
    await expect(scaler.reconcile('nope')).rejects.toThrow('no pool named nope');
  });

  it('tells the metrics each action with its cause and each provider failure, by pool', async () => {
    const metrics = createMetrics({ pools: [LOCAL], queued: () => [], agents: () => [], repoOfRun: () => null });
    const { clock, provider, hub, scaler, queue } = setup([LOCAL], { observer: metrics });
    const counted = (name: string) => metrics.series.find((s) => s.name === name)!.values().map((v) => [v.labels, v.value]);
    provider.failWith = 'docker daemon unreachable';
    queue(['linux']);
    await scaler.reconcile();
    provider.failWith = null;
    clock.advance(5_000);
    await scaler.reconcile();
    for (const name of provider.names()) hub.connect(name, LOCAL);
    hub.dispatch();
    hub.finishAll();
    await scaler.reconcile();
    clock.advance(30_000);
    await scaler.reconcile();
    expect(counted('kiln_provider_errors_total')).toEqual([[{ pool: 'local', provider: 'process', reason: 'deploy' }, 1]]);
    expect(counted('kiln_autoscaler_decisions_total')).toEqual([
      [{ pool: 'local', action: 'start', reason: 'jobs_waiting' }, 1],
      [{ pool: 'local', action: 'drain', reason: 'idle' }, 1],
    ]);
  });
});
