// The Executor contract: how a job's steps run, whatever the mechanism (host shell, container).
import type { PlannedStep } from '../../shared/pipeline/types.js';

export type OutputStream = 'stdout' | 'stderr';

/** Why a step ended other than by exiting on its own. */
export type StepEndReason =
  | 'timeout'    // the step's `timeoutMs` passed; the executor stopped it
  | 'cancelled'  // the abort signal fired; the executor stopped it
  | 'error';     // the executor could not run it (e.g. the shell does not exist); see `message`

export interface StepOutcome {
  /** The exit code, or null when the step died of a signal or never started. */
  exitCode: number | null;
  reason?: StepEndReason;
  /** The signal that ended the step's main process, if any. */
  signal?: NodeJS.Signals;
  /** One line for the job log when `reason` is `error`. */
  message?: string;
}

export interface ExecutorSetup {
  /** An existing folder on the agent's host: the job's checkout; steps run in it. */
  workspace: string;
  /** The job's environment (pipeline + job env, KILN_* variables, secrets). */
  env: Record<string, string>;
}

export interface RunStepOptions {
  /** The step's variables; they win over the job env given at setup. */
  env: Record<string, string>;
  /** Aborting stops the step's whole process tree (graceful, then forced) and resolves `cancelled`. */
  signal: AbortSignal;
  /** Output as it arrives: in order within each stream, never after runStep has resolved. */
  onOutput(stream: OutputStream, data: Buffer): void;
}

/**
 * Runs the steps of one job. Lifecycle (one instance per job):
 *
 *   setup(ctx) ──▶ runStep(step) × n, one at a time ──▶ teardown() [again: no-op]
 *
 * - `setup` prepares the place steps run in; it rejects when that is impossible.
 * - `runStep` runs `step.run` (expressions already expanded) with `step.shell`, cwd the
 *   workspace, env = a minimal base + job env + `opts.env`. It never rejects for the step's
 *   own failure: a non-zero exit is an outcome. It enforces `step.timeoutMs` itself.
 *   Stopping (timeout or abort) is graceful then forced, and reaches every process the step
 *   started, even ones that ignore SIGTERM or run in the background; the promise resolves
 *   only after that, within 5 s of the stop. It resolves once the main process has exited
 *   and its output has ended; a background process that holds the output open after the main
 *   process exited is stopped rather than waited for.
 * - `teardown` stops whatever the job left running and removes what setup made. It is safe
 *   to call twice, or after a failed setup, and never rejects for a missing resource.
 */
export interface Executor {
  readonly kind: string;
  setup(ctx: ExecutorSetup): Promise<void>;
  runStep(step: PlannedStep, opts: RunStepOptions): Promise<StepOutcome>;
  teardown(): Promise<void>;
}
