// kiln's Docker images on a real engine: both build from node:20-bookworm-slim, the server
// runs as a non-root user and reports healthy, and an agent container (`docker run --init
// kiln-agent --server … --token …`) connects with its labels and runs a job of a repo that
// the server container sees, with git and the host's engine through the mounted socket.
import { execFile, execFileSync } from 'node:child_process';
import { chmod, chown, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipDocker } from './helpers/docker.js';
import { createRepo, isolateGit, makeTempDir, removeTempDirs } from './helpers/git.js';
import { ensureKilnImage } from './helpers/images.js';
import { ADMIN_TOKEN, AGENT_TOKEN, eventually, freePort, jobLog, runEnded } from './helpers/kiln.js';

const exec = promisify(execFile);
const docker = async (...args: string[]) => (await exec('docker', args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
const KILN_UID = 10001;
const SOCKET = '/var/run/docker.sock';
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const BUILD_MS = 20 * 60_000;

/** Makes a host folder usable by the images' user (uid 10001): its own when we are root. */
async function giveToKiln(dir: string, mode: number): Promise<void> {
  if (process.getuid?.() === 0) await chown(dir, KILN_UID, KILN_UID);
  else await chmod(dir, mode);
}

describe.skipIf(skipDocker())('the kiln Docker images', () => {
  const containers: string[] = [];
  let agentImage: string;
  let serverImage: string;

  const run = async (...args: string[]) => {
    const id = await docker('run', '-d', '--label', `kiln.test=images-${suffix}`, ...args);
    containers.push(id);
    return id;
  };
  const logsOf = async (id: string) => (await exec('docker', ['logs', '--tail', '40', id]).catch((e: { stdout?: string; stderr?: string }) => e)).stderr ?? '';

  beforeAll(async () => {
    await isolateGit();
    // One after the other: the second reuses the first one's dependency layers.
    serverImage = await ensureKilnImage('server');
    agentImage = await ensureKilnImage('agent');
  }, BUILD_MS);

  afterAll(async () => {
    if (containers.length > 0) await docker('rm', '-f', '-v', ...containers).catch(() => '');
    await removeTempDirs();
  });

  it('builds both images from node:20-bookworm-slim, to run as a non-root user with tini as PID 1', async () => {
    const baseLayers = JSON.parse(await docker('image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'node:20-bookworm-slim')) as string[];
    for (const image of [agentImage, serverImage]) {
      const info = JSON.parse(await docker('image', 'inspect', '--format', '{{json .}}', image));
      expect((info.RootFS.Layers as string[]).slice(0, baseLayers.length)).toEqual(baseLayers);
      expect(info.Config.User).toBe(`${KILN_UID}:${KILN_UID}`);
      expect(info.Config.Entrypoint.slice(0, 3)).toEqual(['/usr/bin/tini', '-s', '--']);
    }
    const server = JSON.parse(await docker('image', 'inspect', '--format', '{{json .Config}}', serverImage));
    expect(server.Entrypoint.slice(3)).toEqual(['node', '--max-semi-space-size=1', 'dist/bundle/kiln.js', 'server']);
    expect(Object.keys(server.ExposedPorts)).toEqual(['8080/tcp']);
    expect(Object.keys(server.Volumes)).toEqual(['/data']);
    expect(server.Env).toEqual(expect.arrayContaining(['KILN_DATA=/data']));
    expect(server.Healthcheck.Test.join(' ')).toContain('/healthz');
  });

  it('prints the agent usage for `docker run kiln-agent --help`, and has git and a docker client', async () => {
    const help = await docker('run', '--rm', '--network', 'none', agentImage, '--help');
    expect(help).toContain('Usage: kiln agent');
    expect(help).toContain('--server URL');
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', 'git', agentImage, '--version')).toMatch(/^git version /);
    expect(await docker('run', '--rm', '--network', 'none', '--entrypoint', 'docker', agentImage, '--version')).toMatch(/^Docker version /);
  });

  it('runs the server healthy as a non-root user, and an agent container connects and runs a job of a repo the server container sees', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dataDir = await makeTempDir('kiln-image-data-');
    await giveToKiln(dataDir, 0o777);
    const configDir = await makeTempDir('kiln-image-config-');
    await writeFile(join(configDir, 'kiln.yml'), 'repos: []\npools: []\nserver:\n  lease_timeout: 10s\n');
    await chmod(configDir, 0o755);

    const repo = await createRepo();
    const sha = await repo.commit({
      'pipeline.yml': `jobs:\n  hello:\n    runs-on: [image-test]\n    steps:\n      - run: |\n          echo "uid $(id -u)"\n          cat hello.txt\n          git log -1 --format=commit-%H\n          docker version --format 'engine {{.Server.Version}}'\n          sleep 0.2 &\n`,
      'hello.txt': 'hello from the mounted repo\n',
    });
    // The server (uid 10001) reads the repo at the same path as here: it must own it, as git
    // refuses repositories of other users ("dubious ownership").
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', `${KILN_UID}:${KILN_UID}`, repo.path]);
    else execFileSync('chmod', ['-R', 'a+rwX', repo.path]);

    const server = await run('--init', '--network', 'host', '--health-interval', '1s', '--health-start-period', '30s',
      '-e', `KILN_PORT=${port}`, '-e', `KILN_ADMIN_TOKEN=${ADMIN_TOKEN}`, '-e', `KILN_AGENT_TOKEN=${AGENT_TOKEN}`, '-e', 'KILN_CONFIG=/etc/kiln/kiln.yml',
      '-v', `${dataDir}:/data`, '-v', `${configDir}:/etc/kiln:ro`, '-v', `${repo.path}:${repo.path}:ro`, serverImage);
    await eventually(async () => (await docker('inspect', '--format', '{{.State.Health.Status}}', server)) === 'healthy', 60_000, 'the server container to be healthy')
      .catch(async (error) => { throw new Error(`${(error as Error).message}\n${await logsOf(server)}`); });
    const healthz = await fetch(`${url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok' });
    const processes = await docker('top', server, '-o', 'pid,uid,args');
    const serverLine = processes.split('\n').find((l) => l.includes('kiln.js server') && !l.includes('tini'));
    expect(serverLine?.trim().split(/\s+/)[1], processes).toBe(String(KILN_UID));
    if (process.getuid?.() === 0) expect(statSync(join(dataDir, 'kiln.db')).uid).toBe(KILN_UID);

    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await response.text();
      return { status: response.status, body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as any };
    };
    expect((await api('POST', '/api/repos', { name: 'mounted', path: repo.path })).status).toBe(201);

    // The agent as the README says: --init, flags after the image, the socket's group added.
    const socketGid = statSync(SOCKET).gid;
    const name = `image-agent-${suffix}`;
    const agent = await run('--init', '--network', 'host', '-v', `${SOCKET}:${SOCKET}`, '--group-add', String(socketGid),
      agentImage, '--server', url, '--token', AGENT_TOKEN, '--labels', 'linux,image-test', '--name', name);
    const listed = await eventually(async () => (await api('GET', '/api/agents')).body.find((a: { name: string; status: string }) => a.name === name && a.status !== 'offline'), 30_000, 'the agent container in /api/agents')
      .catch(async (error) => { throw new Error(`${(error as Error).message}\n${await logsOf(agent)}`); });
    expect(listed.labels).toEqual(expect.arrayContaining(['linux', 'image-test', 'docker']));

    const started = await api('POST', '/api/repos/mounted/runs', {});
    expect(started.status).toBe(201);
    const ended = await runEnded({ api: (m, p) => api(m, p) }, started.body.id, 60_000);
    const job = ended.jobs.find((j: { name: string }) => j.name === 'hello');
    const log = await jobLog({ api: (m, p) => api(m, p) as any }, job.id);
    expect({ status: ended.status, agent: job.agent }, log.join('\n')).toEqual({ status: 'success', agent: name });
    expect(log).toEqual(expect.arrayContaining([`uid ${KILN_UID}`, 'hello from the mounted repo', `commit-${sha}`]));
    expect(log.some((l) => l.startsWith('engine '))).toBe(true);

    // The step left an orphan behind (`sleep 0.2 &`): it was reaped, not left a zombie.
    // (Read from /proc inside: `docker top` lists the cgroup's processes, and zombies have left it.)
    const zombies = async () => (await docker('exec', agent, 'sh', '-c', 'for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done'))
      .split('\n').filter((line) => line.slice(line.lastIndexOf(')') + 2).startsWith('Z'));
    expect(await eventually(async () => (await zombies()).length === 0, 5000, 'no zombies in the agent container').catch(async () => zombies())).toBe(true);

    // Drain: SIGTERM reaches the agent through --init and tini, and it exits 0.
    await docker('stop', '--time', '20', agent);
    expect(await docker('inspect', '--format', '{{.State.ExitCode}}', agent)).toBe('0');
  }, 180_000);
});
