// The `docker` provider: each agent is a container on the pool's engine, found again by its
// `kiln.pool` label (containers outlive the server), ended with SIGTERM (the agent drains) and
// then removed. The pool's agents share a git cache volume (see gitCacheMount) that outlives them.
//
//   container:  create ─token file─start─▶ running ──agent exits (drained, or crashed)──▶ exited
//                                  │ remove: stop (SIGTERM … grace … SIGKILL)     │ list removes it
//                                  └──────────────▶ removed ◀──────────────────────┘
//   (an agent's last output lines go to the server log before its container is removed after a
//   failure or a `remove`: containers' logs go with them, so Instance.log is null)
// The agent token is copied into the created container (CONTAINER_TOKEN_FILE, owned by the
// image's user) before it starts: never in its environment, so `docker inspect` does not show it.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { PoolConfig } from '../config.js';
import { CONTAINER_TOKEN_FILE, tokenArchive, tokenFileOwner } from './agent-token.js';
import { agentEnv, checkImage, createEngines, DEFAULT_AGENT_IMAGE, engineLabel, gitCacheMount, type EngineEnv } from './docker-engine.js';
import type { AgentProvider, AgentSpec, Instance } from './provider.js';

export interface DockerProviderOptions {
  /** The engine for pools without `docker.host` (default: dockerode's, from DOCKER_HOST). */
  docker?: Docker;
  logger: Logger;
  /** Where DOCKER_HOST / DOCKER_CERT_PATH come from (default: the server's environment). */
  env?: EngineEnv;
  now?: () => number;
  randomId?: () => string;
  /** SIGTERM → SIGKILL delay in `remove` (default 10 s). */
  killGraceMs?: number;
}

const LIVE = new Set(['created', 'running', 'restarting', 'paused']);
const notFound = (error: unknown) => (error as { statusCode?: number }).statusCode === 404;

export function createDockerProvider(options: DockerProviderOptions): AgentProvider {
  const { logger } = options;
  const env = options.env ?? process.env;
  const engineOf = createEngines(env, options.docker);
  const now = options.now ?? Date.now;
  const randomId = options.randomId ?? (() => randomBytes(4).toString('hex'));
  const killGraceMs = options.killGraceMs ?? 10_000;
  // Why remember engines by container: `remove` gets an Instance, not its pool's config.
  const engineByRef = new Map<string, Docker>();

  async function startOne(docker: Docker, pool: PoolConfig, spec: AgentSpec, image: string, imageUser: string): Promise<Instance> {
    const name = `kiln-${pool.name}-${randomId()}`;
    const container = await docker.createContainer({
      name, Image: image, Env: agentEnv(pool, spec, name, CONTAINER_TOKEN_FILE),
      Labels: { 'kiln.pool': pool.name, 'kiln.agent-name': name },
      HostConfig: {
        Init: true, RestartPolicy: { Name: 'no' }, Mounts: [gitCacheMount(pool)],
        ...(pool.docker?.network ? { NetworkMode: pool.docker.network } : {}),
      },
    });
    try {
      await container.putArchive(await tokenArchive(CONTAINER_TOKEN_FILE, spec.token, tokenFileOwner(imageUser)), { path: '/' });
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => {});
      throw new Error(`cannot start agent container ${name}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    engineByRef.set(container.id, docker);
    logger.info({ pool: pool.name, agent: name, container: container.id.slice(0, 12), image }, 'agent container started');
    return { name, pool: pool.name, startedAtMs: now(), ref: container.id, log: null };
  }

  /** An exited agent: its last lines go to the log when it failed, then it is removed. */
  async function reap(docker: Docker, pool: string, info: Docker.ContainerInfo): Promise<void> {
    const container = docker.getContainer(info.Id);
    const name = info.Labels['kiln.agent-name'] ?? info.Names[0] ?? info.Id;
    try {
      const state = (await container.inspect()).State;
      if (state.ExitCode !== 0) {
        const tail = (await container.logs({ stdout: true, stderr: true, tail: 20 })).toString('utf8').replace(/[\x00-\x08]/g, '');
        logger.warn({ pool, agent: name, exitCode: state.ExitCode, tail }, 'agent container failed');
      } else logger.info({ pool, agent: name }, 'agent container exited');
      await container.remove({ force: true });
    } catch (error) {
      if (!notFound(error)) logger.warn({ err: error, pool, agent: name }, 'cannot remove exited agent container');
    }
    engineByRef.delete(info.Id);
  }

  return {
    kind: 'docker',
    async deploy(pool, count, spec) {
      const docker = engineOf(pool);
      const image = pool.docker?.image ?? DEFAULT_AGENT_IMAGE;
      const imageUser = await checkImage(docker, image, engineLabel(pool, env));
      const made: Instance[] = [];
      for (let i = 0; i < count; i++) made.push(await startOne(docker, pool, spec, image, imageUser));
      return made;
    },
    async list(pool) {
      const docker = engineOf(pool);
      const found = await docker.listContainers({ all: true, filters: { label: [`kiln.pool=${pool.name}`] } });
      const live: Instance[] = [];
      for (const info of found) {
        if (!LIVE.has(info.State)) {
          await reap(docker, pool.name, info);
          continue;
        }
        const name = info.Labels['kiln.agent-name'] ?? info.Names[0]!.replace(/^\//, '');
        engineByRef.set(info.Id, docker);
        live.push({ name, pool: pool.name, startedAtMs: info.Created * 1000, ref: info.Id, log: null });
      }
      return live.sort((a, b) => a.startedAtMs - b.startedAtMs || a.name.localeCompare(b.name));
    },
    async remove(instance) {
      const docker = engineByRef.get(instance.ref) ?? engineOf({ docker: null });
      const container = docker.getContainer(instance.ref);
      try {
        // The agent drains on SIGTERM (tini passes it on); the engine kills it after the grace.
        await container.stop({ t: Math.ceil(killGraceMs / 1000) }).catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode !== 304) throw error; // 304: already stopped
        });
        // Why its last lines go to the server log: it is removed only when it never connected or
        // stayed disconnected, and its own log goes with the container.
        const tail = (await container.logs({ stdout: true, stderr: true, tail: 20 })).toString('utf8').replace(/[\x00-\x08]/g, '');
        await container.remove({ force: true });
        logger.warn({ pool: instance.pool, agent: instance.name, tail }, 'agent container removed');
      } catch (error) {
        if (!notFound(error)) throw new Error(`cannot remove agent container ${instance.name}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
      } finally {
        engineByRef.delete(instance.ref);
      }
    },
  };
}
