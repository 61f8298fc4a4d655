// End to end: an agent killed (SIGKILL) in the middle of a job loses its lease (5 s in the test
// configuration); the job runs again on another agent when `retry` allows, else ends `error`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, jobOf, killAll, runEnded, runOfCommit, startAgent, startServer, type KilnProcess, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;
const agents = new Map<string, KilnProcess>();

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  // TMPDIR: a killed agent cannot remove its step scripts; keep them where removeTempDirs() looks.
  const tmp = await makeTempDir('kiln-agent-tmp-');
  for (const name of ['agent-a', 'agent-b', 'agent-c']) agents.set(name, await startAgent(server, { name, env: { TMPDIR: tmp } }));
  await eventually(async () => (await server.api('GET', '/api/agents')).body.filter((a: { status: string }) => a.status === 'idle').length === 3, 15_000, 'three idle agents');
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const numbered = (log: string[]) => log.filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5)));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const pipeline = (retry: string) => `jobs:\n  work:\n${retry}    steps:\n      - run: for i in $(seq 1 40); do echo "line $i"; sleep 0.05; done\n`;

/** Waits until the run's job prints, then SIGKILLs the agent that runs it; resolves with its name. */
async function killItsAgent(runId: number): Promise<string> {
  const job = await eventually(async () => {
    const j = await jobOf(server, runId, 'work');
    return j?.status === 'running' && numbered(await jobLog(server, j.id)).length >= 3 ? j : null;
  }, 15_000, 'the job printing');
  const agent = agents.get(job.agent)!;
  expect(await agent.kill('SIGKILL')).toBe('SIGKILL');
  agents.delete(job.agent);
  return job.agent;
}

describe('an agent killed mid-job', () => {
  it('with retry: 1, the job runs again on another agent and succeeds as attempt 2', async () => {
    const sha = await repo.commit({ 'pipeline.yml': pipeline('    retry: 1\n') }, 'retry allowed');
    const run = await runOfCommit(server, 'web', sha);
    const lost = await killItsAgent(run.id);

    const ended = await runEnded(server, run.id);
    expect(ended.status).toBe('success');
    const job = ended.jobs[0];
    expect(job).toMatchObject({ status: 'success', attempt: 2, exit_code: 0 });
    expect(job.agent).not.toBe(lost);
    expect([...agents.keys()]).toContain(job.agent);
    expect(numbered(await jobLog(server, job.id))).toEqual(range(1, 40));
    expect(numbered((await server.api('GET', `/api/jobs/${job.id}/log?attempt=1`)).body.split('\n')).length).toBeLessThan(40);
    expect((await server.api('GET', '/api/agents')).body.find((a: { name: string }) => a.name === lost)).toMatchObject({ status: 'offline' });
  });

  it('without retry, the job ends error with reason "agent lost" and the run errs', async () => {
    const sha = await repo.commit({ 'pipeline.yml': pipeline('') }, 'no retry');
    const run = await runOfCommit(server, 'web', sha);
    await killItsAgent(run.id);

    const ended = await runEnded(server, run.id);
    expect(ended).toMatchObject({ status: 'error', jobs: [{ name: 'work', status: 'error', attempt: 1, reason: 'agent lost' }] });
  });
});
