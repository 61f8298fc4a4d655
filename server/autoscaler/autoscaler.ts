// The autoscaler: a reconcile loop per pool over a provider. Every `intervalMs`, and at once
// (debounced) when the queue, a job or an agent changes, each pool decides (policy.ts) and
// applies the decision (pool-pass.ts).
//
//   pool agent lifecycle (one provider instance = one agent name):
//
//   deploy ─▶ starting ──hello──▶ idle ⇄ busy     idle > idle_timeout, above the floor
//                │                  │    ─────────────────────────▶ draining ──exit──▶ gone
//                │                  │           (hub.drain)              (list forgets it;
//                │                  └─ socket lost ─▶ offline ─hello─▶ idle    its row goes)
//                │ no hello within the start deadline       │ not back within the deadline
//                └──────────────▶ remove (SIGTERM … SIGKILL) ◀┘
//
//   a pass:  list ─▶ observe ─▶ decide (pure) ─▶ remove · drain · deploy ─▶ scaling events
//   a provider failure (deploy, list, an agent that never connects) ─▶ back-off, 5 s … 5 min
import type { Logger } from 'pino';
import { notFound } from '../../shared/errors.js';
import type { PoolConfig, ProviderKind } from '../config.js';
import type { EventBus } from '../events.js';
import type { QueuedJob, Store } from '../store/index.js';
import { assignDemand } from './demand.js';
import type { BackoffOptions } from './health.js';
import type { ConnectedAgent } from './observe.js';
import { roomOf } from './policy.js';
import { newPoolState, runPass, type PoolObserver, type PoolState } from './pool-pass.js';
import { toPoolView, toSnapshot, type PoolView } from './pool-view.js';
import type { AgentProvider } from './provider.js';
import { createPoolSchedule } from './schedule.js';
import { explainWait } from './wait-reason.js';

export type { PoolView } from './pool-view.js';

export interface AutoscalerOptions {
  pools: readonly PoolConfig[];
  providers: Partial<Record<ProviderKind, AgentProvider>>;
  store: Pick<Store, 'jobs' | 'agents'>;
  /** The connected agents, how to drain one, and the jobs waiting with what they wait for (the job queue). */
  hub: { sessions(): readonly ConnectedAgent[]; drain(agentId: number): boolean; queued(): QueuedJob[] };
  bus: EventBus;
  logger: Logger;
  now?: () => number;
  /** Between periodic passes (default 3 s). */
  intervalMs?: number;
  /** Quiet time after a queue, job or agent event before the pass it causes (default 50 ms). */
  debounceMs?: number;
  /** How long a started agent may take to connect (default 60 s). */
  startDeadlineMs?: number;
  backoff?: BackoffOptions;
  /** Scaling events kept per pool (default 50). */
  maxEvents?: number;
  /** How agents reach the server: a getter when it is known only once the server listens. */
  serverUrl: string | (() => string);
  agentToken: string;
  /** Told of scaling actions and provider failures (the server's metrics). */
  observer?: PoolObserver;
}

/**
 * `start` arms the timers and runs a first pass; `stop` disarms them and waits for passes in
 * flight (agents keep running: they outlive the server). `reconcile` runs one pass of one pool
 * or of all and resolves when it is done; it never rejects for a provider's failure (that is
 * recorded and backed off). `waitReason` answers for a claimable queued job; null otherwise.
 */
export interface Autoscaler {
  start(): void;
  stop(): Promise<void>;
  /** Each pool's live agents as its provider lists them (what a stopped server leaves running). */
  agentsRunning(): Promise<PoolAgents[]>;
  /**
   * Stops every pool's agents (provider.remove: SIGTERM, the agent drains, killed after the
   * provider's grace); for a server going away for good. Call after `stop`.
   */
  stopAgents(): Promise<PoolAgents[]>;
  reconcile(poolName?: string): Promise<void>;
  pools(): PoolView[];
  waitReason(job: Pick<QueuedJob, 'runsOn' | 'waiting'>): string | null;
}

/** How many agents of a pool (running, or stopped by stopAgents), and what went wrong. */
export interface PoolAgents {
  pool: string;
  agents: number;
  /** A provider that could not list or stop them: one line. */
  error: string | null;
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

export function createAutoscaler(options: AutoscalerOptions): Autoscaler {
  const { store, hub, bus, logger } = options;
  const now = options.now ?? Date.now;
  const states = options.pools.map((pool) => newPoolState(pool, logger.child({ pool: pool.name }), createPoolSchedule(pool)));
  const running = new Map<PoolState, { tail: Promise<void>; queued: Promise<void> | null }>(states.map((s) => [s, { tail: Promise.resolve(), queued: null }]));
  const timers: { interval: NodeJS.Timeout | null; debounce: NodeJS.Timeout | null } = { interval: null, debounce: null };
  let unsubscribe: (() => void) | null = null;

  const claimable = () => hub.queued().filter((j) => j.waiting === null);

  const pass = async (state: PoolState): Promise<void> => {
    const nowMs = now();
    try {
      await runPass(state, {
        provider: options.providers[state.config.provider], store, hub, nowMs,
        spec: { serverUrl: typeof options.serverUrl === 'string' ? options.serverUrl : options.serverUrl(), token: options.agentToken, labels: state.config.labels, capacity: state.config.capacity },
        startDeadlineMs: options.startDeadlineMs, backoff: options.backoff, maxEvents: options.maxEvents ?? 50, observer: options.observer,
        demand: (agents) => {
          const rooms = states.map((s) => ({ name: s.config.name, labels: s.config.labels, room: roomOf({ pool: s.config, agents: s === state ? agents : s.agents, health: s.health, nowMs }) }));
          return assignDemand(claimable(), rooms).get(state.config.name) ?? 0;
        },
      });
    } catch (error) {
      state.log.error({ err: error }, 'reconcile pass failed');
    }
  };

  // Why the chain: passes of one pool must not overlap (two passes would both deploy for the
  // same jobs); a request made while one waits to run joins it instead of queueing another.
  const schedulePass = (state: PoolState): Promise<void> => {
    const slot = running.get(state)!;
    if (slot.queued) return slot.queued;
    const next = slot.tail.then(() => {
      slot.queued = null;
      return pass(state);
    });
    slot.queued = next;
    slot.tail = next;
    return next;
  };

  const reconcile = async (poolName?: string): Promise<void> => {
    const chosen = poolName === undefined ? states : states.filter((s) => s.config.name === poolName);
    if (chosen.length === 0 && poolName !== undefined) throw notFound(`no pool named ${poolName}`);
    await Promise.all(chosen.map(schedulePass));
  };
  const reconcileSoon = () => {
    if (timers.debounce) clearTimeout(timers.debounce);
    timers.debounce = setTimeout(() => {
      timers.debounce = null;
      void reconcile();
    }, options.debounceMs ?? 50);
    timers.debounce.unref();
  };

  return {
    start() {
      if (timers.interval) return;
      unsubscribe = bus.subscribe((event) => {
        if (event.type === 'queue' || event.type === 'job' || event.type === 'agent') reconcileSoon();
      });
      for (const state of states) state.schedule.start(() => void reconcile(state.config.name));
      timers.interval = setInterval(() => void reconcile(), options.intervalMs ?? 3_000);
      timers.interval.unref();
      logger.info({ pools: states.map((s) => s.config.name) }, 'autoscaler started');
      void reconcile();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = null;
      for (const timer of [timers.interval, timers.debounce]) if (timer) clearTimeout(timer);
      timers.interval = timers.debounce = null;
      for (const state of states) state.schedule.stop();
      await Promise.all([...running.values()].map((slot) => slot.tail));
    },
    async agentsRunning() {
      return Promise.all(states.map(async ({ config }): Promise<PoolAgents> => {
        const provider = options.providers[config.provider];
        if (!provider) return { pool: config.name, agents: 0, error: null };
        try {
          return { pool: config.name, agents: (await provider.list(config)).length, error: null };
        } catch (error) {
          return { pool: config.name, agents: 0, error: `cannot list its agents: ${firstLine(error)}` };
        }
      }));
    },
    async stopAgents() {
      return Promise.all(states.map(async ({ config, log }): Promise<PoolAgents> => {
        const provider = options.providers[config.provider];
        if (!provider) return { pool: config.name, agents: 0, error: null };
        let instances;
        try {
          instances = await provider.list(config);
        } catch (error) {
          return { pool: config.name, agents: 0, error: `cannot list its agents: ${firstLine(error)}` };
        }
        const results = await Promise.allSettled(instances.map((instance) => provider.remove(instance)));
        const failed = results.flatMap((r) => (r.status === 'rejected' ? [firstLine(r.reason)] : []));
        if (instances.length > 0) log.info({ stopped: instances.length - failed.length, failed }, 'pool agents stopped with the server');
        return { pool: config.name, agents: instances.length - failed.length, error: failed.length > 0 ? failed.join('; ') : null };
      }));
    },
    reconcile,
    pools(): PoolView[] {
      const jobs = claimable();
      return states.map((s) => toPoolView(s, jobs));
    },
    waitReason: (job) => explainWait(job, hub.sessions(), states.map((s) => toSnapshot(s, now())), now()),
  };
}
