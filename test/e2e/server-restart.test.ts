// End to end: the server dies (SIGKILL) in the middle of a job and comes back on the same data
// folder and port; the agent reconnects, the job goes on, and its log loses and doubles nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, freePort, jobLog, jobOf, killAll, runEnded, runOfCommit, startAgent, startServer, type KilnProcess, type ServerProcess } from '../helpers/kiln.js';

let repo: TestRepo;
let server: ServerProcess;
let agent: KilnProcess;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const numbered = (log: string[]) => log.filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5)));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a server killed (SIGKILL) mid-job and started again on the same data folder and port', () => {
  it('lets the job go on: it ends success with every line once, in order', async () => {
    const port = await freePort();
    const first: ServerProcess = await startServer({ port, repos: { web: repo.path } });
    agent = await startAgent(first, { name: 'steady-agent', env: { KILN_LOG_LEVEL: 'debug' } }); // "job ended" is a debug line
    const sha = await repo.commit({
      'pipeline.yml': 'jobs:\n  count:\n    steps:\n      - name: count\n        run: for i in $(seq 1 80); do echo "line $i"; sleep 0.05; done\n',
    });
    const run = await runOfCommit(first, 'web', sha);
    const jobId: number = run.jobs[0].id;
    const before = await eventually(async () => {
      const lines = numbered(await jobLog(first, jobId));
      return lines.length >= 10 ? lines : null;
    }, 15_000, 'the job under way');
    expect(before.length).toBeLessThan(80);

    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    const second = await startServer({ port, dataDir: first.dataDir, repos: { web: repo.path } });
    expect(second.url).toBe(first.url);
    // The job was not taken back or started again: its first attempt goes on, on the same agent.
    expect(await jobOf(second, run.id, 'count')).toMatchObject({ attempt: 1, agent: 'steady-agent' });

    const ended = await runEnded(second, run.id);
    expect(ended).toMatchObject({ status: 'success', jobs: [{ name: 'count', status: 'success', attempt: 1, exit_code: 0, agent: 'steady-agent' }] });
    const log = await jobLog(second, jobId);
    expect(numbered(log)).toEqual(range(1, 80));
    expect(log.filter((l) => l === '▶ count')).toHaveLength(1);
    expect(agent.output()).toContain('connection to server lost');
    expect((await second.api('GET', '/api/agents')).body).toEqual([expect.objectContaining({ name: 'steady-agent', status: 'idle' })]);
    server = second;
  });

  it('loses nothing of a job that ended while the server was down: its lines and result arrive when the server is back', async () => {
    const sha = await repo.commit({
      'pipeline.yml': 'jobs:\n  short:\n    steps:\n      - name: count\n        run: for i in $(seq 1 30); do echo "line $i"; sleep 0.05; done; exit 4\n',
    });
    const run = await runOfCommit(server, 'web', sha);
    const jobId: number = run.jobs[0].id;
    await eventually(async () => numbered(await jobLog(server, jobId)).length >= 5, 15_000, 'the job under way');
    const { dataDir, port } = server;
    expect(await server.kill('SIGKILL')).toBe('SIGKILL');
    // The job ends (exit 4) with no server to tell: the agent keeps its lines and its result.
    const agentLog = () => agent.output().split('\n').filter((l) => l.includes('"job ended"'));
    await eventually(() => agentLog().some((l) => l.includes(`"jobId":${jobId}`)), 15_000, 'the job ended on the agent');

    server = await startServer({ port, dataDir, repos: { web: repo.path } });
    const ended = await runEnded(server, run.id);
    expect(ended).toMatchObject({ status: 'failed', jobs: [{ status: 'failed', exit_code: 4, attempt: 1, agent: 'steady-agent' }] });
    expect(ended.jobs[0].steps).toMatchObject([{ name: 'count', status: 'failed', exit_code: 4 }]);
    expect(numbered(await jobLog(server, jobId))).toEqual(range(1, 30));
  });
});
