// A real server process with a recording `git` first in its PATH: API triggers of a current
// mirror start no git process, and a commit made just before a trigger is still what it builds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../../helpers/git.js';
import { eventually, killAll, startServer, type ServerProcess } from '../../helpers/kiln.js';
import { recordGitCalls, type GitCalls } from './fixture.js';

let git: GitCalls;
let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  git = await recordGitCalls();
  repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'jobs:\n  hello:\n    steps: [{ run: echo hello }]\n' }, 'first');
  server = await startServer({ repos: { web: repo.path } });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('a real server', () => {
  it('answers /healthz and lists its repo as soon as it listens', async () => {
    expect((await server.api('GET', '/healthz', undefined, null)).status).toBe(200);
    expect((await server.api('GET', '/api/repos', undefined, null)).body.map((r: { name: string }) => r.name)).toEqual(['web']);
  });

  it('starts no git process for API triggers of a current mirror', async () => {
    await eventually(() => server.output().includes('"repos caught up"'), 10_000, 'the start-up git work (mirror, watcher) to end');
    expect((await server.api('POST', '/api/repos/web/runs', {})).status).toBe(201); // warm: the mirror's reader is running
    git.reset();
    const answers = await Promise.all(Array.from({ length: 25 }, () => server.api('POST', '/api/repos/web/runs', { ref: 'main' })));
    for (let i = 0; i < 5; i++) answers.push(await server.api('POST', '/api/repos/web/runs', {}));
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(201));
    expect(git.calls()).toEqual([]);
  });

  it('builds a commit made just before a trigger', async () => {
    const sha = await repo.commit({ 'a.txt': 'a' }, 'just before');
    const { status, body } = await server.api('POST', '/api/repos/web/runs', {});
    expect(status).toBe(201);
    expect(body).toMatchObject({ sha, message: 'just before', event: 'api' });
  });
});
