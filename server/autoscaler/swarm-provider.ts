// The `swarm` provider: one replicated service per pool (`kiln-pool-<name>`) whose running tasks
// are the pool's agents, each named `kiln-<pool>-<task id>` through a service env template.
//
// Scaling down without killing a busy agent (the handshake):
//
//   autoscaler: idle past idle_timeout ─▶ hub.drain ─▶ agent finishes its jobs, exits 0
//   swarm:      restart condition `on-failure` ─▶ the task ends `complete` and is NOT replaced;
//               its slot still counts toward `replicas` (swarmkit: a task that must not be
//               restarted keeps its slot), so nothing new starts in its place
//   list():     replicas > running slots, and every live task is `running`
//               ─▶ replicas := running slots. swarmkit removes the slots whose task is not
//               running first, so only the completed (drained) slots go.
//
// Why not lower `replicas` when draining: swarm, not kiln, would pick the task to end, and it
// could pick a busy agent. Lowering it only after the drained agents have exited leaves swarm
// nothing running to pick. Why "every live task is running": a task still starting sorts with
// the completed ones and could be the one removed. What is left of the risk: on a multi-node
// swarm swarmkit balances nodes before it prefers non-running slots, so it may end a running
// agent of a crowded node; that agent gets SIGTERM and a stop grace period (`stopGraceMs`,
// default 1 h) to finish its jobs, so the job is still not killed — the pool only has one agent
// fewer until the next pass starts another.
//
// `remove` (agents that never connected or stayed disconnected) stops the task's container on
// this engine: SIGTERM → the agent exits 0 → `complete`, reaped like a drained one. An agent
// that crashes is restarted by swarm (a new task, so a new name) at most 3 times per slot; then
// its slot holds a failed task and is reaped too. A deploy whose new tasks fail at once (no such
// image on the node) rejects with swarm's reason and takes its replicas back.
//
// The agent token is a swarm secret (swarm-secret.ts), mounted in each task as a file; the
// service spec only names it. The service carries a hash of its agent template (image,
// environment with the server URL, the token secret's name, network) as a label; a deploy with a different one updates the template with the
// replicas, and swarm's rolling update stops each old agent with SIGTERM and the stop grace, so
// each drains before it is replaced.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { createEngines, DEFAULT_AGENT_IMAGE, engineLabel, type EngineEnv } from './docker-engine.js';
import type { AgentProvider, Instance } from './provider.js';
import { ensureTokenSecret, pruneTokenSecrets } from './swarm-secret.js';
import { isLive, serviceName, serviceSpec, type ServiceSpec, type Task } from './swarm-service.js';

export interface SwarmProviderOptions {
  /** The manager's engine for pools without `docker.host` (default: dockerode's, from DOCKER_HOST). */
  docker?: Docker;
  logger: Logger;
  env?: EngineEnv;
  /** SIGTERM → SIGKILL delay in `remove` (default 10 s). */
  killGraceMs?: number;
  /** The service's stop grace period: how long a task swarm itself stops may drain (default 1 h). */
  stopGraceMs?: number;
  /** How long `deploy` waits for new tasks to run or fail (default 30 s). */
  deployWaitMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;
const oneLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

export function createSwarmProvider(options: SwarmProviderOptions): AgentProvider {
  const { logger } = options;
  const env = options.env ?? process.env;
  const engineOf = createEngines(env, options.docker);
  const killGraceMs = options.killGraceMs ?? 10_000;
  const stopGraceMs = options.stopGraceMs ?? 3_600_000;
  const deployWaitMs = options.deployWaitMs ?? 30_000;
  const engineByPool = new Map<string, Docker>();

  const toInstance = (pool: string, t: Task): Instance => ({
    name: `kiln-${pool}-${t.ID}`, pool, startedAtMs: Date.parse(t.CreatedAt), ref: t.ID, log: `docker service logs ${serviceName(pool)}`,
  });
  const tasksOf = async (docker: Docker, pool: string) => (await docker.listTasks({ filters: { service: [serviceName(pool)] } })) as Task[];
  const inspect = async (docker: Docker, pool: string) => {
    try {
      return await docker.getService(serviceName(pool)).inspect() as { ID: string; Version: { Index: number }; Spec: Docker.ServiceSpec & { Mode: { Replicated: { Replicas: number } }; Labels?: Record<string, string> } };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  };
  /**
   * Replicas from `replicas(current)`; with `fresh`, also that agent template when it changed
   * (a new server URL, token or image). Why that is safe: swarm then replaces the running
   * agents one by one, each stopped with SIGTERM and the long stop grace, so each drains first.
   */
  const setReplicas = async (docker: Docker, pool: string, replicas: (current: number) => number, fresh?: ServiceSpec) => {
    for (let attempt = 0; ; attempt++) {
      const service = (await inspect(docker, pool))!;
      const changed = fresh !== undefined && fresh.Labels['kiln.template'] !== service.Spec.Labels?.['kiln.template'];
      const base = changed ? fresh : service.Spec;
      const spec = { ...base, Mode: { Replicated: { Replicas: replicas(service.Spec.Mode.Replicated.Replicas) } } };
      if (changed) logger.info({ pool }, 'agent template changed: swarm replaces the agents, each draining first');
      try {
        await docker.getService(service.ID).update({ version: service.Version.Index, ...spec });
        return spec.Mode.Replicated.Replicas;
      } catch (error) {
        if (attempt >= 2 || !/update out of sequence/i.test(oneLine(error))) throw error; // someone else updated it meanwhile
      }
    }
  };

  /** Lowers `replicas` to the running slots once only ended (drained) slots hold the rest. */
  async function reap(docker: Docker, pool: string, tasks: Task[], replicas: number): Promise<void> {
    const live = tasks.filter(isLive);
    const slots = new Set(live.map((t) => t.Slot));
    if (replicas <= slots.size || live.some((t) => t.Status.State !== 'running')) return;
    const now = await setReplicas(docker, pool, (current) => (current === replicas ? slots.size : current));
    logger.info({ pool, from: replicas, to: now }, 'swarm service shrunk to its running agents');
  }

  /** The pool's token secrets that its service no longer names (a token changed) are removed. */
  async function pruneSecrets(docker: Docker, pool: string, spec: Docker.ServiceSpec): Promise<void> {
    const current = spec.TaskTemplate && 'ContainerSpec' in spec.TaskTemplate ? spec.TaskTemplate.ContainerSpec?.Secrets?.[0]?.SecretName : undefined;
    if (!current) return;
    const removed = await pruneTokenSecrets(docker, pool, current).catch((error: unknown) => {
      logger.warn({ err: error, pool }, 'cannot list the pool\'s token secrets');
      return [];
    });
    if (removed.length > 0) logger.info({ pool, secrets: removed }, 'old agent token secrets removed');
  }

  return {
    kind: 'swarm',
    async deploy(pool, count, spec) {
      const docker = engineOf(pool);
      engineByPool.set(pool.name, docker);
      const before = new Set((await tasksOf(docker, pool.name).catch(() => [] as Task[])).map((t) => t.ID));
      const service = await inspect(docker, pool.name);
      try {
        const secret = await ensureTokenSecret(docker, pool.name, spec.token, pool.docker?.image ?? DEFAULT_AGENT_IMAGE);
        if (service) await setReplicas(docker, pool.name, (current) => current + count, serviceSpec(pool, spec, 0, stopGraceMs, secret));
        else await docker.createService(serviceSpec(pool, spec, count, stopGraceMs, secret));
      } catch (error) {
        throw new Error(`cannot scale swarm service ${serviceName(pool.name)} on ${engineLabel(pool, env)}: ${oneLine(error)}`, { cause: error });
      }
      // Wait for the new tasks to run (or fail: a missing image shows here, not at the update).
      for (const deadline = Date.now() + deployWaitMs; ; await sleep(200)) {
        const fresh = (await tasksOf(docker, pool.name)).filter((t) => !before.has(t.ID));
        const failed = fresh.find((t) => t.Status.State === 'failed' || t.Status.State === 'rejected');
        if (failed) {
          await setReplicas(docker, pool.name, (current) => Math.max(0, current - count)).catch(() => {});
          const image = pool.docker?.image ?? DEFAULT_AGENT_IMAGE;
          throw new Error(`agent task of image ${image} failed on ${engineLabel(pool, env)}: ${failed.Status.Err ?? failed.Status.State}`);
        }
        const started = fresh.filter(isLive);
        if ((started.length >= count && started.every((t) => t.Status.State === 'running')) || Date.now() > deadline) {
          logger.info({ pool: pool.name, agents: started.map((t) => t.ID) }, 'swarm agents started');
          return started.map((t) => toInstance(pool.name, t));
        }
      }
    },
    async list(pool) {
      const docker = engineOf(pool);
      engineByPool.set(pool.name, docker);
      const service = await inspect(docker, pool.name);
      if (!service) return [];
      const tasks = await tasksOf(docker, pool.name);
      await reap(docker, pool.name, tasks, service.Spec.Mode.Replicated.Replicas);
      await pruneSecrets(docker, pool.name, service.Spec);
      return tasks.filter(isLive).map((t) => toInstance(pool.name, t)).sort((a, b) => a.startedAtMs - b.startedAtMs || a.name.localeCompare(b.name));
    },
    async remove(instance) {
      const docker = engineByPool.get(instance.pool) ?? engineOf({ docker: null });
      let task: Task;
      try {
        task = (await docker.getTask(instance.ref).inspect()) as Task;
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw error;
      }
      if (!isLive(task)) return;
      const containerId = task.Status.ContainerStatus?.ContainerID;
      if (!containerId) throw new Error(`agent ${instance.name} has no container yet (task ${task.Status.State}); swarm may still be placing it`);
      try {
        await docker.getContainer(containerId).stop({ t: Math.ceil(killGraceMs / 1000) });
      } catch (error) {
        if (statusOf(error) === 404) throw new Error(`agent ${instance.name} runs on swarm node ${task.NodeID ?? '?'}, not on this engine: kiln cannot stop it`);
        if (statusOf(error) !== 304) throw error;
      }
      logger.info({ pool: instance.pool, agent: instance.name }, 'swarm agent stopped');
    },
  };
}
