// The scaling decision as tables: one pool, its agents, the demand and the provider's health at T0.
import { describe, expect, it } from 'vitest';
import { HEALTHY, recordFailure, type ProviderHealth } from '../../../server/autoscaler/health.js';
import { decide, roomOf, type PolicyInput, type PoolAgent } from '../../../server/autoscaler/policy.js';

const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const POOL = { name: 'local', min: 0, max: 4, capacity: 1, idleTimeoutMs: 30_000 };
let ids = 0;
const agent = (name: string, state: PoolAgent['state'], over: Partial<PoolAgent> = {}): PoolAgent => ({
  name, agentId: state === 'starting' || state === 'offline' ? null : ++ids, state, jobs: state === 'busy' ? 1 : 0,
  capacity: 1, idleSinceMs: state === 'idle' ? T0 : null, unseenSinceMs: state === 'starting' || state === 'offline' ? T0 : null, ...over,
});
const idleFor = (name: string, ms: number) => agent(name, 'idle', { idleSinceMs: T0 - ms });
const startedAgo = (name: string, ms: number) => agent(name, 'starting', { unseenSinceMs: T0 - ms });
const failing: ProviderHealth = recordFailure(HEALTHY, 'docker daemon unreachable', T0 - 1_000); // back-off until T0 + 4 s

interface Row {
  case: string;
  pool?: Partial<PolicyInput['pool']>;
  floor?: number;
  agents?: PoolAgent[];
  demand?: number;
  health?: ProviderHealth;
  startDeadlineMs?: number;
  start: number;
  drain?: string[];
  remove?: string[];
  desired?: number;
  reason?: RegExp;     // of the start, drain or remove (the first there is)
  held?: RegExp | null;
}

const rows: Row[] = [
  { case: 'a burst of jobs starts one agent per job, up to max', demand: 7, start: 4, desired: 4, reason: /^7 jobs waiting, 0 free slots$/, held: /at its max \(4 agents\)/ },
  { case: 'a burst counts slots, not agents, when agents run several jobs', pool: { capacity: 3 }, demand: 7, start: 3, desired: 3 },
  { case: 'free slots and starting agents are subtracted', pool: { capacity: 2 },
    agents: [agent('a', 'busy', { capacity: 2 }), agent('b', 'starting')], demand: 5, start: 1, reason: /5 jobs waiting, 1 free slot, 1 starting/ },
  { case: 'a trickle: one job, every agent busy, starts one', agents: [agent('a', 'busy')], demand: 1, start: 1, desired: 2 },
  { case: 'a trickle: one job and an agent already starting starts nothing', agents: [agent('a', 'busy'), agent('b', 'starting')], demand: 1, start: 0, held: null },
  { case: 'a job and a free slot start nothing (dispatch will take it)', agents: [idleFor('a', 60_000)], demand: 1, start: 0, drain: [] },
  { case: 'an agent that reconnects after a restart counts as coming', agents: [agent('a', 'offline')], demand: 1, start: 0 },
  { case: 'nothing waits, nothing runs: nothing to do', start: 0, desired: 0, held: null },
  { case: 'idle agents past the timeout drain, longest idle first, down to min', pool: { min: 1 },
    agents: [idleFor('a', 31_000), idleFor('b', 45_000), idleFor('c', 40_000)], start: 0, drain: ['b', 'c'], desired: 1,
    reason: /^idle for 45s \(idle timeout 30s\), above the floor of 1$/ },
  { case: 'idle agents within the timeout stay', agents: [idleFor('a', 29_999)], start: 0, drain: [] },
  { case: 'no agent drains below min', pool: { min: 2 }, agents: [idleFor('a', 99_000), idleFor('b', 99_000)], start: 0, drain: [] },
  { case: 'a schedule floor above the agents starts the missing ones', floor: 3, agents: [idleFor('a', 99_000)], start: 2, drain: [], desired: 3, reason: /^below the floor of 3 \(1 agent\)$/ },
  { case: 'a schedule floor keeps idle agents from draining', pool: { min: 0 }, floor: 2, agents: [idleFor('a', 99_000), idleFor('b', 99_000), idleFor('c', 99_000)], start: 0, drain: ['a'] },
  { case: 'a floor above max counts as max', floor: 9, start: 4, desired: 4, held: null },
  { case: 'at max, with all busy, nothing starts and the pool says so', agents: ['a', 'b', 'c', 'd'].map((n) => agent(n, 'busy')), demand: 3, start: 0, desired: 4, held: /^at its max \(4 agents\)$/ },
  { case: 'draining agents still count toward max', agents: [agent('a', 'busy'), agent('b', 'busy'), agent('c', 'draining'), agent('d', 'draining')], demand: 2, start: 0, held: /at its max/ },
  { case: 'a failing provider starts nothing until its back-off ends', health: failing, demand: 2, start: 0, desired: 2, held: /^provider failing, next try in 4s: docker daemon unreachable$/ },
  { case: 'after the back-off the pool tries again', health: { ...failing, backoffUntilMs: T0 }, demand: 2, start: 2 },
  { case: 'a failing provider does not stop drains', health: failing, agents: [idleFor('a', 99_000)], start: 0, drain: ['a'] },
  { case: 'an agent that never connected within the deadline is removed', agents: [startedAgo('a', 60_000), startedAgo('b', 59_000)], start: 0, remove: ['a'], reason: /^never connected within 60s$/ },
  { case: 'the removed one is replaced when jobs still wait', agents: [startedAgo('a', 61_000)], demand: 1, start: 1, remove: ['a'] },
  { case: 'the start deadline can be set', startDeadlineMs: 10_000, agents: [startedAgo('a', 10_000)], start: 0, remove: ['a'] },
  { case: 'an agent gone offline for over the deadline is removed', agents: [agent('a', 'offline', { unseenSinceMs: T0 - 70_000 })], start: 0, remove: ['a'], reason: /^disconnected for over 60s$/ },
  { case: 'busy agents are never drained, however long ago they started', agents: [agent('a', 'busy'), agent('b', 'busy', { jobs: 1 })], start: 0, drain: [], remove: [] },
  { case: 'a draining agent is not drained twice', agents: [agent('a', 'draining', { idleSinceMs: T0 - 99_000 }), idleFor('b', 99_000)], start: 0, drain: ['b'] },
  { case: 'no agent drains while jobs wait for the pool', agents: [idleFor('a', 99_000), agent('b', 'busy')], demand: 2, start: 1, drain: [] },
];

describe('decide', () => {
  it.each(rows)('$case', (row) => {
    const input: PolicyInput = {
      pool: { ...POOL, ...row.pool }, floor: row.floor ?? row.pool?.min ?? POOL.min, agents: row.agents ?? [],
      demand: row.demand ?? 0, health: row.health ?? HEALTHY, nowMs: T0, startDeadlineMs: row.startDeadlineMs,
    };
    const d = decide(input);
    expect(d.start?.count ?? 0).toBe(row.start);
    expect(d.drain.map((x) => x.agent)).toEqual(row.drain ?? []);
    expect(d.remove.map((x) => x.agent)).toEqual(row.remove ?? []);
    if (row.desired !== undefined) expect(d.desired).toBe(row.desired);
    if (row.reason) expect(d.start?.reason ?? d.drain[0]?.reason ?? d.remove[0]?.reason).toMatch(row.reason);
    if (row.held !== undefined) row.held === null ? expect(d.held).toBeNull() : expect(d.held).toMatch(row.held);
    expect(decide(input)).toEqual(d); // pure: same input, same answer
  });

  it('drains an agent with its hub id, so the loop can ask the hub', () => {
    const a = idleFor('a', 99_000);
    expect(decide({ pool: POOL, floor: 0, agents: [a], demand: 0, health: HEALTHY, nowMs: T0 }).drain).toEqual([
      { agent: 'a', agentId: a.agentId, reason: expect.stringMatching(/^idle for 99s/) },
    ]);
  });
});

describe('roomOf', () => {
  it('offers free, starting and unstarted slots, and no new ones while backing off', () => {
    const agents = [agent('a', 'busy', { capacity: 2 }), agent('b', 'starting')];
    const pool = { ...POOL, capacity: 2 };
    expect(roomOf({ pool, agents, health: HEALTHY, nowMs: T0 })).toBe(1 + 2 + 2 * 2);
    expect(roomOf({ pool, agents, health: failing, nowMs: T0 })).toBe(1 + 2);
  });
});

describe('back-off', () => {
  it('doubles with each failure from 5 s up to 5 min, and a failure during it only updates the message', () => {
    let health = HEALTHY;
    const delays: number[] = [];
    let t = T0;
    for (let i = 0; i < 9; i++) {
      health = recordFailure(health, `failure ${i}`, t);
      delays.push(health.backoffUntilMs! - t);
      t = health.backoffUntilMs!;
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 300, 300, 300].map((s) => s * 1000));
    expect(health.failingSinceMs).toBe(T0);
    const during = recordFailure(health, 'again', t - 1);
    expect(during).toEqual({ ...health, error: 'again' });
  });
});
