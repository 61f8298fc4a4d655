// The one answer to "why is this job waiting": its needs, an approval, a concurrency group, or
// agents (none with these labels, all busy) and pools (at max, starting, provider failing).
import { isFinal } from '../../shared/status.js';
import type { Job, QueuedJob, QueueWait } from '../store/index.js';
import type { AgentSlot } from './agents.js';

/** What pools know about a claimable job (the autoscaler answers); null when they have nothing to say. */
export type PoolsExplain = (job: Pick<QueuedJob, 'runsOn' | 'waiting'>) => string | null;

/** What a queued or blocked job waits for, before agents come into it. */
export function classifyWait(job: Job, heldGroups: ReadonlySet<string>): QueueWait {
  if (job.status === 'blocked') return 'approval';
  if (job.readyAt === null) return 'needs';
  if (job.concurrency !== null && heldGroups.has(job.concurrency)) return 'concurrency';
  return null;
}

export interface ExplainContext {
  /** The jobs of the job's run (for its open needs). */
  runJobs(runId: number): readonly Job[];
  agents: readonly AgentSlot[];
  pools?: PoolsExplain;
}

/** One line for `GET /api/queue` and the dashboard's queue page. */
export function explainWait(job: QueuedJob, ctx: ExplainContext): string {
  switch (job.waiting) {
    case 'approval':
      return 'waiting for approval';
    case 'needs': {
      const open = ctx.runJobs(job.runId).filter((j) => job.needs.includes(j.name) && !isFinal(j.status)).map((j) => j.name);
      return `waiting for ${open.length === 1 ? 'a job it needs' : 'jobs it needs'}: ${open.join(', ')}`;
    }
    case 'concurrency':
      return `waiting for concurrency group "${job.concurrency}": another job holds it`;
    case null: {
      const fromPools = ctx.pools?.(job);
      if (fromPools) return fromPools;
      const matching = ctx.agents.filter((s) => job.runsOn.every((l) => s.labels.includes(l)));
      if (matching.length === 0) return `no connected agent has the labels [${job.runsOn.join(', ')}]`;
      return `all ${matching.length} agent${matching.length === 1 ? '' : 's'} with these labels are busy`;
    }
  }
}
