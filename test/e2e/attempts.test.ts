// End to end: re-runs are attempts inside the same run (as in GitHub Actions and GitLab), on a
// real server and agent. Re-running the failed jobs runs them and what needs them again as
// attempt 2, keeps attempt 1's outcome and logs readable, and leaves the run's number, the
// repo's run list and the jobs that passed alone; retrying one job brings its dependents;
// what cannot be re-run says why and changes nothing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, makeTempDir, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { jobLog, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

let repo: TestRepo;
let server: ServerProcess;
let marker: string;

// `test` fails until the marker file exists on the agent's host, and makes it: it passes the second time.
const PIPELINE = (marker: string) => `jobs:
  build:
    steps: [{ run: "echo built" }]
  test:
    needs: [build]
    steps:
      - run: if [ -e ${marker} ]; then echo "tests pass"; else touch ${marker}; echo "tests fail"; exit 3; fi
  deploy:
    needs: [test]
    steps: [{ run: "echo deployed" }]
  lint:
    steps: [{ run: "echo linted" }]
`;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  marker = join(await makeTempDir('kiln-attempts-'), 'second-time');
  await repo.commit({ 'pipeline.yml': PIPELINE(marker) });
  server = await startServer({ repos: { web: repo.path } });
  await startAgent(server);
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const byName = (run: { jobs: any[] }) => Object.fromEntries(run.jobs.map((j) => [j.name, j]));

describe('attempts inside a run', () => {
  let first: any;

  beforeAll(async () => {
    const { body } = await server.api('POST', '/api/repos/web/runs', {});
    first = await runEnded(server, body.id);
  });

  it('attempt 1 fails in test; deploy, which needs it, is skipped; what cannot be re-run says why', async () => {
    expect(first).toMatchObject({ status: 'failed', attempt: 1, attempts: [{ attempt: 1, status: 'failed', jobs: ['build', 'lint', 'test', 'deploy'] }] });
    const jobs = byName(first);
    expect([jobs.test.status, jobs.deploy.status]).toEqual(['failed', 'skipped']);
    expect(existsSync(marker)).toBe(true);
    // deploy alone would be skipped again: its need failed.
    const deploy = await server.api('POST', `/api/jobs/${jobs.deploy.id}/retry`);
    expect(deploy).toMatchObject({ status: 409, body: { error: 'job "deploy" needs "test", which ended failed: re-run "test" (its dependents run again with it), or the failed jobs' } });
    expect((await server.api('GET', `/api/runs/${first.id}`)).body).toMatchObject({ attempt: 1, status: 'failed' });
  });

  it('re-running the failed jobs is attempt 2 of the same run: test and deploy run again, build and lint keep attempt 1', async () => {
    const before = (await server.api('GET', '/api/repos/web/runs')).body.length;
    const rerun = await server.api('POST', `/api/runs/${first.id}/rerun`, { failed_only: true });
    expect(rerun.status).toBe(200);
    expect(rerun.body).toMatchObject({ id: first.id, number: first.number, attempt: 2 });
    expect(rerun.body.attempts.map((a: any) => [a.attempt, a.jobs])).toEqual([[1, ['build', 'lint', 'test', 'deploy']], [2, ['test', 'deploy']]]);
    // While it runs (two jobs one after the other on an agent: far longer than a request), it cannot be re-run again.
    expect(await server.api('POST', `/api/runs/${first.id}/rerun`, {})).toMatchObject({ status: 409, body: { error: expect.stringMatching(/has not ended yet/) } });

    const run = await runEnded(server, first.id);
    expect(run).toMatchObject({ id: first.id, number: first.number, status: 'success' });
    const jobs = byName(run);
    expect(Object.fromEntries(Object.entries(jobs).map(([name, j]: [string, any]) => [name, [j.status, j.run_attempt]]))).toMatchObject({
      build: ['success', 1], lint: ['success', 1], test: ['success', 2], deploy: ['success', 2],
    });
    expect(run.attempts.map((a: any) => [a.attempt, a.status])).toEqual([[1, 'failed'], [2, 'success']]);
    // One run in the repo's list, not a second, partial one.
    expect((await server.api('GET', '/api/repos/web/runs')).body.length).toBe(before);

    // Attempt 1 stays readable: its jobs as they ended, and its log.
    const then = byName((await server.api('GET', `/api/runs/${first.id}?attempt=1`)).body);
    expect([then.test.status, then.test.attempt, then.deploy.status, then.build.status]).toEqual(['failed', 1, 'skipped', 'success']);
    expect(await jobLog(server, jobs.test.id, 1)).toContain('tests fail');
    expect(await jobLog(server, jobs.test.id)).toContain('tests pass');
    expect(await server.api('GET', `/api/runs/${first.id}?attempt=9`)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^attempt must be 1 to \d/) } });
    // Nothing failed now.
    expect(await server.api('POST', `/api/runs/${first.id}/rerun`, { failed_only: true })).toMatchObject({ status: 409, body: { error: expect.stringMatching(/has no failed, cancelled or errored jobs/) } });
  });

  it('retrying one job runs it and the jobs that need it as the next attempt', async () => {
    const before = (await server.api('GET', `/api/runs/${first.id}`)).body;
    const build = byName(before).build;
    const retry = await server.api('POST', `/api/jobs/${build.id}/retry`);
    expect(retry).toMatchObject({ status: 200, body: { id: first.id, attempt: before.attempt + 1 } });
    expect(retry.body.attempts.at(-1).jobs).toEqual(['build', 'test', 'deploy']);
    const run = await runEnded(server, first.id);
    expect(run.status).toBe('success');
    const jobs = byName(run);
    expect(jobs.build).toMatchObject({ run_attempt: before.attempt + 1, attempt: 2 });
    expect(jobs.lint).toMatchObject({ run_attempt: 1, attempt: 1 });
    expect(await jobLog(server, jobs.build.id, 2)).toContain('built');
    expect((await server.api('POST', '/api/jobs/999999/retry')).status).toBe(404);
  });

  it('re-runs and retries need an admin token', async () => {
    expect((await server.api('POST', `/api/runs/${first.id}/rerun`, {}, null)).status).toBe(401);
    expect((await server.api('POST', `/api/jobs/${first.jobs[0].id}/retry`, undefined, null)).status).toBe(401);
  });
});
