// What a pool has at one pass: the provider's instances and the hub's sessions merged into
// PoolAgents, remembering (per agent name) when each was first seen, connected, became idle.
import type { PoolAgent } from './policy.js';
import type { Instance } from './provider.js';

/** A connected agent as the hub knows it (the hub's Session fits). */
export interface ConnectedAgent {
  agentId: number;
  name: string;
  labels: readonly string[];
  capacity: number;
  pool: string | null;
  jobs: { readonly size: number };
  draining: boolean;
}

/** What the loop remembers of one agent between passes. */
export interface Track {
  firstSeenMs: number;
  connectedOnce: boolean;
  lastConnectedMs: number | null;
  idleSinceMs: number | null;
  drainingOnce: boolean;
  /** Its provider instance's log, when it had an instance. */
  instance: { log: string | null } | null;
}

export interface ObserveInput {
  pool: string;
  instances: readonly Instance[];
  sessions: readonly ConnectedAgent[];
  tracks: ReadonlyMap<string, Track>;
  nowMs: number;
  /** Whether an agent of this name said hello before (to this server or one before a restart). */
  connectedBefore(name: string): boolean;
}

export interface Observation {
  agents: PoolAgent[];
  tracks: Map<string, Track>;
  /** Agents tracked at the last pass that neither run nor are connected any more. */
  vanished: Array<{ name: string; track: Track }>;
  /** Agents the provider made that said hello for the first time. */
  firstConnected: string[];
}

export function observePool(input: ObserveInput): Observation {
  const { pool, instances, nowMs } = input;
  const tracks = new Map<string, Track>();
  const agents: PoolAgent[] = [];
  const firstConnected: string[] = [];
  const byName = new Map(instances.map((i) => [i.name, i]));

  for (const s of input.sessions.filter((s) => s.pool === pool)) {
    const old = input.tracks.get(s.name);
    const instance = byName.get(s.name);
    if (instance && !old?.connectedOnce) firstConnected.push(s.name);
    const idle = s.jobs.size === 0 && !s.draining;
    const track: Track = {
      firstSeenMs: old?.firstSeenMs ?? nowMs, connectedOnce: true, lastConnectedMs: nowMs,
      idleSinceMs: idle ? old?.idleSinceMs ?? nowMs : null, drainingOnce: s.draining || (old?.drainingOnce ?? false),
      instance: instance ? { log: instance.log } : old?.instance ?? null,
    };
    tracks.set(s.name, track);
    agents.push({
      name: s.name, agentId: s.agentId, state: s.draining ? 'draining' : idle ? 'idle' : 'busy',
      jobs: s.jobs.size, capacity: s.capacity, idleSinceMs: track.idleSinceMs, unseenSinceMs: null,
    });
  }

  for (const instance of instances) {
    if (tracks.has(instance.name)) continue;
    const old = input.tracks.get(instance.name);
    const track: Track = {
      firstSeenMs: old?.firstSeenMs ?? nowMs, connectedOnce: old?.connectedOnce ?? input.connectedBefore(instance.name),
      lastConnectedMs: old?.lastConnectedMs ?? null, idleSinceMs: null, drainingOnce: old?.drainingOnce ?? false,
      instance: { log: instance.log },
    };
    tracks.set(instance.name, track);
    agents.push({
      name: instance.name, agentId: null,
      // Why a drained agent stays `draining` when its socket is gone: it is on its way out.
      state: track.drainingOnce ? 'draining' : track.connectedOnce ? 'offline' : 'starting',
      jobs: 0, capacity: 0, idleSinceMs: null,
      unseenSinceMs: Math.max(instance.startedAtMs, track.firstSeenMs, track.lastConnectedMs ?? 0),
    });
  }

  const vanished = [...input.tracks].filter(([name]) => !tracks.has(name)).map(([name, track]) => ({ name, track }));
  return { agents, tracks, vanished, firstConnected };
}
