// End to end on a real engine: a `docker` pool starts agent containers for waiting jobs, drains
// and removes them after their idle timeout, and a missing agent image keeps jobs queued with
// the reason shown until the image exists.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipDocker } from '../helpers/docker.js';
import { agentImageForPools as agentImage } from '../helpers/images.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { AGENT_TOKEN, eventually, jobLog, killAll, runEnded, runOfCommit, startServer, type ServerProcess } from '../helpers/kiln.js';

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const MISSING = `kiln-test-missing-agent-${suffix}:latest`;

const poolContainers = (pool: string) => docker('ps', '-aq', '--filter', `label=kiln.pool=${pool}`).split('\n').filter(Boolean);
const numbered = (log: string[]) => log.filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5)));
const count = (n: number) => `for i in $(seq 1 ${n}); do echo "line $i"; sleep 0.05; done`;
const poolOf = async (s: ServerProcess, name: string) => (await s.api('GET', '/api/pools')).body.find((p: { name: string }) => p.name === name);
const config = (repo: TestRepo, pool: string, image: string) => `repos:
  - { name: web, path: ${JSON.stringify(repo.path)} }
pools:
  - name: ${pool}
    provider: docker
    labels: [linux, ${pool}]
    max: 2
    idle_timeout: 2s
    docker: { image: ${JSON.stringify(image)}, network: host }
server:
  lease_timeout: 5s
`;

describe.skipIf(skipDocker())('a docker pool on a real engine', () => {
  let image: string;
  const pools: string[] = [];
  beforeAll(async () => {
    await isolateGit();
    // Why a tag of our own: a rebuild by ensureKilnImage removes its older images, and with them
    // the image this suite's containers are using.
    image = `kiln-test-agent-${suffix}:latest`;
    docker('tag', await agentImage(`kiln-test-agent-standin-${suffix}:latest`), image);
  }, 900_000);
  afterAll(async () => {
    await killAll();
    for (const pool of pools) for (const id of poolContainers(pool)) docker('rm', '-f', id);
    for (const pool of pools) {
      try {
        docker('volume', 'rm', '-f', `kiln-git-cache-${pool}`);
      } catch {
        // never made
      }
    }
    // Untagging only: the image stays while another tag (ensureKilnImage's) names it.
    for (const tag of [MISSING, image, `kiln-test-agent-standin-${suffix}:latest`]) {
      try {
        if (tag) docker('rmi', tag);
      } catch {
        // never tagged
      }
    }
    await removeTempDirs();
  });

  it('grows to two agent containers for two parallel jobs, runs each job once, and shrinks to none after the idle timeout', async () => {
    const pool = `dock${process.pid}`;
    pools.push(pool);
    const repo = await createRepo();
    const server = await startServer({ config: config(repo, pool, image) });
    expect(await poolOf(server, pool)).toMatchObject({ provider: 'docker', max: 2, desired: 0 });

    const sha = await repo.commit({ 'pipeline.yml': `jobs:\n  one:\n    runs-on: [${pool}]\n    steps: [{ run: '${count(60)}' }]\n  two:\n    runs-on: [${pool}]\n    steps: [{ run: '${count(60)}' }]\n` });
    const run = await runOfCommit(server, 'web', sha);
    await eventually(() => poolContainers(pool).length === 2, 20_000, 'two agent containers');
    const names = docker('ps', '-a', '--filter', `label=kiln.pool=${pool}`, '--format', '{{.Label "kiln.agent-name"}} {{.Names}}').split('\n');
    for (const line of names) {
      const [agentName, containerName] = line.split(' ');
      expect(agentName).toMatch(new RegExp(`^kiln-${pool}-[0-9a-f]{8}$`));
      expect(containerName).toBe(agentName);
    }
    const inspected = JSON.parse(docker('inspect', ...poolContainers(pool))) as Array<{ HostConfig: { Init: boolean; NetworkMode: string; RestartPolicy: { Name: string } }; Config: { Env: string[] }; Mounts: Array<{ Type: string; Name?: string; Destination: string }> }>;
    for (const c of inspected) {
      expect(c.HostConfig).toMatchObject({ Init: true, NetworkMode: 'host', RestartPolicy: { Name: 'no' } });
      expect(c.Config.Env).toContain(`KILN_SERVER=${server.url}`);
      expect(c.Config.Env).toContain('KILN_GIT_CACHE=/var/lib/kiln-git-cache');
      expect(c.Config.Env).toContain('KILN_AGENT_TOKEN_FILE=/run/kiln/agent.token');
      expect(JSON.stringify(c)).not.toContain(AGENT_TOKEN); // the token was copied in as a file, and still the agent connects
      expect(c.Mounts).toContainEqual(expect.objectContaining({ Type: 'volume', Name: `kiln-git-cache-${pool}`, Destination: '/var/lib/kiln-git-cache' }));
    }

    const ended = await runEnded(server, run.id, 60_000);
    expect(ended.status).toBe('success');
    const agentNames = names.map((l) => l.split(' ')[0]);
    for (const job of ended.jobs) {
      expect(job).toMatchObject({ status: 'success', exit_code: 0, attempt: 1 });
      expect(agentNames).toContain(job.agent);
      expect(numbered(await jobLog(server, job.id))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    }
    expect(new Set(ended.jobs.map((j: { agent: string }) => j.agent)).size).toBe(2);

    // idle_timeout 2 s: both drain, exit, and the next passes remove their containers.
    await eventually(() => poolContainers(pool).length === 0, 30_000, 'no agent container left');
    const after = await eventually(async () => {
      const p = await poolOf(server, pool);
      return Object.values(p.agents as Record<string, number>).every((n) => n === 0) ? p : null;
    }, 10_000, 'the pool empty');
    expect(after.desired).toBe(0);
    expect(after.events.filter((e: { action: string }) => e.action === 'drain')).toHaveLength(2);
    expect(after.events.filter((e: { action: string }) => e.action === 'start').reduce((n: number, e: { count: number }) => n + e.count, 0)).toBe(2);

    // The pool's git cache is a volume: a new agent container checks the commit out without a fetch.
    const again = await server.api('POST', '/api/repos/web/runs', { sha });
    const second = await runEnded(server, again.body.id, 60_000);
    expect(second.status).toBe('success');
    expect(agentNames).not.toContain(second.jobs[0].agent);
    expect(await jobLog(server, second.jobs[0].id)).toContainEqual(expect.stringMatching(/^kiln: checked out [0-9a-f]{12} in \d+\.\d\d s \(fresh clone, no fetch\)$/));
    await server.kill();
  }, 180_000);

  it('keeps a job queued with the reason while the agent image is missing, and runs it once the image exists', async () => {
    const pool = `ghost${process.pid}`;
    pools.push(pool);
    const repo = await createRepo();
    const server = await startServer({ config: config(repo, pool, MISSING) });
    const sha = await repo.commit({ 'pipeline.yml': `jobs:\n  only:\n    runs-on: [${pool}]\n    steps: [{ run: 'echo hello from a container' }]\n` });
    const run = await runOfCommit(server, 'web', sha);

    const queued = await eventually(async () => {
      const entry = (await server.api('GET', '/api/queue')).body.find((j: { run_id: number }) => j.run_id === run.id);
      return entry && /is not present/.test(entry.reason ?? '') ? entry : null;
    }, 20_000, 'the queue to say why');
    expect(queued.reason).toContain(`pool ${pool} cannot start agents: agent image ${MISSING} is not present on`);
    const failing = await poolOf(server, pool);
    expect(failing.error).toMatch(new RegExp(`^agent image ${MISSING.replace(/[.:]/g, '\\$&')} is not present on \\S+: no such image`));
    expect(failing.events[0]).toMatchObject({ action: 'error' });
    expect((await server.api('GET', `/api/runs/${run.id}`)).body.jobs[0].status).toBe('queued');
    expect(poolContainers(pool)).toEqual([]);

    docker('tag', image, MISSING);
    const ended = await runEnded(server, run.id, 60_000);
    expect(ended.jobs[0]).toMatchObject({ status: 'success', attempt: 1, agent: expect.stringMatching(new RegExp(`^kiln-${pool}-`)) });
    expect(await jobLog(server, ended.jobs[0].id)).toContain('hello from a container');
    await eventually(() => poolContainers(pool).length === 0, 30_000, 'no agent container left');
    expect((await poolOf(server, pool)).error).toBeNull();
    await server.kill();
  }, 120_000);
});
