// The provider boundary: how a pool makes, finds and ends agents (`process` here; `docker` and
// `swarm` later). The autoscaler decides; a provider only does what it is told.
import type { PoolConfig, ProviderKind } from '../config.js';

/** One agent a provider made. Its `name` is the name the agent says hello with. */
export interface Instance {
  name: string;
  pool: string;
  /** When the provider made it (ms since epoch). */
  startedAtMs: number;
  /** The provider's own handle: a pid, a container id, a task id. */
  ref: string;
  /** Where its output goes, for error messages; null when the provider keeps none. */
  log: string | null;
}

/** What every agent of a deploy is told. */
export interface AgentSpec {
  serverUrl: string;
  /** The agent token. Providers hand it over as a file (KILN_AGENT_TOKEN_FILE), never in an environment or a command line, and never log it. */
  token: string;
  labels: readonly string[];
  capacity: number;
}

/**
 * Contract (each provider's tests hold it to this):
 * - `deploy` starts `count` agents of `pool`, each with a fresh unique name, and resolves with
 *   them once they were started (not once they connected: the hub sees that). When one cannot
 *   be started it rejects with a one-line error; agents started before it are not lost —
 *   `list` returns them.
 * - `list` returns the pool's agents that still exist, including ones made before a server
 *   restart (agents outlive the server); it forgets what no longer exists. Never an agent of
 *   another pool.
 * - `remove` ends an agent for good, forcefully after a grace period, and resolves when it is
 *   gone; removing one that is already gone succeeds. The autoscaler calls it only for agents
 *   that are not connected: connected ones are drained through the hub and exit themselves.
 * - Calls for different pools may overlap; calls for one pool never do.
 */
export interface AgentProvider {
  readonly kind: ProviderKind;
  deploy(pool: PoolConfig, count: number, spec: AgentSpec): Promise<Instance[]>;
  remove(instance: Instance): Promise<void>;
  list(pool: PoolConfig): Promise<Instance[]>;
}
