// End to end on the real Docker engine: artifacts and caches of jobs that run in containers.
// The container writes into the bind-mounted workspace; the agent packs from, and unpacks
// into, that same folder, so an image job's output reaches the next image job, and its cache
// the next run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipDocker } from '../helpers/docker.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

const DOCKER_ENV = { KILN_DOCKER_NETWORK: 'host', KILN_DIND_SECURITY: 'unprivileged' };

const PIPELINE = `jobs:
  build:
    image: busybox:latest
    cache: { key: "tools-\${{ hashFiles('tools.txt') }}", paths: [.tools] }
    steps:
      - run: |
          if [ -f .tools/made ]; then echo "tools restored: $(cat .tools/made)"; else mkdir -p .tools && echo "run $KILN_RUN_ID" > .tools/made && echo "tools made"; fi
          mkdir -p out && echo "made in a container" > out/data.txt && ln -s data.txt out/link
    artifacts: { paths: [out/] }
  check:
    image: busybox:latest
    needs: [build]
    steps:
      - run: echo "check reads $(cat out/data.txt) via $(readlink out/link)"
`;

describe.skipIf(skipDocker())('artifacts and caches of image jobs', () => {
  let server: ServerProcess;
  let repo: TestRepo;

  beforeAll(async () => {
    await isolateGit();
    repo = await createRepo();
    await repo.commit({ 'pipeline.yml': PIPELINE, 'tools.txt': 'v1\n' });
    server = await startServer({ repos: { web: repo.path } });
    await startAgent(server, { env: DOCKER_ENV });
    await eventually(async () => (await server.api('GET', '/api/agents')).body.find((a: { labels: string[] }) => a.labels.includes('docker')), 15_000, 'an agent labelled docker');
  });
  afterAll(async () => {
    await killAll();
    await removeTempDirs();
  });

  const runOnce = async () => {
    const run = await runEnded(server, (await server.api('POST', '/api/repos/web/runs', {})).body.id, 120_000);
    const logs = Object.fromEntries(await Promise.all(run.jobs.map(async (j: { id: number; name: string }) => [j.name, (await jobLog(server, j.id)).join('\n')])));
    expect(run.status, JSON.stringify(logs, null, 1)).toBe('success');
    return { run, logs };
  };

  it('pass an image job\'s output to the next image job, and restore its cache on the next run', async () => {
    const first = await runOnce();
    expect(first.logs.check).toContain('check reads made in a container via data.txt');
    expect(first.logs.build).toContain('tools made');
    expect(first.logs.build).toMatch(/^kiln: cache saved tools-/m);
    const second = await runOnce();
    expect(second.logs.build).toContain(`tools restored: run ${first.run.id}`);
    expect(second.logs.build).toMatch(/^kiln: cache hit tools-[0-9a-f]+ \(exact\)/m);
  }, 240_000);
});
