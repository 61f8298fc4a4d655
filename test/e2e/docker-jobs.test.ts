// End to end on the real Docker engine: image jobs, a service by name, image builds through
// dood and dind, cancel and timeout removing containers, a missing image, and no leftovers.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipDocker } from '../helpers/docker.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobLog, jobOf, KILN, killAll, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

// This machine's engine has no bridge and refuses privileged containers: the agent is told so
// by configuration, as an operator of such a host would.
const DOCKER_ENV = { KILN_DOCKER_NETWORK: 'host', KILN_DIND_SECURITY: 'unprivileged' };
const AGENT = 'docker-e2e-agent';

const managed = (kind: 'ps' | 'volume' | 'network', extra: string[] = []) =>
  execFileSync('docker', [...(kind === 'ps' ? ['ps', '-a'] : [kind, 'ls']), '-q', '--filter', `label=kiln.agent=${AGENT}`, ...extra], { encoding: 'utf8' }).trim();

const PIPELINE = `jobs:
  in-node:
    image: node:20-bookworm-slim
    steps:
      - run: |
          node --version
          echo "commit $(git log -1 --format=%H)"
          cat hello.txt
          echo "pwd $(pwd) ws $KILN_WORKSPACE"
  with-service:
    image: busybox:latest
    services:
      web: { image: "busybox:latest", command: "httpd -f -p 18931 -h /etc", ports: [18931] }
    steps:
      - run: wget -qO- http://web:18931/hostname >/dev/null && echo "the service answered by name"
  dood:
    image: docker:dind
    docker: dood
    steps:
      - run: |
          printf 'FROM busybox:latest AS build\\nRUN echo built-in-stage-one > /out.txt\\nFROM busybox:latest\\nCOPY --from=build /out.txt /out.txt\\nCMD ["cat", "/out.txt"]\\n' > Dockerfile.dood
          docker build --network host -q -f Dockerfile.dood -t kiln-e2e-dood:$KILN_JOB_ID . >/dev/null
          docker run --rm --network none kiln-e2e-dood:$KILN_JOB_ID
          docker image rm -f kiln-e2e-dood:$KILN_JOB_ID >/dev/null
  dind:
    image: docker:dind
    docker: dind
    steps:
      - run: |
          printf 'FROM scratch AS build\\nCOPY hello.txt /stage-one.txt\\nFROM scratch\\nCOPY --from=build /stage-one.txt /final.txt\\n' > Dockerfile.dind
          docker build --network host -q -f Dockerfile.dind -t built-in-dind . >/dev/null
          docker create --name out built-in-dind /none >/dev/null
          docker cp out:/final.txt - | tar -xO
          docker image inspect built-in-dind >/dev/null && echo "the private daemon has built-in-dind"
`;

describe.skipIf(skipDocker())('jobs in containers', () => {
  let server: ServerProcess;
  let repo: TestRepo;

  beforeAll(async () => {
    await isolateGit();
    repo = await createRepo();
    server = await startServer({ repos: { web: repo.path } });
    await startAgent(server, { name: AGENT, capacity: 2, env: DOCKER_ENV });
    await eventually(async () => (await server.api('GET', '/api/agents')).body.find((a: { labels: string[] }) => a.labels.includes('docker')), 15_000, 'an agent labelled docker');
  });
  afterAll(async () => {
    await killAll();
    await removeTempDirs();
  });

  it('runs image jobs at the exact commit, with services by name and image builds through dood and dind', async () => {
    const sha = await repo.commit({ 'pipeline.yml': PIPELINE, 'hello.txt': 'hello from the commit\n' });
    const run = await runEnded(server, (await runOfCommit(server, 'web', sha)).id, 180_000);
    const logs = Object.fromEntries(await Promise.all(run.jobs.map(async (j: { id: number; name: string }) => [j.name, (await jobLog(server, j.id)).join('\n')])));
    expect(run.jobs.map((j: { name: string; status: string }) => [j.name, j.status]), JSON.stringify(logs, null, 1)).toEqual([
      ['in-node', 'success'], ['with-service', 'success'], ['dood', 'success'], ['dind', 'success'],
    ]);
    expect(logs['in-node']).toMatch(/^v20\./m);
    expect(logs['in-node']).toContain(`commit ${sha}`);
    expect(logs['in-node']).toContain('hello from the commit');
    expect(logs['in-node']).toMatch(/^pwd (\S+) ws \1$/m);
    expect(logs['with-service']).toContain('the service answered by name');
    expect(logs.dood).toContain('built-in-stage-one');
    expect(logs.dind).toContain('hello from the commit');
    expect(logs.dind).toContain('the private daemon has built-in-dind');
    expect(() => execFileSync('docker', ['image', 'inspect', 'built-in-dind'], { stdio: 'ignore' })).toThrow(); // not on the host's engine
    await eventually(() => managed('ps') === '' && managed('volume') === '', 15_000, 'no container or volume of the jobs left');
  });

  it('removes the job container on cancel within 5 s, and on a job timeout', async () => {
    const sha = await repo.commit({
      'pipeline.yml': 'jobs:\n  hang:\n    image: busybox:latest\n    steps: [{ run: "echo started; sleep 1000" }]\n  slow:\n    image: busybox:latest\n    timeout: 3s\n    steps: [{ run: "sleep 1000" }]\n',
    });
    const run = await runOfCommit(server, 'web', sha);
    const hang = run.jobs.find((j: { name: string }) => j.name === 'hang');
    await eventually(async () => (await jobLog(server, hang.id)).includes('started'), 60_000, 'the hanging job to start');
    expect(managed('ps', ['--filter', `label=kiln.job=${hang.id}`])).not.toBe('');
    await server.api('POST', `/api/runs/${run.id}/cancel`);
    const cancelledAt = Date.now();
    await eventually(() => managed('ps', ['--filter', `label=kiln.job=${hang.id}`]) === '', 5000, 'the container of the cancelled job to go');
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    const slow = await jobOf(server, run.id, 'slow');
    expect(slow.status).toBe('cancelled'); // the cancel took the whole run

    const timed = await runOfCommit(server, 'web', await repo.commit({ 'pipeline.yml': 'jobs:\n  slow:\n    image: busybox:latest\n    timeout: 3s\n    steps: [{ run: "sleep 1000" }]\n' }));
    const ended = await runEnded(server, timed.id, 60_000);
    expect(ended.jobs[0]).toMatchObject({ status: 'failed', reason: 'timeout' });
    await eventually(() => managed('ps') === '', 10_000, 'no container left after the timeout');
  });

  it('ends a job whose image cannot be had with error and a clear reason, quickly', async () => {
    const sha = await repo.commit({ 'pipeline.yml': 'jobs:\n  nope:\n    image: kiln-no-such-image:1\n    steps: [{ run: "true" }]\n' });
    const ended = await runEnded(server, (await runOfCommit(server, 'web', sha)).id, 60_000);
    expect(ended.jobs[0].status).toBe('error');
    expect(ended.jobs[0].reason).toMatch(/kiln-no-such-image:1/);
    expect((await jobLog(server, ended.jobs[0].id)).join('\n')).toMatch(/cannot pull kiln-no-such-image:1/);
  });

  it('keeps an image job queued, saying why, when no agent has Docker', async () => {
    const other = await startServer({ repos: { web: repo.path } });
    await startAgent(other, { name: 'no-docker-agent', env: { KILN_DOCKER: '0' } });
    await eventually(async () => (await other.api('GET', '/api/agents')).body.length === 1, 15_000, 'the agent');
    const run = (await other.api('POST', '/api/repos/web/runs', {})).body;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const queue = (await other.api('GET', '/api/queue')).body;
    expect(queue.find((j: { run_id: number }) => j.run_id === run.id)).toMatchObject({ status: 'queued', reason: expect.stringContaining('docker') });
  });

  it('runs image jobs locally with kiln run, without a server', async () => {
    await repo.commit({ 'pipeline.yml': 'jobs:\n  local:\n    image: busybox:latest\n    steps: [{ run: "echo in-a-container $(cat hello.txt)" }]\n' });
    const out = execFileSync(process.execPath, [KILN, 'run'], { cwd: repo.path, env: { ...process.env, ...DOCKER_ENV }, encoding: 'utf8' });
    expect(out).toContain('in-a-container hello from the commit');
    expect(out).toMatch(/✔|success/);
  });

  it('leaves no container, network or volume of kiln behind', async () => {
    await eventually(() => managed('ps') === '' && managed('volume') === '' && managed('network') === '', 15_000, 'nothing left');
  });
});
