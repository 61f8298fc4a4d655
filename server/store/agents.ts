// Agents: the processes that connected to execute jobs, by unique name, with their labels and state.

import type { Sqlite } from './db.js';
import { iso, isoAlways, parseJson } from './rows.js';
import type { Agent, AgentStatus, Clock } from './types.js';

export interface AgentHello {
  name: string;
  labels: string[];
  pool: string | null;
  capacity: number;
  protocol: number;
  version: string | null;
}

/**
 * An agent row outlives its connections: reconnecting under the same name updates it. Each
 * connection is also kept as a span in `agent_spans` (the cost view reads them):
 *
 *   registerAgent ──▶ span open (connected_at, pool) ──setAgentStatus(offline) / removeAgent──▶ closed
 *
 * A second hello while a span is open (a replaced connection) keeps that span: the agent never left.
 */
export interface AgentStore {
  /** On connect: inserts or updates the agent by name, `idle`, connected and seen now. */
  registerAgent(hello: AgentHello): Agent;
  getAgent(id: number): Agent | null;
  getAgentByName(name: string): Agent | null;
  listAgents(): Agent[];
  setAgentStatus(id: number, status: AgentStatus): boolean;
  /** Marks the agent as heard from now. */
  touchAgent(id: number): boolean;
  /** Deletes the agent; false while it still holds leases (end or requeue its jobs first). */
  removeAgent(id: number): boolean;
}

interface AgentRow {
  id: number; name: string; labels: string; pool: string | null; capacity: number; status: AgentStatus;
  protocol: number; version: string | null; jobs: string; connected_at: number | null;
  last_seen_at: number | null; created_at: number;
}

const AGENT = `SELECT a.*, (SELECT json_group_array(job_id) FROM (SELECT job_id FROM leases l
  WHERE l.agent_id = a.id ORDER BY job_id)) AS jobs FROM agents a`;

function toAgent(row: AgentRow): Agent {
  return {
    id: row.id, name: row.name, labels: parseJson<string[]>(row.labels), pool: row.pool,
    capacity: row.capacity, status: row.status, protocol: row.protocol, version: row.version,
    jobs: parseJson<number[]>(row.jobs), connectedAt: iso(row.connected_at), lastSeenAt: iso(row.last_seen_at),
    createdAt: isoAlways(row.created_at),
  };
}

export function createAgentStore(db: Sqlite, clock: Clock): AgentStore {
  const stmt = {
    upsert: db.prepare<Omit<AgentHello, 'labels'> & { labels: string; now: number }, { id: number }>(
      `INSERT INTO agents (name, labels, pool, capacity, status, protocol, version, connected_at, last_seen_at, created_at)
       VALUES (@name, @labels, @pool, @capacity, 'idle', @protocol, @version, @now, @now, @now)
       ON CONFLICT (name) DO UPDATE SET labels = excluded.labels, pool = excluded.pool, capacity = excluded.capacity,
         status = 'idle', protocol = excluded.protocol, version = excluded.version,
         connected_at = excluded.connected_at, last_seen_at = excluded.last_seen_at
       RETURNING id`,
    ),
    byId: db.prepare<[number], AgentRow>(`${AGENT} WHERE a.id = ?`),
    byName: db.prepare<[string], AgentRow>(`${AGENT} WHERE a.name = ?`),
    all: db.prepare<[], AgentRow>(`${AGENT} ORDER BY a.name`),
    setStatus: db.prepare<[AgentStatus, number]>('UPDATE agents SET status = ? WHERE id = ?'),
    touch: db.prepare<[number, number]>('UPDATE agents SET last_seen_at = ? WHERE id = ?'),
    openSpan: db.prepare<{ name: string; pool: string | null; now: number }>(
      `INSERT INTO agent_spans (agent, pool, connected_at)
       SELECT @name, @pool, @now WHERE NOT EXISTS (SELECT 1 FROM agent_spans WHERE agent = @name AND disconnected_at IS NULL)`,
    ),
    closeSpan: db.prepare<{ now: number; id: number }>(
      `UPDATE agent_spans SET disconnected_at = MAX(connected_at, @now)
       WHERE disconnected_at IS NULL AND agent = (SELECT name FROM agents WHERE id = @id)`,
    ),
    closeSpanOf: db.prepare<{ now: number; name: string }>(
      'UPDATE agent_spans SET disconnected_at = MAX(connected_at, @now) WHERE disconnected_at IS NULL AND agent = @name',
    ),
    remove: db.prepare<[number]>('DELETE FROM agents WHERE id = ? AND NOT EXISTS (SELECT 1 FROM leases WHERE agent_id = agents.id)'),
  };

  const get = (id: number): Agent | null => {
    const row = stmt.byId.get(id);
    return row ? toAgent(row) : null;
  };

  return {
    registerAgent(hello) {
      const now = clock.now();
      const { id } = stmt.upsert.get({ ...hello, labels: JSON.stringify(hello.labels), now })!;
      stmt.openSpan.run({ name: hello.name, pool: hello.pool, now });
      return get(id)!;
    },
    getAgent: get,
    getAgentByName: (name) => {
      const row = stmt.byName.get(name);
      return row ? toAgent(row) : null;
    },
    listAgents: () => stmt.all.all().map(toAgent),
    setAgentStatus: (id, status) => {
      if (status === 'offline') stmt.closeSpan.run({ now: clock.now(), id });
      return stmt.setStatus.run(status, id).changes === 1;
    },
    touchAgent: (id) => stmt.touch.run(clock.now(), id).changes === 1,
    removeAgent: (id) => {
      const name = stmt.byId.get(id)?.name;
      const removed = stmt.remove.run(id).changes === 1;
      if (removed && name !== undefined) stmt.closeSpanOf.run({ now: clock.now(), name });
      return removed;
    },
  };
}
