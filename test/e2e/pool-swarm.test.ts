// End to end on a one-node Docker Swarm: a `swarm` pool scales its service up for waiting jobs
// and back down after the idle timeout, and scaling down ends only the drained agent, never
// the busy one beside it.
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwarmProvider } from '../../server/autoscaler/swarm-provider.js';
import { defaultPool, type PoolConfig } from '../../server/config.js';
import { skipDocker } from '../helpers/docker.js';
import { agentImageForPools as agentImage } from '../helpers/images.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { AGENT_TOKEN, eventually, jobLog, killAll, jobOf, runEnded, runOfCommit, startServer, type ServerProcess } from '../helpers/kiln.js';

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const suffix = `${process.pid}-${Date.now().toString(36)}`;

interface TaskRow { id: string; desired: string; state: string }
const tasks = (pool: string): TaskRow[] => {
  try {
    return docker('service', 'ps', `kiln-pool-${pool}`, '--no-trunc', '--format', '{{.ID}} {{.DesiredState}} {{.CurrentState}}').split('\n').filter(Boolean)
      .map((line) => {
        const [id, desired, state] = line.split(' ');
        return { id: id!, desired: desired!, state: state!.toLowerCase() };
      });
  } catch {
    return []; // no service yet
  }
};
const running = (pool: string) => tasks(pool).filter((t) => t.desired === 'Running' && t.state === 'running');
const replicas = (pool: string) => {
  try {
    return Number(docker('service', 'inspect', `kiln-pool-${pool}`, '--format', '{{.Spec.Mode.Replicated.Replicas}}'));
  } catch {
    return null;
  }
};
/** eventually(), with the service's tasks and the server's pool log lines in the error when it times out. */
const settled = (server: ServerProcess, pool: string, check: () => boolean, what: string) =>
  eventually(check, 30_000, what).catch((error: Error) => {
    let service = '(no service)';
    try {
      service = docker('service', 'ps', `kiln-pool-${pool}`, '--no-trunc');
    } catch {
      // none made
    }
    const log = server.output().split('\n').filter((l) => /swarm|autoscaler|drain|pool/.test(l)).slice(-40).join('\n');
    throw new Error(`${error.message}\nservice tasks:\n${service}\nserver log:\n${log}`);
  });
const numbered = (log: string[]) => log.filter((l) => l.startsWith('line ')).map((l) => Number(l.slice(5)));
const count = (n: number, pause = 0.05) => `for i in $(seq 1 ${n}); do echo "line $i"; sleep ${pause}; done`;
const poolOf = async (s: ServerProcess, name: string) => (await s.api('GET', '/api/pools')).body.find((p: { name: string }) => p.name === name);
const config = (repo: TestRepo, pool: string, image: string) => `repos:
  - { name: web, path: ${JSON.stringify(repo.path)} }
pools:
  - name: ${pool}
    provider: swarm
    labels: [linux, ${pool}]
    max: 2
    idle_timeout: 2s
    docker: { image: ${JSON.stringify(image)}, network: host }
server:
  lease_timeout: 5s
`;

describe.skipIf(skipDocker())('a swarm pool on a one-node swarm', () => {
  let image: string;
  let joined = false;
  const pools: string[] = [];
  beforeAll(async () => {
    await isolateGit();
    if (docker('info', '--format', '{{.Swarm.LocalNodeState}}') !== 'active') {
      docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
      joined = true;
    }
    // Why a tag of our own: a rebuild by ensureKilnImage removes its older images, and with them
    // the image this suite's containers are using.
    image = `kiln-test-agent-${suffix}:latest`;
    docker('tag', await agentImage(`kiln-test-agent-standin-${suffix}:latest`), image);
  }, 900_000);
  afterAll(async () => {
    await killAll();
    for (const pool of pools) {
      try {
        docker('service', 'rm', `kiln-pool-${pool}`);
      } catch {
        // never made
      }
    }
    for (const pool of pools) {
      for (const secret of docker('secret', 'ls', '-q', '--filter', `label=kiln.pool=${pool}`).split('\n').filter(Boolean)) {
        await eventually(() => {
          try {
            docker('secret', 'rm', secret);
            return true;
          } catch {
            return false; // still in use by the removed service's tasks
          }
        }, 20_000, `the token secret ${secret} removed`).catch(() => {});
      }
    }
    if (joined) docker('swarm', 'leave', '--force');
    // Each pool's git cache volume, once no task container uses it any more.
    for (const pool of pools) {
      await eventually(() => {
        try {
          docker('volume', 'rm', '-f', `kiln-git-cache-${pool}`);
          return true;
        } catch {
          return false;
        }
      }, 20_000, `the git cache volume of ${pool} removed`).catch(() => {});
    }
    // Untagging only (the image stays while ensureKilnImage's tag names it), once swarm let go of it.
    for (const tag of [image, `kiln-test-agent-standin-${suffix}:latest`]) {
      if (tag) {
        await eventually(() => {
          try {
            docker('rmi', tag);
            return true;
          } catch (error) {
            return /No such image/i.test(String((error as { stderr?: string }).stderr)); // else: a task container still uses it
          }
        }, 20_000, `${tag} untagged`).catch(() => {});
      }
    }
    await removeTempDirs();
  }, 60_000);

  it('scales the service up for two parallel jobs, runs each once on its own task, and back to 0 replicas after the idle timeout', async () => {
    const pool = `swarm${process.pid}`;
    pools.push(pool);
    const repo = await createRepo();
    const server = await startServer({ config: config(repo, pool, image) });
    const sha = await repo.commit({ 'pipeline.yml': `jobs:\n  one:\n    runs-on: [${pool}]\n    steps: [{ run: '${count(60)}' }]\n  two:\n    runs-on: [${pool}]\n    steps: [{ run: '${count(60)}' }]\n` });
    const run = await runOfCommit(server, 'web', sha);

    await settled(server, pool, () => replicas(pool) === 2 && running(pool).length === 2, 'two running tasks');
    const names = running(pool).map((t) => `kiln-${pool}-${t.id}`);
    // The token is a swarm secret: neither the service nor a task's container shows it, and still the agents connect.
    expect(docker('service', 'inspect', `kiln-pool-${pool}`)).not.toContain(AGENT_TOKEN);
    for (const t of running(pool)) expect(docker('inspect', docker('ps', '-q', '--filter', `label=com.docker.swarm.task.id=${t.id}`))).not.toContain(AGENT_TOKEN);
    const ended = await runEnded(server, run.id, 60_000);
    expect(ended.status).toBe('success');
    for (const job of ended.jobs) {
      expect(job).toMatchObject({ status: 'success', exit_code: 0, attempt: 1 });
      expect(names).toContain(job.agent);
      expect(numbered(await jobLog(server, job.id))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    }
    expect(new Set(ended.jobs.map((j: { agent: string }) => j.agent)).size).toBe(2);

    await settled(server, pool, () => replicas(pool) === 0 && running(pool).length === 0, 'the service at 0 replicas');
    const after = await poolOf(server, pool);
    expect(after).toMatchObject({ provider: 'swarm', desired: 0, error: null });
    expect(after.events.filter((e: { action: string }) => e.action === 'drain')).toHaveLength(2);
    await server.kill();
  }, 120_000);

  it('drains and removes the idle agent while the busy one keeps its job to the end', async () => {
    const pool = `busy${process.pid}`;
    pools.push(pool);
    const repo = await createRepo();
    const server = await startServer({ config: config(repo, pool, image) });
    const sha = await repo.commit({ 'pipeline.yml': `jobs:\n  long:\n    runs-on: [${pool}]\n    steps: [{ run: '${count(150, 0.1)}' }]\n  short:\n    runs-on: [${pool}]\n    steps: [{ run: 'echo short' }]\n` });
    const run = await runOfCommit(server, 'web', sha);

    const short = await eventually(async () => {
      const job = await jobOf(server, run.id, 'short');
      return job?.status === 'success' ? job : null;
    }, 30_000, 'the short job done');
    const long = await eventually(async () => {
      const job = await jobOf(server, run.id, 'long');
      return job?.status === 'running' && job.agent ? job : null;
    }, 30_000, 'the long job running');
    expect(long.agent).not.toBe(short.agent);

    // The short job's agent idles past 2 s, drains, exits 0; the service shrinks to the busy one.
    await settled(server, pool, () => replicas(pool) === 1, 'the service down to 1 replica');
    expect(running(pool).map((t) => `kiln-${pool}-${t.id}`)).toEqual([long.agent]);
    expect((await jobOf(server, run.id, 'long')).status).toBe('running');
    const agents = (await server.api('GET', '/api/agents')).body.filter((a: { pool: string }) => a.pool === pool);
    expect(agents.find((a: { name: string }) => a.name === long.agent)).toMatchObject({ status: 'busy' });

    const ended = await runEnded(server, run.id, 60_000);
    const endedLong = ended.jobs.find((j: { name: string }) => j.name === 'long');
    expect(endedLong).toMatchObject({ status: 'success', attempt: 1, agent: long.agent });
    expect(numbered(await jobLog(server, endedLong.id))).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    await settled(server, pool, () => replicas(pool) === 0 && running(pool).length === 0, 'the service at 0 replicas');
    const pool_ = await poolOf(server, pool);
    expect(pool_.events.filter((e: { action: string }) => e.action === 'remove')).toEqual([]);
    await server.kill();
  }, 120_000);

  describe('the swarm provider itself (a busybox stand-in that exits 0 on SIGTERM)', () => {
    const fake = `kiln-test-fake-swarm-agent-${suffix}:latest`;
    const provider = createSwarmProvider({ logger: pino({ level: 'silent' }), killGraceMs: 2000, deployWaitMs: 20_000 });
    const spec = { serverUrl: 'http://127.0.0.1:9', token: 'secret-agent-token', labels: ['linux'], capacity: 1 };
    const poolNamed = (name: string, image = fake): PoolConfig => {
      pools.push(name);
      return { ...defaultPool(1), name, provider: 'swarm', docker: { host: null, image, network: 'host', env: {} } };
    };
    beforeAll(() => {
      execFileSync('docker', ['build', '--network', 'host', '-q', '-t', fake, '-'], {
        input: `FROM busybox:latest\nCMD ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]\n`, stdio: ['pipe', 'pipe', 'pipe'],
      });
    }, 60_000);

    it('names each task\'s agent after its task id through the service env template', async () => {
      const pool = poolNamed(`tmpl${process.pid}`);
      const made = await provider.deploy(pool, 2, spec);
      expect(made).toHaveLength(2);
      expect(replicas(pool.name)).toBe(2);
      for (const instance of made) {
        expect(instance.name).toBe(`kiln-${pool.name}-${instance.ref}`);
        const container = docker('ps', '-q', '--filter', `label=com.docker.swarm.task.id=${instance.ref}`);
        const env = JSON.parse(docker('inspect', container, '--format', '{{json .Config.Env}}')) as string[];
        expect(env).toContain(`KILN_AGENT_NAME=${instance.name}`);
        expect(env).toContain('KILN_AGENT_TOKEN_FILE=/run/secrets/kiln-agent-token');
        expect(docker('inspect', container)).not.toContain('secret-agent-token');
        expect(docker('exec', container, 'cat', '/run/secrets/kiln-agent-token')).toBe('secret-agent-token');
      }
      expect(docker('service', 'inspect', `kiln-pool-${pool.name}`)).not.toContain('secret-agent-token');
      expect(JSON.parse(docker('service', 'inspect', `kiln-pool-${pool.name}`, '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Secrets}}'))).toEqual([{
        SecretID: expect.any(String), SecretName: expect.stringMatching(new RegExp(`^kiln-agent-token-${pool.name}-[0-9a-f]{12}$`)),
        File: { Name: 'kiln-agent-token', UID: '0', GID: '0', Mode: 0o400 }, // busybox runs as root
      }]);
      expect((await provider.list(pool)).map((i) => i.name).sort()).toEqual(made.map((i) => i.name).sort());
    });

    it('removes one agent by stopping its task (it exits 0, is not restarted) and then shrinks the service to the other', async () => {
      const pool = poolNamed(`stop${process.pid}`);
      const [one, two] = await provider.deploy(pool, 2, spec);
      await provider.remove(one!);
      await eventually(async () => (await provider.list(pool)).length === 1 && replicas(pool.name) === 1, 20_000, 'the service at 1 replica');
      expect((await provider.list(pool)).map((i) => i.name)).toEqual([two!.name]);
      expect(running(pool.name).map((t) => t.id)).toEqual([two!.ref]);
      await provider.remove(one!); // already gone: fine
    });

    it('brings the agent template up to date on the next deploy when the server URL and token changed, and removes the old token secret', async () => {
      const pool = poolNamed(`tpl${process.pid}`);
      const secrets = () => docker('secret', 'ls', '--filter', `label=kiln.pool=${pool.name}`, '--format', '{{.Name}}').split('\n').filter(Boolean);
      await provider.deploy(pool, 1, spec);
      const [first] = secrets();
      expect(first).toMatch(new RegExp(`^kiln-agent-token-${pool.name}-[0-9a-f]{12}$`));
      const made = await provider.deploy(pool, 1, { ...spec, serverUrl: 'http://127.0.0.1:10', token: 'new-agent-token' });
      expect(made.length).toBeGreaterThanOrEqual(1);
      await eventually(async () => {
        const live = await provider.list(pool);
        if (live.length !== 2 || running(pool.name).length !== 2) return false;
        return live.every((i) => {
          const container = docker('ps', '-q', '--filter', `label=com.docker.swarm.task.id=${i.ref}`);
          return container !== '' && docker('inspect', container, '--format', '{{json .Config.Env}}').includes('KILN_SERVER=http://127.0.0.1:10')
            && docker('exec', container, 'cat', '/run/secrets/kiln-agent-token') === 'new-agent-token';
        });
      }, 30_000, 'both agents on the new template');
      expect(docker('service', 'inspect', `kiln-pool-${pool.name}`)).not.toContain('new-agent-token');
      await eventually(async () => (await provider.list(pool), secrets().length === 1 && secrets()[0] !== first), 30_000, 'the old token secret removed');
    }, 60_000);

    it('rejects a deploy whose tasks cannot start (a missing image) with the engine\'s reason, and takes the replicas back', async () => {
      const missing = `kiln-test-no-such-image-${suffix}:latest`;
      const pool = poolNamed(`miss${process.pid}`, missing);
      await expect(provider.deploy(pool, 1, spec)).rejects.toThrow(new RegExp(`^agent task of image ${missing.replace(/[.:]/g, '\\$&')} failed on \\S+: .*No such image`, 'i'));
      expect(replicas(pool.name)).toBe(0);
    }, 60_000);

    afterAll(() => {
      try {
        docker('rmi', '-f', fake);
      } catch {
        // in use until swarm lets go: removed with the swarm's containers
      }
    });
  });
});
