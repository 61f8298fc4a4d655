// End to end: the `process` pool starts agents for waiting jobs with no agent running, drains them
// after their idle timeout, and its agents (detached processes) outlive a server crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import {
  eventually, freePort, jobLog, killAll, killPoolAgents, poolAgentPids, runEnded, runOfCommit, startServer, type ServerProcess,
} from '../helpers/kiln.js';
import { isAlive } from '../helpers/processes.js';

let server: ServerProcess;
let repo: TestRepo;
let config: string;
let port: number;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  port = await freePort();
  config = `repos:
  - { name: web, path: ${JSON.stringify(repo.path)} }
pools:
  - { name: local, provider: process, labels: [linux, local], max: 2, idle_timeout: 2s }
server:
  lease_timeout: 5s
`;
  server = await startServer({ port, config });
});
afterAll(async () => {
  await killAll();
  if (server) killPoolAgents(server.dataDir);
  await removeTempDirs();
});

const numbered = (log: string[]) => log.filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5)));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const count = (n: number) => `for i in $(seq 1 ${n}); do echo "line $i"; sleep 0.05; done`;
const poolAgents = async (s: ServerProcess) => (await s.api('GET', '/api/agents')).body.filter((a: { pool: string | null }) => a.pool === 'local');
const localPool = async (s: ServerProcess) => (await s.api('GET', '/api/pools')).body.find((p: { name: string }) => p.name === 'local');

describe('the local process pool', () => {
  it('starts agents for two parallel jobs when none runs, both jobs succeed, and after the idle timeout the agents drain and exit', async () => {
    expect(await poolAgents(server)).toEqual([]);
    expect(await localPool(server)).toMatchObject({ provider: 'process', min: 0, max: 2, desired: 0, agents: { idle: 0, busy: 0, starting: 0 } });

    const sha = await repo.commit({ 'pipeline.yml': `jobs:\n  one:\n    steps: [{ run: '${count(30)}' }]\n  two:\n    steps: [{ run: '${count(30)}' }]\n` });
    const run = await runOfCommit(server, 'web', sha);
    const startedAgents = (pool: { events: Array<{ action: string; count?: number }> }) =>
      pool.events.filter((e) => e.action === 'start').reduce((sum, e) => sum + (e.count ?? 0), 0);
    const started = await eventually(async () => {
      const pool = await localPool(server);
      return startedAgents(pool) === 2 ? pool : null;
    }, 10_000, 'the pool starting two agents');
    expect(started.desired).toBe(2);
    expect(started.events.find((e: { action: string }) => e.action === 'start').reason).toEqual(expect.any(String));
    const agents = await eventually(async () => {
      const list = await poolAgents(server);
      return list.length === 2 ? list : null;
    }, 15_000, 'two pool agents connected');
    expect(agents.map((a: { name: string }) => a.name)).toEqual([expect.stringMatching(/^local-/), expect.stringMatching(/^local-/)]);
    expect(agents.every((a: { labels: string[] }) => a.labels.filter((l) => l !== 'docker').join(',') === 'linux,local')).toBe(true);
    const processes = poolAgentPids(server.dataDir);
    expect(processes.map((p) => p.name).sort()).toEqual(agents.map((a: { name: string }) => a.name).sort());
    expect(processes.every((p) => isAlive(p.pid))).toBe(true);

    const ended = await runEnded(server, run.id);
    expect(ended.status).toBe('success');
    for (const job of ended.jobs) {
      expect(job).toMatchObject({ status: 'success', exit_code: 0 });
      expect(agents.map((a: { name: string }) => a.name)).toContain(job.agent);
      expect(numbered(await jobLog(server, job.id))).toEqual(range(1, 30));
    }

    // idle_timeout is 2 s: both are drained, their processes exit, and the pool is back to none.
    await eventually(async () => (await poolAgents(server)).every((a: { status: string }) => a.status === 'offline'), 20_000, 'the pool agents gone');
    await eventually(() => processes.every((p) => !isAlive(p.pid)), 10_000, 'the pool agent processes exited');
    const pool = await eventually(async () => {
      const p = await localPool(server);
      return p.agents.idle + p.agents.busy + p.agents.draining + p.agents.starting + p.agents.offline === 0 ? p : null;
    }, 10_000, 'the pool empty');
    expect(pool.desired).toBe(0);
    expect(startedAgents(pool)).toBe(2);
    expect(pool.events.filter((e: { action: string }) => e.action === 'drain')).toHaveLength(2);
  });

  it('shares one git cache among the pool\'s agents: the agent after a drained one does not fetch the history again', async () => {
    const sha = await repo.commit({ 'pipeline.yml': 'jobs:\n  one:\n    steps: [{ run: "git log -1 --format=%s" }]\n' }, 'cached commit');
    const first = await runEnded(server, (await runOfCommit(server, 'web', sha)).id);
    expect(first.status).toBe('success');
    const firstLog = await jobLog(server, first.jobs[0].id);
    expect(firstLog).toContainEqual(expect.stringMatching(/^kiln: checked out [0-9a-f]{12} in \d+\.\d\d s \(fresh clone, fetched from the server\)$/));
    expect(firstLog).toContain('cached commit');
    // idle_timeout 2 s: the agent drains and exits, and its work folder is deleted.
    await eventually(async () => (await poolAgents(server)).every((a: { status: string }) => a.status === 'offline'), 20_000, 'the pool agent gone');
    await eventually(() => poolAgentPids(server.dataDir).length === 0, 10_000, 'no pool agent process');

    const again = await server.api('POST', '/api/repos/web/runs', { sha });
    expect(again.status).toBe(201);
    const second = await runEnded(server, again.body.id);
    expect(second.status).toBe('success');
    expect(second.jobs[0].agent).not.toBe(first.jobs[0].agent);
    expect(await jobLog(server, second.jobs[0].id)).toContainEqual(expect.stringMatching(/\(fresh clone, no fetch\)$/));
  });

  it('keeps a pool agent running its job through a server crash: the restarted server gets it back and the job succeeds', async () => {
    const sha = await repo.commit({ 'pipeline.yml': `jobs:\n  long:\n    steps:\n      - name: count\n        run: '${count(80)}'\n` });
    const run = await runOfCommit(server, 'web', sha);
    const jobId: number = run.jobs[0].id;
    const before = await eventually(async () => {
      const lines = numbered(await jobLog(server, jobId));
      return lines.length >= 10 ? lines : null;
    }, 20_000, 'the job under way on a pool agent');
    expect(before.length).toBeLessThan(80);
    const agent: string = (await server.api('GET', `/api/runs/${run.id}`)).body.jobs[0].agent;
    expect(agent).toMatch(/^local-/);
    const pid = poolAgentPids(server.dataDir).find((p) => p.name === agent)!.pid;

    expect(await server.kill('SIGKILL')).toBe('SIGKILL');
    expect(isAlive(pid)).toBe(true); // detached: it outlives the server
    server = await startServer({ port, config, dataDir: server.dataDir });

    const ended = await runEnded(server, run.id);
    expect(ended).toMatchObject({ status: 'success', jobs: [{ status: 'success', attempt: 1, agent }] });
    const log = await jobLog(server, jobId);
    expect(numbered(log)).toEqual(range(1, 80));
    expect(log.filter((l) => l === '▶ count')).toHaveLength(1);
    // The restarted server found the agent from its records rather than starting another.
    expect((await poolAgents(server)).map((a: { name: string }) => a.name)).toEqual([agent]);
  });
});
