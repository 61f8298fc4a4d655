// The server's metrics (GET /metrics): one object owns every kiln series. The parts that
// observe get its small typed handles (queue, autoscaler, hooks, caches); what the event bus
// already says (jobs, logs) it reads from the bus; state (queue depth, agents) is computed at
// scrape time. Every label value comes from a fixed set or from configuration: never a run
// number, job id, sha or agent name.
import type { PoolObserver } from '../autoscaler/pool-pass.js';
import type { PoolConfig } from '../config.js';
import type { QueueObserver } from '../queue/job-queue.js';
import type { EventBus } from '../events.js';
import type { ForgeKind } from '../hooks/verify.js';
import { AGENT_STATUSES, type Agent, type QueuedJob, type Run } from '../store/types.js';
import { isFinal } from '../../shared/status.js';
import { createLabelSets } from './label-sets.js';
import { CounterSeries, countBy, GaugeSeries, HistogramSeries, type Series } from './series.js';

export type WebhookResult = 'accepted' | 'ignored' | 'duplicate' | 'refused' | 'bad_payload' | 'unknown_repo';

export interface MetricsOptions {
  pools: readonly PoolConfig[];
  /** The queued and blocked jobs (the job queue's view), read at scrape time. */
  queued(): readonly QueuedJob[];
  /** The agents' rows, read at scrape time. */
  agents(): readonly Agent[];
  /** The repo name of a run, for job durations (bounded: repos are configured). */
  repoOfRun(runId: number): string | null;
}

/**
 * The handles the observing parts call; each is cheap (a map update) and never throws.
 * `series` is what the exposition reads at a scrape.
 */
export interface Metrics extends QueueObserver, PoolObserver {
  runStarted(run: Pick<Run, 'event'>): void;
  webhook(forge: ForgeKind | null, result: WebhookResult): void;
  cacheLookup(hit: boolean): void;
  /** Reads job ends and log lines from the bus; returns the function that stops it. */
  observe(bus: EventBus): () => void;
  readonly series: readonly Series[];
}

const WAIT_BOUNDS_S = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];
const DISPATCH_BOUNDS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const DURATION_BOUNDS_S = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
const NO_POOL = 'none';

export function createMetrics(options: MetricsOptions): Metrics {
  const labelSets = createLabelSets(options.pools.map((p) => p.labels));
  const runsStarted = new CounterSeries('kiln_runs_started_total', 'Runs created, by the event that started them.', ['event']);
  const queueWait = new HistogramSeries('kiln_queue_wait_seconds', 'Time from a job being ready (its needs done) to its claim by an agent, by runs_on label set.', ['labels'], WAIT_BOUNDS_S);
  const dispatch = new HistogramSeries('kiln_dispatch_seconds', 'Time the server takes to build and send a claimed job\'s assignment to its agent.', [], DISPATCH_BOUNDS_S);
  const jobDuration = new HistogramSeries('kiln_job_duration_seconds', 'Time from claim to end of the jobs that ran, by repo and final status.', ['repo', 'status'], DURATION_BOUNDS_S);
  const leases = new CounterSeries('kiln_lease_expirations_total', 'Job leases that expired (agent lost), by outcome: requeued (a retry was left) or ended (the job is error).', ['outcome']);
  const decisions = new CounterSeries('kiln_autoscaler_decisions_total', 'Scaling actions the autoscaler took, by pool, action and cause.', ['pool', 'action', 'reason']);
  const providerErrors = new CounterSeries('kiln_provider_errors_total', 'Provider failures (each one starts or extends the pool\'s back-off), by pool, provider and what failed.', ['pool', 'provider', 'reason']);
  const logLines = new CounterSeries('kiln_log_lines_total', 'Job log lines stored.', []);
  const logBytes = new CounterSeries('kiln_log_bytes_total', 'UTF-8 bytes of the job log lines stored (text without newlines).', []);
  const webhooks = new CounterSeries('kiln_webhook_deliveries_total', 'Webhook deliveries received, by forge and result.', ['forge', 'result']);
  const caches = new CounterSeries('kiln_cache_lookups_total', 'Cache lookups by jobs\' agents, by result (hit or miss).', ['result']);
  const queueJobs = new GaugeSeries('kiln_queue_jobs', 'Queued and blocked jobs, by runs_on label set and what they wait for (agent, needs, approval, concurrency).', () =>
    countBy(options.queued(), (job) => [{ labels: labelSets.of(job.runsOn), waiting: job.waiting ?? 'agent' }]));
  const queueByPool = new GaugeSeries('kiln_queue_jobs_by_pool', 'Jobs waiting only for an agent, by the pool whose labels cover them ("none": no pool can take them); a job several pools cover counts in each.', () => {
    const samples = countBy(options.queued().filter((job) => job.waiting === null), (job) => {
      const pools = options.pools.filter((pool) => job.runsOn.every((label) => pool.labels.includes(label)));
      return pools.length ? pools.map((pool) => ({ pool: pool.name })) : [{ pool: NO_POOL }];
    });
    for (const pool of options.pools) if (!samples.some((s) => s.labels.pool === pool.name)) samples.push({ labels: { pool: pool.name }, value: 0 });
    return samples;
  });
  const agents = new GaugeSeries('kiln_agents', 'Agents known to the server, by pool ("none": started by hand) and status; every configured pool shows every status, 0 included.', () => {
    const samples = countBy(options.agents(), (agent) => [{ pool: agent.pool ?? NO_POOL, status: agent.status }]);
    for (const pool of options.pools) {
      for (const status of AGENT_STATUSES) {
        if (!samples.some((s) => s.labels.pool === pool.name && s.labels.status === status)) samples.push({ labels: { pool: pool.name, status }, value: 0 });
      }
    }
    return samples;
  });

  // The jobs handed out and not ended yet, for their duration at the end (attempt: a retry is a new start).
  const started = new Map<number, number>();
  const seconds = (from: string | null, to: string | null) => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) / 1000 : null);

  return {
    runStarted: (run) => runsStarted.inc([run.event]),
    jobAssigned(job, handoffMs) {
      dispatch.observe([], handoffMs / 1000);
      const waited = seconds(job.readyAt, job.startedAt);
      if (waited !== null) queueWait.observe([labelSets.of(job.runsOn)], waited);
      started.set(job.id, job.attempt);
    },
    leaseExpired: (outcome) => leases.inc([outcome]),
    scaled: (pool, action, cause) => decisions.inc([pool.name, action, cause]),
    providerFailed: (pool, failure) => providerErrors.inc([pool.name, pool.provider, failure]),
    webhook: (forge, result) => webhooks.inc([forge ?? 'unknown', result]),
    cacheLookup: (hit) => caches.inc([hit ? 'hit' : 'miss']),
    observe(bus) {
      return bus.subscribe((event) => {
        if (event.type === 'log') {
          let bytes = 0;
          for (const line of event.lines) bytes += Buffer.byteLength(line.text, 'utf8');
          logLines.inc([], event.lines.length);
          logBytes.inc([], bytes);
        } else if (event.type === 'job' && isFinal(event.job.status) && started.has(event.job.id)) {
          const { job } = event;
          started.delete(job.id);
          const took = seconds(job.startedAt, job.finishedAt);
          if (took !== null) jobDuration.observe([options.repoOfRun(job.runId) ?? 'unknown', job.status], took);
        }
      });
    },
    series: [runsStarted, queueJobs, queueByPool, queueWait, dispatch, jobDuration, agents, decisions, providerErrors, leases, logLines, logBytes, webhooks, caches],
  };
}
