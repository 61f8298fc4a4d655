// Which executor runs a job: `image` → the docker executor; otherwise the shell executor, with
// the job's services and dind started beside it when it asks for them.
import { KilnError } from '../../shared/errors.js';
import type { PlannedJob } from '../../shared/pipeline/types.js';
import type { DockerConfig } from '../config.js';
import type { DockerEngine } from './docker/engine.js';
import type { DindSecurity } from './docker/dind-settings.js';
import type { Sidecars } from './docker/sidecars.js';
import type { Executor } from './executor.js';
import { createShellExecutor } from './shell.js';

export interface ExecutorChoice {
  /** The engine, or null when this agent has none (image jobs then fail with a clear reason). */
  docker: DockerEngine | null;
  config: DockerConfig;
  agentName: string;
  baseEnv: Record<string, string>;
}

export interface ExecutorRequest {
  job: PlannedJob;
  jobId: number;
  /** A system line for the job log. */
  log(text: string): void;
  signal: AbortSignal;
}

/** The executor for one job; throws a KilnError (the job then ends `error`) when none can run it. */
export function chooseExecutor(choice: ExecutorChoice, request: ExecutorRequest): Executor {
  const { job } = request;
  const needsDocker = job.image !== null || job.services.length > 0 || job.docker === 'dind';
  if (needsDocker && choice.docker === null) {
    throw new KilnError('bad_input', `job "${job.name}" needs Docker (${job.image ? `image ${job.image}` : 'services or dind'}), and this agent has no Docker engine`);
  }
  const dind = dindSecurity(choice.config);
  // The docker modules (and dockerode) load with the first job that needs them: most agents run host jobs only.
  const engine = choice.docker;
  if (job.image !== null) {
    return deferred('docker', async () => (await import('./docker/executor.js')).createDockerExecutor({
      docker: await engine!.client(), job, jobId: request.jobId, agentName: choice.agentName, network: choice.config.network,
      dind, log: request.log, signal: request.signal, caBundle: choice.config.caBundle, volumes: choice.config.volumes,
    }));
  }
  const shell = createShellExecutor({ baseEnv: choice.baseEnv });
  if (!needsDocker) return shell;
  return withSidecars(shell, async () => {
    request.log('kiln: services run on the host network: reach them at 127.0.0.1 (their names resolve only inside containers)');
    const [docker, { startSidecars }] = await Promise.all([engine!.client(), import('./docker/sidecars.js')]);
    return startSidecars({ docker, job, jobId: request.jobId, agentName: choice.agentName, network: 'host', dind, log: request.log, signal: request.signal });
  });
}

/** An executor made at setup, once what it needs is loaded (dockerode, for the docker executor). */
function deferred(kind: string, make: () => Promise<Executor>): Executor {
  let inner: Executor | null = null;
  return {
    kind,
    async setup(ctx) {
      inner = await make();
      await inner.setup(ctx);
    },
    runStep: (step, opts) => inner!.runStep(step, opts),
    teardown: async () => inner?.teardown(),
  };
}

/** A host job's services and dind: started before its first step, stopped after its last. */
function withSidecars(inner: Executor, start: () => Promise<Sidecars>): Executor {
  let sidecars: Sidecars | null = null;
  return {
    kind: inner.kind,
    async setup(ctx) {
      sidecars = await start();
      await inner.setup({ ...ctx, env: { ...ctx.env, ...sidecars.env } });
    },
    runStep: (step, opts) => inner.runStep(step, opts),
    async teardown() {
      try {
        await inner.teardown();
      } finally {
        await sidecars?.stop();
      }
    },
  };
}

/** The agent's dind settings, in the form the sidecars take. */
export function dindSecurity(config: DockerConfig): DindSecurity {
  if (config.dind.privileged) return { privileged: true };
  return {
    privileged: false, capAdd: config.dind.capAdd, securityOpt: config.dind.securityOpt, cgroupnsHost: true,
    binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'], daemonArgs: [],
  };
}
