// End to end: jobs and steps named in other scripts run through a real server process and real
// agent processes, on the host and in a container, and see their names unchanged in KILN_JOB.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipDocker } from '../helpers/docker.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const AGENT = 'unicode-e2e-agent';
const HOST_PIPELINE = `jobs:
  构建:
    steps:
      - name: сборка
        run: echo "job=$KILN_JOB"
  テスト:
    needs: [构建]
    steps:
      - run: echo "after 构建, job=$KILN_JOB"
`;
const DOCKER_PIPELINE = `jobs:
  构建:
    image: busybox:latest
    steps:
      - name: ビルド
        run: echo "in a container, job=$KILN_JOB"
`;

let server: ServerProcess;
let repo: TestRepo;

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  server = await startServer({ repos: { web: repo.path } });
  // host networking: this machine's engine has no bridge (as in docker-jobs.test.ts)
  await startAgent(server, { name: AGENT, env: { KILN_DOCKER_NETWORK: 'host' } });
  await eventually(async () => (await server.api('GET', '/api/agents')).body.some((a: { status: string }) => a.status === 'idle'), 15_000, 'an idle agent');
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('names in any script', () => {
  it('runs job 构建 with step сборка, then テスト after it; each sees its own name in KILN_JOB', async () => {
    const sha = await repo.commit({ 'pipeline.yml': HOST_PIPELINE }, '构建 pipeline');
    const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id, 60_000);
    expect(run.status).toBe('success');
    expect(run.jobs.map((j: { name: string; status: string }) => [j.name, j.status])).toEqual([['构建', 'success'], ['テスト', 'success']]);
    expect(run.jobs[0].steps.map((s: { name: string }) => s.name)).toEqual(['сборка']);
    const [build, test] = run.jobs as Array<{ id: number }>;
    expect(await jobLog(server, build!.id)).toEqual(expect.arrayContaining(['▶ сборка', 'job=构建']));
    expect(await jobLog(server, test!.id)).toContain('after 构建, job=テスト');
  });

  describe.skipIf(skipDocker())('in a container', () => {
    it('runs docker job 构建: its container starts (Docker-safe names), sees KILN_JOB=构建, and is removed', async () => {
      await eventually(async () => (await server.api('GET', '/api/agents')).body.some((a: { labels: string[] }) => a.labels.includes('docker')), 15_000, 'a docker agent');
      const sha = await repo.commit({ 'pipeline.yml': DOCKER_PIPELINE }, '构建 in a container');
      const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id, 120_000);
      const log = await jobLog(server, run.jobs[0].id);
      expect(run.jobs.map((j: { name: string; status: string }) => [j.name, j.status]), log.join('\n')).toEqual([['构建', 'success']]);
      expect(log).toEqual(expect.arrayContaining(['▶ ビルド', 'in a container, job=构建']));
      const left = execFileSync('docker', ['ps', '-aq', '--filter', `label=kiln.agent=${AGENT}`], { encoding: 'utf8' }).trim();
      expect(left).toBe('');
    });
  });
});
