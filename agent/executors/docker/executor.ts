// DockerExecutor: a job's steps as `docker exec`s in one job container made from its image.
//
// Why one container per job and an exec per step, not a container per step: steps of a job
// share more than the workspace. A server started in the background by one step is used by
// the next (the conformance suite requires it), tools installed outside the workspace
// (`apt-get install`, `npm i -g`) stay installed, and the container, its sidecars and
// networks are made once per job. It is also cheaper: measured here, an exec step costs
// ~40 ms, a container per step would add create + start + remove (~120 ms) to each. What a
// container per step would give for free (kill the step = kill the container) an exec gets
// from process groups: each exec is a session leader, the wrapper writes its pgid to
// /.kiln/step-N.pgid, and a stop is `kill -TERM -<pgid>`, then `-KILL` after the grace, run
// as root inside the container (step-group.ts).
//
//   setup: pull per policy ─▶ sidecars (only if services or docker:) ─▶ job container started
//   runStep × n: script into /.kiln ─▶ exec (wrapper records pgid) ─▶ output ─▶ exit code
//   teardown: container removed (force) ─▶ sidecars stopped ─▶ anything labelled for the job
import { posix } from 'node:path';
import type Docker from 'dockerode';
import { KilnError } from '../../../shared/errors.js';
import type { PlannedJob, PullPolicy } from '../../../shared/pipeline/types.js';
import type { Executor, ExecutorSetup, StepOutcome } from '../executor.js';
import { DEFAULT_SHELL, splitShell } from '../shell.js';
import { removeJobResources } from './cleanup.js';
import { execCommand } from './exec-command.js';
import { runExecStep } from './exec-step.js';
import { ensureImage } from './images.js';
import type { DockerVolume } from '../../job-env-config.js';
import { describeAgentMounts, jobContainerName, runsAsRoot, startJobContainer } from './job-container.js';
import { jobLabels } from './labels.js';
import { startSidecars, type DindSecurity, type Sidecars } from './sidecars.js';
import { makeStepDir, STEP_DIR, type StepDir } from './step-files.js';

export interface DockerExecutorOptions {
  docker: Docker;
  job: PlannedJob;
  jobId: number;
  agentName: string;
  network: 'host' | 'bridge';
  dind: DindSecurity;
  /** Overrides `job.pull` (e.g. an agent that must never pull). */
  pull?: PullPolicy;
  /** A pull that takes longer fails the job; default 10 min. */
  pullTimeoutMs?: number;
  /** TERM → KILL delay when a step is stopped; default 3000. */
  graceMs?: number;
  /** How long a step's output may stay open after its shell exited; default 1000. */
  drainMs?: number;
  /** System lines for the job log (pull progress, container ids), one line each, no newline. */
  log(text: string): void;
  /** A host CA bundle mounted over the image's (and NODE_EXTRA_CA_CERTS, SSL_CERT_FILE), or null. */
  caBundle?: string | null;
  /** Host paths the agent's owner allows (`--docker-volumes`), mounted in the job container only. */
  volumes?: readonly DockerVolume[];
  /** The job's cancel: aborts a pull or sidecars still starting in setup. */
  signal?: AbortSignal;
}

/** The Executor for jobs with `image:`; one instance per job (see executor.ts for the contract). */
export function createDockerExecutor(o: DockerExecutorOptions): Executor {
  const graceMs = o.graceMs ?? 3000;
  const drainMs = o.drainMs ?? 1000;
  const labels = jobLabels(o.agentName, o.jobId);
  let job: ExecutorSetup | null = null;
  let container: Docker.Container | null = null;
  let sidecars: Sidecars | null = null;
  let stepDir: StepDir | null = null;
  let asRoot = true;
  let stepCount = 0;

  return {
    kind: 'docker',

    async setup(ctx) {
      const image = o.job.image;
      if (!image) throw new KilnError('bad_input', `job "${o.job.name}" has no image for the docker executor`);
      const signal = o.signal ?? new AbortController().signal;
      await ensureImage({ docker: o.docker, image, policy: o.pull ?? o.job.pull, log: o.log, signal, timeoutMs: o.pullTimeoutMs });
      const imageInfo = await o.docker.getImage(image).inspect();
      signal.throwIfAborted();
      sidecars = await startSidecarsIfAny(o, signal);
      stepDir = await makeStepDir(ctx.workspace);
      const secrets = new Set(o.job.secrets);
      // Secrets go to each exec only: a container's env stays readable in `docker inspect`.
      const env = Object.fromEntries(Object.entries(ctx.env).filter(([key]) => !secrets.has(key)));
      container = await startJobContainer({
        docker: o.docker, image, imageInfo, name: jobContainerName(o.agentName, o.jobId), user: o.job.user,
        workspace: ctx.workspace, env: { ...env, ...sidecars.env }, labels, networkMode: sidecars.network,
        binds: [`${stepDir.hostPath}:${STEP_DIR}`, ...sidecars.binds], extraHosts: sidecars.extraHosts, caBundle: o.caBundle ?? null, volumes: o.volumes ?? [],
      });
      o.log(`job container ${container.id.slice(0, 12)} from ${image}${o.job.user ? ` as ${o.job.user}` : ''}`);
      const mounts = describeAgentMounts(o.caBundle ?? null, o.volumes ?? []);
      if (mounts) o.log(`the agent mounts ${mounts}`);
      asRoot = runsAsRoot(o.job.user, imageInfo);
      if (!asRoot) await openWorkspace(container, ctx.workspace, o.log);
      job = ctx;
    },

    async runStep(step, opts): Promise<StepOutcome> {
      if (!job || !container || !stepDir) throw new Error('docker executor: runStep before setup');
      if (opts.signal.aborted) return { exitCode: null, reason: 'cancelled' };
      const shell = splitShell(step.shell || DEFAULT_SHELL);
      const files = await stepDir.write(stepCount++, step.run);
      const outcome = await runExecStep({
        docker: o.docker, container, command: [...shell, files.script], pgidFile: files.pgid,
        env: { ...job.env, ...opts.env }, user: o.job.user ?? undefined, workdir: step.workingDirectory ? posix.join(job.workspace, step.workingDirectory) : job.workspace,
        timeoutMs: step.timeoutMs, signal: opts.signal, graceMs, drainMs, pollMs: 250,
        onOutput: opts.onOutput, log: o.log,
      });
      if (outcome.exitCode === 127 && !outcome.reason && !(await hasCommand(container, shell[0]))) {
        return { exitCode: null, reason: 'error', message: `cannot start ${shell[0]}: not found in image ${o.job.image}` };
      }
      return outcome;
    },

    async teardown() {
      const c = container;
      const s = sidecars;
      const dir = stepDir;
      const workspace = job?.workspace;
      container = null;
      sidecars = null;
      stepDir = null;
      job = null;
      const problems: unknown[] = [];
      const attempt = (p: Promise<unknown>) => p.catch((err: unknown) => problems.push(err));
      // Files a non-root user made must stay removable by the agent once the job is gone.
      if (c && !asRoot && workspace) await attempt(openWorkspace(c, workspace, o.log));
      if (c) await attempt(c.remove({ force: true, v: true }).catch(ignoreMissing));
      if (s) await attempt(s.stop());
      if (dir) await attempt(dir.remove());
      await attempt(removeJobResources(o.docker, o.agentName, o.jobId));
      if (problems.length > 0) throw problems[0];
    },
  };
}

async function startSidecarsIfAny(o: DockerExecutorOptions, signal: AbortSignal): Promise<Sidecars> {
  if (o.job.services.length > 0 || o.job.docker !== null) {
    return startSidecars({ docker: o.docker, job: o.job, jobId: o.jobId, agentName: o.agentName, network: o.network, dind: o.dind, log: o.log, signal });
  }
  return { network: o.network, env: {}, extraHosts: [], binds: [], stop: async () => undefined };
}

/** Lets a non-root step user write in the checkout (as GitLab's umask 0000 clone does). */
async function openWorkspace(container: Docker.Container, workspace: string, log: (text: string) => void): Promise<void> {
  const result = await execCommand(container, ['chmod', '-R', 'a+rwX', workspace], { user: '0', timeoutMs: 60_000 });
  if (result.exitCode !== 0) log(`could not open the workspace to the step user: ${result.output.trim() || 'timed out'}`);
}

async function hasCommand(container: Docker.Container, command: string): Promise<boolean> {
  const result = await execCommand(container, ['sh', '-c', 'command -v "$1"', 'kiln-check', command], { timeoutMs: 10_000 }).catch(() => null);
  return result?.exitCode === 0;
}

function ignoreMissing(err: unknown): void {
  const status = (err as { statusCode?: number }).statusCode;
  if (status !== 404 && status !== 409) throw err;
}
