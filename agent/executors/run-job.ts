// Runs a PlannedJob's steps in order on an Executor and decides the job's status.
import type { PlannedJob, PlannedStep } from '../../shared/pipeline/types.js';
import type { Status } from '../../shared/status.js';
import type { LogStream } from '../logs/chunk.js';
import type { Executor, StepOutcome } from './executor.js';
import { expandExpressions } from './expressions.js';
import { setLongTimeout } from './long-timeout.js';
import { spokenDuration, stepOutcome, stepOutcomeLine } from './outcome-lines.js';
import { stepSkipReason } from './step-when.js';
import { missingWorkingDirectory } from './working-directory.js';

/** Where the job's output goes (a JobLog); `endStep` lets a last line without newline out. */
export interface JobOutput {
  write(step: number | null, stream: LogStream, data: Buffer | string): void;
  endStep(step: number): void;
}

export interface StepResult {
  index: number;
  name: string;
  status: Status;              // success | failed | cancelled | skipped | error
  exitCode: number | null;
  reason: string | null;       // e.g. `timeout`, `cancelled`, the executor's error
  startedAt: number | null;    // ms since the epoch; null when skipped
  finishedAt: number | null;
}

export interface JobResult {
  status: Status;              // success | failed | cancelled | error
  exitCode: number | null;     // of the step that failed the job
  reason: string | null;
  /** What decided a job that did not succeed, for its last log line: `step 2 'npm test' exited with code 3`. */
  cause: string | null;
  steps: StepResult[];
}

export interface RunJobOptions {
  job: PlannedJob;
  executor: Executor;
  workspace: string;
  /** Variables the agent sets (CI, KILN_*, secrets); they win over `job.env`. */
  env: Record<string, string>;
  output: JobOutput;
  /** Cancels the job: the running step is stopped, later ones are skipped. */
  signal?: AbortSignal;
  clock?: { now(): number };
  onStepStart?(step: { index: number; name: string; startedAt: number }): void;
  onStepEnd?(result: StepResult): void;
  onTeardownError?(err: unknown): void;
}

/**
 * setup → steps in order → teardown (always). A step that fails (non-zero exit, its own timeout)
 * fails the job unless `continueOnError`; after that only steps whose `when.status` holds
 * `failure` or `always` run. Cancel and the job's `timeoutMs` stop the running step and skip
 * the rest, clean-up steps included. Never rejects: an executor failure (setup, or a step it
 * could not run) makes the job `error`; after a failed setup no step runs.
 */
export async function runJob(o: RunJobOptions): Promise<JobResult> {
  const clock = o.clock ?? { now: () => Date.now() };
  const stop = new AbortController();
  let timedOut = false;
  const onCancel = () => stop.abort();
  if (o.signal?.aborted) stop.abort();
  o.signal?.addEventListener('abort', onCancel, { once: true });
  const cancelTimer = o.job.timeoutMs === null ? () => {} : setLongTimeout(() => {
    timedOut = true;
    stop.abort();
  }, o.job.timeoutMs);

  const jobEnv = { ...o.job.env, ...o.env };
  const steps: StepResult[] = [];
  let failure: StepResult | null = null;
  let error: string | null = null;
  let errorCause: string | null = null;
  let setupFailed = false;
  let interrupted = false; // a step was cancelled, or skipped because of the cancel
  try {
    await o.executor.setup({ workspace: o.workspace, env: jobEnv });
  } catch (err) {
    setupFailed = true;
    // A cancel (or the job's timeout) during a slow setup, e.g. an image pull, is not a system failure.
    if (stop.signal.aborted) interrupted = true;
    else {
      error = `executor setup failed: ${errorMessage(err)}`;
      o.output.write(null, 'system', `✖ ${error}\n`);
    }
  }
  try {
    for (const [index, step] of o.job.steps.entries()) {
      const env = { ...jobEnv, ...step.env };
      if (stop.signal.aborted) interrupted = true;
      const failed = failure !== null || error !== null;
      const why = setupFailed ? 'the executor setup failed' : stop.signal.aborted ? 'the job was stopped' : stepSkipReason(step.when, { failed, env });
      if (why !== null && !setupFailed && !stop.signal.aborted) o.output.write(index, 'system', `○ ${step.name}: skipped, ${why}\n`);
      let result: StepResult = why === null ? await runOneStep(o, clock, stop.signal, index, step, env) : skipped(index, step, why);
      if (timedOut && result.reason === 'cancelled') {
        // The job timer fired during this step: it failed by time, it was not cancelled.
        o.output.write(index, 'system', `✖ job timed out after ${o.job.timeoutMs} ms\n`);
        result = { ...result, status: 'failed', reason: 'timeout' };
      }
      if (why === null) {
        const durationMs = (result.finishedAt ?? clock.now()) - (result.startedAt ?? clock.now());
        o.output.write(index, 'system', `${stepOutcomeLine({ ...result, durationMs }, step.continueOnError)}\n`);
      }
      steps.push(result);
      o.onStepEnd?.(result);
      if (result.status === 'cancelled') interrupted = true;
      if (result.status === 'error' && !step.continueOnError && error === null) {
        error = result.reason;
        errorCause = describe(result);
      }
      if (result.status === 'failed' && !step.continueOnError) failure ??= result;
    }
  } finally {
    cancelTimer();
    o.signal?.removeEventListener('abort', onCancel);
    await o.executor.teardown().catch((err: unknown) => o.onTeardownError?.(err));
  }
  if (error) return { status: 'error', exitCode: null, reason: error, cause: errorCause ?? error, steps };
  if (timedOut) return { status: 'failed', exitCode: null, reason: 'timeout', cause: `timed out after ${spokenDuration(o.job.timeoutMs ?? 0)}`, steps };
  if (interrupted) return { status: 'cancelled', exitCode: null, reason: 'cancelled', cause: null, steps };
  if (failure) return { status: 'failed', exitCode: failure.exitCode, reason: `step "${failure.name}" failed`, cause: describe(failure), steps };
  return { status: 'success', exitCode: 0, reason: null, cause: null, steps };
}

/** `step 2 'npm test' exited with code 3`: steps are counted from 1, skipped ones too. */
function describe(step: StepResult): string {
  return `step ${step.index + 1} '${step.name}' ${stepOutcome(step)}`;
}

async function runOneStep(
  o: RunJobOptions, clock: { now(): number }, signal: AbortSignal,
  index: number, step: PlannedStep, env: Record<string, string>,
): Promise<StepResult> {
  o.output.write(index, 'system', `▶ ${step.name}\n`);
  const startedAt = clock.now();
  o.onStepStart?.({ index, name: step.name, startedAt });
  let outcome: StepOutcome;
  try {
    const missing = await missingWorkingDirectory(o.workspace, step.workingDirectory ?? null);
    if (missing) return failedBefore(o, clock, index, step, startedAt, missing);
    const run = await expandExpressions(step.run, { env, workspace: o.workspace });
    outcome = await o.executor.runStep({ ...step, run }, {
      env,
      signal,
      onOutput: (stream, data) => o.output.write(index, stream, data),
    });
  } catch (err) {
    outcome = { exitCode: null, reason: 'error', message: errorMessage(err) };
  }
  if (outcome.reason === 'error') o.output.write(index, 'system', `✖ ${outcome.message ?? 'executor error'}\n`);
  if (outcome.reason === 'timeout') o.output.write(index, 'system', `✖ step timed out after ${step.timeoutMs} ms\n`);
  o.output.endStep(index);
  const status: Status =
    outcome.reason === 'cancelled' ? 'cancelled'
    : outcome.reason === 'error' ? 'error'
    : outcome.reason === 'timeout' || outcome.exitCode !== 0 ? 'failed'
    : 'success';
  const reason = outcome.reason === 'error' ? (outcome.message ?? 'executor error') : (outcome.reason ?? null);
  return { index, name: step.name, status, exitCode: outcome.exitCode, reason, startedAt, finishedAt: clock.now() };
}

function skipped(index: number, step: PlannedStep, reason: string): StepResult {
  return { index, name: step.name, status: 'skipped', exitCode: null, reason, startedAt: null, finishedAt: null };
}

/** The step fails without running (its working directory is missing): one line says why. */
function failedBefore(o: RunJobOptions, clock: { now(): number }, index: number, step: PlannedStep, startedAt: number, message: string): StepResult {
  o.output.write(index, 'system', `✖ ${message}\n`);
  o.output.endStep(index);
  return { index, name: step.name, status: 'failed', exitCode: null, reason: message, startedAt, finishedAt: clock.now() };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
