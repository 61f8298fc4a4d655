// The pools chart's sampler: while started, every few seconds it notes how many jobs are
// queued and how many agents are up and busy, into a ring the /pools page draws.
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { createSampleRing, type Sample } from './samples.js';

/** Calls `tick` every `ms` until the returned function is called. */
export type Repeat = (tick: () => void, ms: number) => () => void;

export interface SamplerOptions {
  store: Store;
  logger: Logger;
  /** How often a sample is taken (default 5 s). */
  everyMs?: number;
  now?: () => number;
  repeat?: Repeat;
}

/** Takes no sample until start(); start() takes one at once, then one per period until stop(). */
export interface Sampler {
  start(): void;
  /** Safe to call twice, or without start(). */
  stop(): void;
  samples(): Sample[];
}

const everyInterval: Repeat = (tick, ms) => {
  const timer = setInterval(tick, ms);
  timer.unref(); // stop() ends it; a forgotten stop() must still not keep the process alive
  return () => clearInterval(timer);
};

export function createSampler({ store, logger, everyMs = 5000, now = Date.now, repeat = everyInterval }: SamplerOptions): Sampler {
  const ring = createSampleRing();
  let cancel: (() => void) | null = null;
  const takeSample = () => {
    try {
      const agents = store.agents.listAgents().filter((a) => a.status !== 'offline');
      ring.add({ atMs: now(), queued: store.jobs.listQueuedJobs().filter((j) => j.status === 'queued').length, agents: agents.length, busy: agents.filter((a) => a.status === 'busy').length });
    } catch (error) {
      logger.warn({ err: error }, 'dashboard sample failed');
    }
  };
  return {
    start() {
      if (cancel) return;
      takeSample();
      cancel = repeat(takeSample, everyMs);
    },
    stop() {
      cancel?.();
      cancel = null;
    },
    samples: () => ring.list(),
  };
}
