// The swarm service of a pool: its spec (the agent template, named by a hash label) and its
// tasks as the swarm provider reads them.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { PoolConfig } from '../config.js';
import { agentEnv, DEFAULT_AGENT_IMAGE, gitCacheMount } from './docker-engine.js';
import type { AgentSpec } from './provider.js';
import { SECRET_TOKEN_FILE, type TokenSecret } from './swarm-secret.js';

/** A task as `GET /tasks` answers (the fields kiln reads). */
export interface Task {
  ID: string;
  Slot?: number;
  NodeID?: string;
  CreatedAt: string;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
}

export type ServiceSpec = Docker.ServiceSpec & { Mode: { Replicated: { Replicas: number } }; Labels: Record<string, string> };

const ENDED = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

export const serviceName = (pool: string) => `kiln-pool-${pool}`;

/** A live task: swarm wants it running and it has not ended. */
export const isLive = (t: Task) => ['running', 'ready', 'accepted'].includes(t.DesiredState) && !ENDED.has(t.Status.State);

/**
 * The pool's service with `replicas` agents; `stopGraceMs` is how long swarm lets a task it stops
 * drain. The token reaches the agents as `secret` (its name carries the token's hash), never in the spec.
 */
export function serviceSpec(pool: PoolConfig, spec: Omit<AgentSpec, 'token'>, replicas: number, stopGraceMs: number, secret: TokenSecret): ServiceSpec {
  const image = pool.docker?.image ?? DEFAULT_AGENT_IMAGE;
  const network = pool.docker?.network;
  const taskTemplate: Docker.TaskSpec = {
    ContainerSpec: {
      Image: image, Init: true, StopGracePeriod: stopGraceMs * 1_000_000,
      // Why a template: each task must say hello under its own name.
      Env: agentEnv(pool, spec, `kiln-${pool.name}-{{.Task.ID}}`, SECRET_TOKEN_FILE),
      Secrets: [secret],
      Labels: { 'kiln.pool': pool.name },
      Mounts: [gitCacheMount(pool)],
    },
    // Why `on-failure`: an agent that drained exits 0 and must stay gone (see swarm-provider.ts).
    RestartPolicy: { Condition: 'on-failure', Delay: 5_000_000_000, MaxAttempts: 3 },
    ...(network ? { Networks: [{ Target: network }] } : {}),
  };
  // Why a hash label: comparing with the spec the engine returns (defaults filled in) would
  // see changes that are not there.
  const template = createHash('sha256').update(JSON.stringify(taskTemplate)).digest('hex').slice(0, 16);
  return { Name: serviceName(pool.name), Labels: { 'kiln.pool': pool.name, 'kiln.template': template }, TaskTemplate: taskTemplate, Mode: { Replicated: { Replicas: replicas } } };
}
