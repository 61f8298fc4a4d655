// Runs one assignment: the slot's workspace, checkout, steps on the executor, results to the outbox.
//
//   job lifecycle on the agent:
//
//   assigned ─▶ workspace taken ─▶ checkout ─▶ [artifacts in, cache restored] ─▶ steps (runJob) ─▶ [artifacts up, cache saved]
//                                     │ fails        ▲ cancel: tree stopped, rest skipped           ─▶ log closed ─▶ workspace given back
//                                     └──────────────┴─▶ done error / cancelled                     ─▶ slot freed ─▶ done recorded
//   [ … ]: only for assignments with `files` and artifacts, a cache or needed artifacts (agent/files/job-transfers.ts).
import type { Logger } from 'pino';
import type { JobAssignment } from '../../shared/protocol/messages.js';
import type { Executor } from '../executors/executor.js';
import { jobOutcomeLine } from '../executors/outcome-lines.js';
import { runJob } from '../executors/run-job.js';
import { DEFAULT_CHECKOUT } from '../../shared/pipeline/types.js';
import type { Checkout, CheckoutResult } from '../git/checkout.js';
import type { JobTransferRequest, JobTransfers, TransferSettings } from '../files/job-transfers.js';
import { createJobLog, type JobLog } from '../logs/job-log.js';
import type { DoneMessage } from './job-records.js';
import type { JobOutbox, Outbox } from './outbox.js';
import { workspacePath } from './work-dir.js';

export type JobEnd = Pick<DoneMessage, 'status' | 'exitCode' | 'reason'>;

export interface JobRunnerOptions {
  /** Workspaces live here, one per repo, agent slot and kind (see workspacePath); reused from job to job. */
  workspacesDir: string;
  checkout: Checkout;
  outbox: Outbox;
  logger: Logger;
  /** The executor for a job (shell or docker); throws a KilnError when none can run it. */
  executorFor(request: { job: JobAssignment['job']; jobId: number; log(text: string): void; signal: AbortSignal }): Executor;
  /** Artifacts and caches over HTTP; absent: the assignments' `files` are ignored. */
  transfers?: TransferSettings;
  now?: () => number;
}

/**
 * Runs the assignment to its end and never rejects: whatever happens, the job's log is closed
 * and its `done` handed to the outbox (after the last chunk). Aborting
 * `signal` cancels the job; a string `signal.reason` becomes the done's reason. `release` is
 * called once the job's processes are gone and before its `done` can leave: the server hands
 * the slot to the next job as soon as it reads the done, so the slot must be free by then.
 */
export type JobRunner = (assignment: JobAssignment, signal: AbortSignal, release: () => void) => Promise<JobEnd>;

export function createJobRunner(o: JobRunnerOptions): JobRunner {
  const now = o.now ?? Date.now;
  // Why numbers per repo and kind: a workspace is used by one job at a time, so each running
  // job takes the lowest free number, and gives it back before its slot is freed — the next
  // job (sent the moment the server reads the done) then finds it free and untouched.
  const inUse = new Map<string, Set<number>>();
  const take = (kind: string): number => {
    const used = inUse.get(kind) ?? new Set<number>();
    inUse.set(kind, used);
    let n = 1;
    while (used.has(n)) n++;
    used.add(n);
    return n;
  };
  return async (a, signal, release) => {
    const log = o.logger.child({ jobId: a.jobId, runId: a.runId, attempt: a.attempt, job: a.job.name });
    const out = await o.outbox.begin({ jobId: a.jobId, attempt: a.attempt, token: a.token });
    const jobLog = createJobLog({
      jobId: a.jobId, attempt: a.attempt, secrets: a.secrets, capBytes: a.logCapBytes, now, onChunk: (c) => out.chunk(c),
    });
    const system = (text: string) => jobLog.write(null, 'system', `${text}\n`);
    const startedAt = now();
    const mode = a.job.checkout ?? DEFAULT_CHECKOUT;
    const kind = `${a.repo}:${mode.depth !== null}:${mode.filter}`;
    const number = take(kind);
    const workspace = workspacePath(o.workspacesDir, a.repo, number, mode);
    let end: JobEnd;
    let cause: string | null = null;
    log.debug('job started');
    try {
      ({ cause, ...end } = await runInWorkspace({ a, workspace, signal, system, jobLog, out, o, log }));
    } catch (err) {
      log.error({ err }, 'job failed in the agent');
      system(`✖ agent error: ${message(err)}`);
      end = { status: 'error', exitCode: null, reason: `agent error: ${message(err)}` };
    }
    if (end.status === 'cancelled' && typeof signal.reason === 'string') end = { ...end, reason: signal.reason };
    // The log's last line: what the job came to, after its files moved (an artifact over the
    // limit fails a job whose steps passed).
    system(jobOutcomeLine(end, cause, now() - startedAt));
    jobLog.close();
    inUse.get(kind)?.delete(number);
    release();
    await out.finish({ ...end, at: now() });
    log.debug({ status: end.status, exitCode: end.exitCode, reason: end.reason }, 'job ended');
    return end;
  };
}

interface JobContext {
  a: JobAssignment;
  workspace: string;
  signal: AbortSignal;
  system(text: string): void;
  jobLog: JobLog;
  out: JobOutbox;
  o: JobRunnerOptions;
  log: Logger;
}

/** How a job ended, and which step decided it when one did (for the log's last line). */
type Outcome = JobEnd & { cause: string | null };

async function runInWorkspace({ a, workspace, signal, system, jobLog, out, o, log }: JobContext): Promise<Outcome> {
  const now = o.now ?? Date.now;
  let executor: Executor;
  try {
    executor = o.executorFor({ job: a.job, jobId: a.jobId, log: system, signal });
  } catch (err) {
    system(`✖ ${message(err)}`);
    return { status: 'error', exitCode: null, reason: message(err), cause: null };
  }
  system(`kiln: checking out ${a.sha.slice(0, 12)} of ${a.repo}${a.ref ? ` (${a.ref})` : ''}`);
  try {
    const result = await o.checkout.checkout({ repo: a.repo, sha: a.sha, workspaceDir: workspace, mode: a.job.checkout ?? DEFAULT_CHECKOUT, log: system });
    system(checkedOut(result, a.job.checkout ?? DEFAULT_CHECKOUT));
  } catch (err) {
    log.warn({ err: message(err) }, 'checkout failed');
    system(`✖ checkout failed: ${message(err)}`);
    return { status: 'error', exitCode: null, reason: `checkout failed: ${message(err)}`, cause: null };
  }
  const env = { ...a.env, KILN_WORKSPACE: workspace };
  // Why the check here and the module loaded on demand: most jobs move no files, and for them
  // this costs one test and no import.
  const transfers = o.transfers && a.files && (a.files.artifacts.length > 0 || a.job.artifacts || a.job.cache)
    ? await loadTransfers(o.transfers, { a: { ...a, files: a.files }, workspace, env: { ...a.job.env, ...env }, system, signal, log, now })
    : null;
  const before = transfers ? await transfers.beforeSteps() : null;
  if (before !== null) return { ...before, cause: null };
  const result = await runJob({
    job: a.job,
    executor,
    workspace,
    env,
    output: jobLog,
    signal,
    clock: { now },
    onStepStart: (s) => out.step({ index: s.index, status: 'running', exitCode: null, at: s.startedAt }),
    onStepEnd: (s) => out.step({ index: s.index, status: s.status === 'skipped' ? 'skipped' : finalStatus(s.status), exitCode: s.exitCode, at: s.finishedAt ?? now() }),
    onTeardownError: (err) => log.warn({ err }, 'executor teardown failed'),
  });
  const end: JobEnd = { status: finalStatus(result.status), exitCode: result.exitCode, reason: result.reason };
  const after = transfers ? await transfers.afterSteps(end) : end;
  // The step's cause holds only while the files' work left the outcome as the steps made it.
  return { ...after, cause: after.status === end.status && after.reason === end.reason ? result.cause : null };
}

/** The artifact and cache work of a job that has some (agent/files/job-transfers.ts). */
async function loadTransfers(settings: TransferSettings, request: JobTransferRequest): Promise<JobTransfers> {
  const { createJobTransfers } = await import('../files/job-transfers.js');
  return createJobTransfers(settings, request);
}

/** `kiln: checked out 1a2b3c4d5e6f in 0.09 s (reused workspace, no fetch)`. */
export function checkedOut(r: CheckoutResult, mode: typeof DEFAULT_CHECKOUT): string {
  const how = [
    r.reused ? 'reused workspace' : 'fresh clone',
    ...(mode.depth !== null ? [`depth ${mode.depth}`] : []),
    ...(mode.filter !== null ? [`filter ${mode.filter}`] : []),
    r.fetched ? 'fetched from the server' : 'no fetch',
  ];
  return `kiln: checked out ${r.sha.slice(0, 12)} in ${(r.durationMs / 1000).toFixed(2)} s (${how.join(', ')})`;
}

function finalStatus(status: string): DoneMessage['status'] {
  return status === 'success' || status === 'failed' || status === 'cancelled' ? status : 'error';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
