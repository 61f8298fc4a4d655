// `kiln run`'s engine: a plan's jobs one after another on the agent's executors, with the server's
// rules for needs and `when` (a job whose need did not succeed is skipped), and no server.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { whenMatches, type Plan, type PlannedJob, type RunFacts } from '../../shared/pipeline/index.js';
import type { LogLine } from '../../shared/protocol/messages.js';
import type { Status } from '../../shared/status.js';
import { jobOutcomeLine } from '../executors/outcome-lines.js';
import { runJob } from '../executors/run-job.js';
import type { Executor } from '../executors/executor.js';
import { createJobLog } from '../logs/job-log.js';

/** How one job of a local run ended; `durationMs` is null for a job that never started. */
export interface LocalJobResult {
  name: string;
  status: Status;
  exitCode: number | null;
  reason: string | null;
  durationMs: number | null;
  allowFailure: boolean;
}

/** What to run, where, and where its output goes. */
export interface LocalRunOptions {
  plan: Plan;
  /** The jobs to run (with what they need); null: all. */
  only: ReadonlySet<string> | null;
  facts: RunFacts;
  /** The jobs' workspace is made here and reused from job to job (one job runs at a time). */
  workspaceRoot: string;
  /** Fills the workspace: a folder that does not exist yet, or the one the previous job left. */
  prepare(workspace: string): Promise<void>;
  /** The job's KILN_* variables and secrets; KILN_WORKSPACE is added. */
  env(job: PlannedJob): Record<string, string>;
  /** Values masked in the output. */
  secrets: readonly string[];
  /** The executor for a job (shell or docker); throws a KilnError when none can run it. */
  executorFor(request: { job: PlannedJob; jobId: number; log(text: string): void; signal: AbortSignal }): Executor;
  onLine(job: PlannedJob, line: LogLine): void;
  onJobEnd?(result: LocalJobResult): void;
  signal?: AbortSignal;
  now?: () => number;
}

/** Runs the jobs in plan order (topological) and resolves with one result per selected job. Never rejects for a job's failure. */
export async function runPlanLocally(o: LocalRunOptions): Promise<LocalJobResult[]> {
  const now = o.now ?? Date.now;
  const results = new Map<string, LocalJobResult>();
  for (const job of o.plan.jobs) {
    if (o.only && !o.only.has(job.name)) continue;
    const ended = (status: Status, reason: string | null, exitCode: number | null = null, durationMs: number | null = null) => {
      const result = { name: job.name, status, exitCode, reason, durationMs, allowFailure: job.allowFailure };
      results.set(job.name, result);
      o.onJobEnd?.(result);
    };
    if (o.signal?.aborted) {
      ended('cancelled', 'cancelled');
      continue;
    }
    const skip = skipReason(job, job.needs.flatMap((n) => results.get(n) ?? []), o.facts);
    if (skip !== null) {
      ended('skipped', skip);
      continue;
    }
    const started = now();
    const jobLog = createJobLog({ jobId: 1, attempt: 1, secrets: o.secrets, now, flushMs: 20, onChunk: (c) => c.lines.forEach((l) => o.onLine(job, l)) });
    let executor: Executor;
    try {
      executor = o.executorFor({ job, jobId: results.size + 1, log: (text) => jobLog.write(null, 'system', `${text}\n`), signal: o.signal ?? new AbortController().signal });
    } catch (error) {
      jobLog.write(null, 'system', `✖ ${error instanceof Error ? error.message : String(error)}\n`);
      jobLog.close();
      ended('error', error instanceof Error ? error.message : String(error));
      continue;
    }
    if (job.approval) jobLog.write(null, 'system', 'kiln: approval is not asked for in a local run\n');
    const workspace = join(o.workspaceRoot, 'workspace');
    try {
      await mkdir(o.workspaceRoot, { recursive: true });
      if (job.checkout?.fresh) await rm(workspace, { recursive: true, force: true });
      await o.prepare(workspace);
      const result = await runJob({
        job, executor, workspace, output: jobLog,
        env: { ...o.env(job), KILN_WORKSPACE: workspace }, signal: o.signal, clock: { now },
      });
      jobLog.write(null, 'system', `${jobOutcomeLine(result, result.cause, now() - started)}\n`);
      jobLog.close();
      ended(result.status, result.reason, result.exitCode, now() - started);
    } catch (error) {
      jobLog.write(null, 'system', `✖ cannot prepare the workspace: ${error instanceof Error ? error.message : String(error)}\n`);
      jobLog.close();
      ended('error', 'cannot prepare the workspace', null, now() - started);
    }
  }
  return [...results.values()];
}

/** The server's scheduler rule (server/queue/scheduler.ts), for a local run: why the job is skipped, or null. */
function skipReason(job: PlannedJob, needs: LocalJobResult[], facts: RunFacts): string | null {
  const statuses = job.when?.status ?? ['success'];
  if (needs.some((n) => n.status === 'skipped') && !statuses.includes('always')) return 'a job it needs was skipped';
  const failed = needs.some((n) => n.status === 'error' || n.status === 'cancelled' || (n.status === 'failed' && !n.allowFailure));
  if (whenMatches(job.when, facts, failed ? 'failure' : 'success')) return null;
  return failed && !statuses.includes('failure') ? 'a job it needs did not succeed' : 'its `when` does not match';
}
