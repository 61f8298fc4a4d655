// End to end: `on.cron` of the default branch starts runs on schedule, and a new pipeline.yml
// there replaces the schedule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, killAll, startServer, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit({ 'pipeline.yml': 'on:\n  push: false\n  cron:\n    - schedule: "* * * * * *"\njobs:\n  nightly:\n    steps: [{ run: echo tick }]\n' }, 'every second');
  server = await startServer({ repos: { web: repo.path } });
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

type RunJson = { id: number; event: string; branch: string; sha: string };
const runs = async () => (await server.api<RunJson[]>('GET', '/api/repos/web/runs?limit=500')).body;

describe('scheduled runs', () => {
  it('start from the default branch with event cron, and never from a push when push is off', async () => {
    const cronRuns = await eventually(async () => {
      const list = await runs();
      return list.length >= 2 ? list : null;
    }, 10_000, 'two scheduled runs');
    expect(cronRuns.every((r) => r.event === 'cron' && r.branch === 'main')).toBe(true);
  });

  it('follow pipeline.yml: a commit that drops on.cron stops them', async () => {
    const sha = await repo.commit({ 'pipeline.yml': 'on:\n  push: false\njobs:\n  nightly:\n    steps: [{ run: echo tick }]\n' }, 'no more cron');
    // the schedule is re-read once the mirror has the new commit
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const before = (await runs()).length;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await runs();
    expect(after.length).toBe(before);
    expect(after.some((r) => r.sha === sha)).toBe(false); // push: false
  });
});
