// The docker provider held to the AgentProvider contract on a real engine, with a tiny stand-in
// "agent" image (busybox as uid 10001, like kiln's, that exits 0 on SIGTERM, or ignores it when told to).
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPool, type PoolConfig } from '../../../server/config.js';
import { createDockerProvider } from '../../../server/autoscaler/docker-provider.js';
import type { AgentSpec } from '../../../server/autoscaler/provider.js';
import { skipDocker } from '../../helpers/docker.js';

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const docker_in = (input: string, ...args: string[]) => execFileSync('docker', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `kiln-test-fake-agent-${suffix}:latest`;
const spec: AgentSpec = { serverUrl: 'http://127.0.0.1:9', token: 'secret-agent-token', labels: ['linux', 'docker'], capacity: 2 };
const pool = (name: string, docker: Partial<NonNullable<PoolConfig['docker']>> = {}): PoolConfig =>
  ({ ...defaultPool(1), name: `${name}${process.pid}`, provider: 'docker', docker: { host: null, image: IMAGE, network: 'host', env: {}, ...docker } });
const containersOf = (p: PoolConfig) => docker('ps', '-aq', '--filter', `label=kiln.pool=${p.name}`).split('\n').filter(Boolean);

describe.skipIf(skipDocker())('the docker provider', () => {
  const warnings: unknown[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void (JSON.parse(line).level >= 40 && warnings.push(JSON.parse(line))) });
  const provider = createDockerProvider({ logger, killGraceMs: 1000 });
  const pools: PoolConfig[] = [];
  const made = (p: PoolConfig) => (pools.push(p), p);

  beforeAll(() => {
    docker_in(`FROM busybox:latest
USER 10001:10001
CMD ["sh", "-c", "if [ -n \\"$IGNORE_TERM\\" ]; then trap '' TERM; else trap 'exit 0' TERM; fi; while :; do sleep 0.1; done"]
`, 'build', '--network', 'host', '-q', '-t', IMAGE, '-');
  }, 60_000);
  afterAll(() => {
    for (const p of pools) for (const id of containersOf(p)) docker('rm', '-f', id);
    for (const p of pools) docker('volume', 'rm', '-f', `kiln-git-cache-${p.name}`); // each pool's shared git cache
    docker('rmi', '-f', IMAGE);
  });

  it('starts containers named and labelled for their pool, the token in a file of the image\'s user and not in their environment, and lists only its pool\'s', async () => {
    const a = made(pool('a'));
    const b = made(pool('b'));
    const started = await provider.deploy(a, 2, spec);
    await provider.deploy(b, 1, spec);
    expect(started.map((i) => i.name)).toEqual([expect.stringMatching(new RegExp(`^kiln-${a.name}-[0-9a-f]{8}$`)), expect.stringMatching(/-[0-9a-f]{8}$/)]);
    expect((await provider.list(a)).map((i) => i.name).sort()).toEqual(started.map((i) => i.name).sort());
    expect(await provider.list(b)).toHaveLength(1);

    const [info] = JSON.parse(docker('inspect', started[0]!.ref)) as Array<{ Name: string; Config: { Env: string[]; Labels: Record<string, string> }; HostConfig: Record<string, unknown>; State: { Status: string } }>;
    expect(info!.Name).toBe(`/${started[0]!.name}`);
    expect(info!.State.Status).toBe('running');
    expect(info!.Config.Labels).toMatchObject({ 'kiln.pool': a.name, 'kiln.agent-name': started[0]!.name });
    expect(info!.Config.Env).toEqual(expect.arrayContaining([
      'KILN_AGENT_TOKEN_FILE=/run/kiln/agent.token', 'KILN_SERVER=http://127.0.0.1:9', `KILN_AGENT_NAME=${started[0]!.name}`,
      `KILN_POOL=${a.name}`, 'KILN_LABELS=linux,docker', 'KILN_CAPACITY=2',
    ]));
    expect(docker('inspect', started[0]!.ref)).not.toContain('secret-agent-token');
    expect(docker('exec', started[0]!.ref, 'cat', '/run/kiln/agent.token')).toBe('secret-agent-token');
    expect(docker('exec', started[0]!.ref, 'stat', '-c', '%u:%g %a', '/run/kiln/agent.token', '/run/kiln')).toBe('10001:10001 400\n0:0 755');
    expect(info!.HostConfig).toMatchObject({ Init: true, NetworkMode: 'host', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } });
    expect(JSON.stringify(warnings)).not.toContain('secret-agent-token');
  });

  it('removes an agent with SIGTERM (it exits 0), and removing it again succeeds', async () => {
    const p = made(pool('rm'));
    const [one, two] = await provider.deploy(p, 2, spec);
    const before = Date.now();
    await provider.remove(one!);
    expect(Date.now() - before).toBeLessThan(900); // it obeyed SIGTERM: no kill after the 1 s grace
    expect(containersOf(p)).toEqual([two!.ref.slice(0, 12)]);
    await provider.remove(one!);
    expect((await provider.list(p)).map((i) => i.name)).toEqual([two!.name]);
  });

  it('kills an agent that ignores SIGTERM after the grace period', async () => {
    const p = made(pool('stubborn', { env: { IGNORE_TERM: '1' } }));
    const [one] = await provider.deploy(p, 1, spec);
    const before = Date.now();
    await provider.remove(one!);
    expect(Date.now() - before).toBeGreaterThanOrEqual(900);
    expect(containersOf(p)).toEqual([]);
  });

  it('forgets an agent whose container exited: list removes the container and logs that it failed', async () => {
    const p = made(pool('crash'));
    const [one] = await provider.deploy(p, 1, spec);
    docker('kill', one!.ref);
    expect(await provider.list(p)).toEqual([]);
    expect(containersOf(p)).toEqual([]);
    expect(warnings).toContainEqual(expect.objectContaining({ msg: 'agent container failed', agent: one!.name }));
  });

  it('rejects a deploy with a clear error when the agent image is not on the engine, starting nothing', async () => {
    const p = made(pool('missing', { image: `kiln-test-no-such-image-${suffix}:latest` }));
    await expect(provider.deploy(p, 1, spec)).rejects.toThrow(
      `agent image kiln-test-no-such-image-${suffix}:latest is not present on unix:///var/run/docker.sock: no such image (build or pull it there)`);
    expect(containersOf(p)).toEqual([]);
  });
});
