// Scheduled floors (node-cron expressions against a fake clock), the sharing of jobs between
// overlapping pools, and the one-line reasons a job waits.
import { afterEach, describe, expect, it } from 'vitest';
import { assignDemand } from '../../../server/autoscaler/demand.js';
import type { ConnectedAgent } from '../../../server/autoscaler/observe.js';
import type { PoolAgent } from '../../../server/autoscaler/policy.js';
import { createPoolSchedule, type PoolSchedule } from '../../../server/autoscaler/schedule.js';
import { explainWait, type PoolSnapshot } from '../../../server/autoscaler/wait-reason.js';

const made: PoolSchedule[] = [];
afterEach(() => made.splice(0).forEach((s) => s.stop()));
const schedule = (entries: Array<{ cron: string; min: number }>, min = 1) => {
  const s = createPoolSchedule({ name: 'linux', min, schedule: entries });
  made.push(s);
  return s;
};
// Local wall-clock times: node-cron matches in the server's time zone. 2025-01-06 is a Monday.
const at = (day: number, hour: number, minute = 0) => new Date(2025, 0, day, hour, minute).getTime();
const WORKDAYS = [{ cron: '0 9 * * 1-5', min: 4 }, { cron: '0 19 * * 1-5', min: 0 }];

describe('scheduled floors', () => {
  it('follow the entry that fired last as the clock moves on', () => {
    const s = schedule(WORKDAYS);
    expect(s.floor(at(6, 8, 59))).toBe(0);    // Friday 19:00 set 0
    expect(s.floor(at(6, 9, 0))).toBe(4);
    expect(s.floor(at(6, 18, 59))).toBe(4);
    expect(s.floor(at(6, 19, 0))).toBe(0);
    expect(s.floor(at(11, 12, 0))).toBe(0);   // Saturday
  });

  it('are found again by a restarted server in the middle of a period', () => {
    expect(schedule(WORKDAYS).floor(at(8, 15, 30))).toBe(4);
  });

  it('are the pool min when no entry fired lately, or there are none', () => {
    expect(schedule([{ cron: '0 9 1 3 *', min: 4 }], 2).floor(at(6, 12))).toBe(2);
    expect(schedule([], 3).floor(at(6, 12))).toBe(3);
  });

  it('reject an expression that does not parse, naming the pool', () => {
    expect(() => schedule([{ cron: '61 * * * *', min: 1 }])).toThrow(/pool linux: schedule\[0\]: "61 \* \* \* \*": .*minute/);
  });
});

describe('assignDemand', () => {
  const jobs = (...labels: string[][]) => labels.map((runsOn) => ({ runsOn }));

  it('gives a job to the first pool with its labels and room, then to the next', () => {
    const pools = [{ name: 'local', labels: ['linux', 'local'], room: 1 }, { name: 'docker', labels: ['linux', 'docker'], room: 5 }];
    expect(assignDemand(jobs(['linux'], ['linux'], ['docker'], ['local']), pools)).toEqual(new Map([['local', 2], ['docker', 2]]));
  });

  it('counts a job no pool has room for against the first pool that matches, and skips jobs no pool matches', () => {
    const pools = [{ name: 'local', labels: ['linux'], room: 0 }, { name: 'docker', labels: ['linux'], room: 0 }];
    expect(assignDemand(jobs(['linux'], ['gpu']), pools)).toEqual(new Map([['local', 1]]));
  });
});

describe('explainWait', () => {
  const session = (name: string, labels: string[], jobs: number, capacity = 1): ConnectedAgent =>
    ({ agentId: 1, name, labels, capacity, pool: null, jobs: { size: jobs }, draining: false });
  const poolAgent = (state: PoolAgent['state']): PoolAgent =>
    ({ name: `local-${state}`, agentId: null, state, jobs: 0, capacity: 1, idleSinceMs: null, unseenSinceMs: state === 'starting' ? 10_000 : null });
  const pool = (over: Partial<PoolSnapshot> = {}): PoolSnapshot =>
    ({ name: 'local', labels: ['linux', 'local'], max: 2, agents: [], error: null, backingOff: false, ...over });
  const job = (runsOn: string[], waiting: string | null = null) => ({ runsOn, waiting });

  it.each([
    ['no agent or pool has the labels', job(['gpu']), [session('a', ['linux'], 0)], [pool()], 'no agent or pool has the labels [gpu]'],
    ['a free slot will take it', job(['linux']), [session('a', ['linux'], 0)], [pool()], null],
    ['it waits for something else', job(['gpu'], 'needs'), [], [], null],
    ['the pool is starting an agent', job(['linux']), [], [pool({ agents: [poolAgent('starting')] })], 'pool local is starting agent local-starting (2 s)'],
    ['the pool will start one', job(['linux']), [], [pool()], 'pool local is about to start an agent'],
    ['the pool cannot start agents', job(['linux']), [], [pool({ error: 'docker daemon unreachable', backingOff: true })], 'pool local cannot start agents: docker daemon unreachable'],
    ['the pool is at its max', job(['local']), [session('local-1', ['linux', 'local'], 1), session('local-2', ['linux', 'local'], 1)],
      [pool({ agents: [poolAgent('busy'), poolAgent('busy')] })], 'pool local is at its max (2 agents, all busy)'],
    ['the pool allows none', job(['local']), [], [pool({ max: 0 })], 'pool local has max 0'],
    ['all agents are busy', job(['linux']), [session('a', ['linux'], 2, 2), session('b', ['linux', 'gpu'], 1), session('c', ['linux'], 1)], [],
      'all 3 agents with these labels are busy'],
  ] as const)('%s', (_, j, sessions, pools, expected) => {
    expect(explainWait(j, sessions, pools, 12_000)).toBe(expected);
  });
});
