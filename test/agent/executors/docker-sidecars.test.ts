// Sidecars on the real engine, host networking: services by name, dood, dind with a build, and nothing left behind.
import { createServer, type Server } from 'node:net';
import Docker from 'dockerode';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LABEL_AGENT, LABEL_JOB, jobLabels } from '../../../agent/executors/docker/labels.js';
import { freeLoopbackPort } from '../../../agent/executors/docker/network.js';
import { startSidecars, type DindSecurity, type SidecarOptions, type Sidecars } from '../../../agent/executors/docker/sidecars.js';
import { KilnError } from '../../../shared/errors.js';
import type { PlannedService } from '../../../shared/pipeline/types.js';
import { skipDocker } from '../../helpers/docker.js';
import { plannedJob } from '../../helpers/plan.js';

/** The set that runs a Docker daemon in a container on these machines (see shared/env/docker-offline.sh). */
const MACHINE_DIND: DindSecurity = {
  privileged: false,
  capAdd: ['SYS_ADMIN', 'NET_ADMIN'],
  securityOpt: ['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined'],
  cgroupnsHost: true,
  binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
  daemonArgs: ['--bridge=none', '--iptables=false', '--ip6tables=false'],
};
const AGENT = `sidecars-test-${process.pid}`;
let nextJobId = process.pid * 100;

const service = (name: string, command: string, ports: number[] = [], image = 'busybox:latest'): PlannedService =>
  ({ name, image, env: {}, command: ['sh', '-c', command], entrypoint: null, ports });

describe.skipIf(skipDocker())('sidecars on the host network (real engine)', () => {
  const docker = new Docker();
  const lines: string[] = [];
  const started: Sidecars[] = [];

  function start(overrides: Partial<SidecarOptions['job']>, more: Partial<SidecarOptions> = {}) {
    const jobId = ++nextJobId;
    const promise = startSidecars({
      docker, job: plannedJob([], overrides), jobId, agentName: AGENT, network: 'host', dind: MACHINE_DIND,
      log: (text) => lines.push(text), signal: new AbortController().signal, ...more,
    }).then((s) => (started.push(s), s));
    return { jobId, promise };
  }

  /** Runs a job-like container the way the executor would: the sidecars' network, hosts, binds and env. */
  async function runInJob(s: Sidecars, image: string, script: string): Promise<{ code: number; output: string }> {
    const container = await docker.createContainer({
      Image: image, Entrypoint: ['sh', '-c'], Cmd: [script],
      Env: Object.entries(s.env).map(([k, v]) => `${k}=${v}`),
      Labels: jobLabels(AGENT, 0),
      HostConfig: { NetworkMode: s.network, ExtraHosts: s.extraHosts, Binds: s.binds },
    });
    try {
      await container.start();
      const { StatusCode } = await container.wait();
      const raw = (await container.logs({ stdout: true, stderr: true })) as Buffer;
      return { code: StatusCode, output: demux(raw) };
    } finally {
      await container.remove({ force: true });
    }
  }

  async function leftovers(filter: string[]) {
    const filters = JSON.stringify({ label: filter });
    const [containers, volumes, networks] = await Promise.all([
      docker.listContainers({ all: true, filters }), docker.listVolumes({ filters }), docker.listNetworks({ filters })]);
    return [...containers.map((c) => c.Names[0]), ...(volumes.Volumes ?? []).map((v) => v.Name), ...networks.map((n) => n.Name)];
  }
  const jobLeftovers = (jobId: number) => leftovers([`${LABEL_AGENT}=${AGENT}`, `${LABEL_JOB}=${jobId}`]);

  afterAll(async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    expect(await leftovers(['kiln.managed=true', `${LABEL_AGENT}=${AGENT}`])).toEqual([]);
  }, 60_000);

  it('starts a service that the job reaches by its name, logs its output, and removes it at stop (twice is fine)', async () => {
    const port = await freeLoopbackPort();
    const web = service('web', `mkdir -p /www && echo hello-from-web > /www/index.html && echo "serving on ${port}" && exec httpd -f -p 127.0.0.1:${port} -h /www`, [port]);
    const { jobId, promise } = start({ services: [web] });
    const s = await promise;
    expect(s).toMatchObject({ network: 'host', extraHosts: ['web:127.0.0.1'], binds: [], env: {} });
    const job = await runInJob(s, 'busybox:latest', `wget -qO- http://web:${port}/`);
    expect(job).toEqual({ code: 0, output: 'hello-from-web\n' });
    await vi.waitFor(() => expect(lines).toContain(`[web] serving on ${port}`));
    expect(lines).toContain(`service "web" is ready (port ${port})`);
    expect(await jobLeftovers(jobId)).toHaveLength(1);
    await s.stop();
    await s.stop();
    expect(await jobLeftovers(jobId)).toEqual([]);
  });

  it('refuses two services that declare the same port, before starting anything', async () => {
    const { jobId, promise } = start({ services: [service('a', 'sleep 60', [7001]), service('b', 'sleep 60', [7001])] });
    await expect(promise).rejects.toThrow('services "a" and "b" both declare port 7001');
    expect(await jobLeftovers(jobId)).toEqual([]);
  });

  it('refuses a declared port that something on the host already listens on', async () => {
    const taken: Server = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(start({ services: [service('db', 'sleep 60', [port])] }).promise)
        .rejects.toThrow(`port ${port} of service "db" is already in use on this host`);
    } finally {
      taken.close();
    }
  });

  it('fails with the exit code when a service exits before its port answers, its output in the log, nothing left', async () => {
    const port = await freeLoopbackPort();
    const { jobId, promise } = start({ services: [service('bad', 'echo boom-before-exit; exit 3', [port])] });
    await expect(promise).rejects.toThrow(`service "bad" (busybox:latest) exited with code 3 before port ${port} accepted connections`);
    expect(lines).toContain('[bad] boom-before-exit');
    expect(await jobLeftovers(jobId)).toEqual([]);
  });

  it('gives up on a port that never answers after the ready timeout, with a clear error', async () => {
    const port = await freeLoopbackPort();
    const { jobId, promise } = start({ services: [service('slow', 'sleep 60', [port])] }, { readyTimeoutMs: 1500 });
    await expect(promise).rejects.toThrow(`service "slow" (busybox:latest) did not accept connections on port ${port} within 2 s`);
    expect(await jobLeftovers(jobId)).toEqual([]);
  });

  it('reports in the log a service that exits while the job runs', async () => {
    const s = await start({ services: [service('brief', 'echo short-lived; sleep 1; exit 4')] }).promise;
    await vi.waitFor(() => expect(lines).toContain('[brief] service exited with code 4'), { timeout: 10_000 });
    expect(lines.indexOf('[brief] short-lived')).toBeLessThan(lines.indexOf('[brief] service exited with code 4'));
    await s.stop();
  });

  it('ends with a not_found KilnError naming the service when its image is missing and pull is never', async () => {
    const error = await start({ pull: 'never', services: [service('db', 'true', [], 'kiln-test/missing:nope')] }).promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnError);
    expect(error).toMatchObject({ code: 'not_found', message: 'service "db": image kiln-test/missing:nope is not present and pull is never' });
  });

  it('removes what it started when the job is cancelled while a service is starting', async () => {
    const abort = new AbortController();
    const port = await freeLoopbackPort();
    const { jobId, promise } = start({ services: [service('never', 'sleep 60', [port])] }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 800);
    await expect(promise).rejects.toThrow(/abort/i);
    expect(await jobLeftovers(jobId)).toEqual([]);
  });

  it('labels the volumes a service image declares, and removes them with it', async () => {
    const base = await docker.createContainer({ Image: 'busybox:latest', Cmd: ['true'], Labels: jobLabels(AGENT, 0) });
    const tag = `kiln-test-volume-${process.pid}`;
    await base.commit({ repo: tag, tag: 'latest', changes: ['VOLUME /data'] });
    await base.remove({ force: true });
    try {
      const { jobId, promise } = start({ services: [service('store', 'sleep 60', [], `${tag}:latest`)] });
      const s = await promise;
      expect(await jobLeftovers(jobId)).toHaveLength(2); // the container and its /data volume
      await s.stop();
      expect(await jobLeftovers(jobId)).toEqual([]);
    } finally {
      await docker.getImage(`${tag}:latest`).remove({ force: true });
    }
  });

  it('dood: mounts the agent host\'s Docker socket, so the job talks to the host engine', async () => {
    const s = await start({ docker: 'dood' }).promise;
    expect(s).toMatchObject({ network: 'host', binds: ['/var/run/docker.sock:/var/run/docker.sock'], env: {} });
    const host = await docker.version();
    const job = await runInJob(s, 'docker:dind', 'docker version --format "{{.Server.Version}}"');
    expect(job).toEqual({ code: 0, output: `${host.Version}\n` });
    await s.stop();
  });

  it('dind: gives the job its own daemon that builds a multi-stage Dockerfile, then removes it and its storage', async () => {
    const { jobId, promise } = start({ docker: 'dind' });
    const s = await promise;
    expect(s.env.DOCKER_HOST).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^docker: dind: daemon ready at ${s.env.DOCKER_HOST} in \\d+\\.\\d s$`)));
    const port = Number(s.env.DOCKER_HOST!.split(':').pop());
    // The daemon has no images and no registry: hand it busybox from the host engine.
    const dind = new Docker({ host: '127.0.0.1', port });
    await drain(await dind.loadImage((await docker.getImage('busybox:latest').get()) as NodeJS.ReadableStream));
    const job = await runInJob(s, 'docker:dind', [
      'set -e', 'mkdir -p /tmp/b && cd /tmp/b',
      'printf "FROM busybox AS build\\nRUN echo built-in-dind > /out\\nFROM busybox\\nCOPY --from=build /out /out\\nCMD [\\"cat\\", \\"/out\\"]\\n" > Dockerfile',
      'docker version --format "server {{.Server.Version}}"',
      'docker build -q --network host -t kiln-dind-test:1 . >/dev/null',
      'docker run --rm --network host kiln-dind-test:1',
    ].join('\n'));
    expect(job.output).toMatch(/^server \S+\nbuilt-in-dind\n$/);
    expect(job.code).toBe(0);
    expect(await jobLeftovers(jobId)).toHaveLength(2); // the daemon and its storage volume
    await s.stop();
    expect(await jobLeftovers(jobId)).toEqual([]);
    await expect(dind.ping()).rejects.toThrow();
  }, 120_000);

  it('dind: a daemon that cannot run here (privileged is refused) fails with a clear error and leaves nothing', async () => {
    const { jobId, promise } = start({ docker: 'dind' }, { dind: { privileged: true }, readyTimeoutMs: 20_000 });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnError);
    expect((error as Error).message).toMatch(/^docker: dind: the daemon's container could not start: .*operation not permitted.* \(this host seems to refuse privileged containers/);
    expect(await jobLeftovers(jobId)).toEqual([]);
  }, 60_000);

  it('dind: a daemon that exits at once fails with its last output', async () => {
    const { jobId, promise } = start({ docker: 'dind' }, { dind: { ...MACHINE_DIND, daemonArgs: ['--no-such-flag'] } });
    await expect(promise).rejects.toThrow(/^docker: dind: the daemon exited before answering; its last output:\n.*unknown flag: --no-such-flag/s);
    expect(await jobLeftovers(jobId)).toEqual([]);
  }, 60_000);

  it('dind: two jobs get daemons side by side on their own loopback ports', async () => {
    const [a, b] = await Promise.all([start({ docker: 'dind' }).promise, start({ docker: 'dind' }).promise]);
    expect(a!.env.DOCKER_HOST).not.toBe(b!.env.DOCKER_HOST);
    for (const s of [a!, b!]) {
      const job = await runInJob(s, 'docker:dind', 'docker info --format "{{.Containers}}"');
      expect(job).toEqual({ code: 0, output: '0\n' });
    }
    await Promise.all([a!.stop(), b!.stop()]);
  }, 120_000);
});

/** The payloads of a multiplexed (non-TTY) Docker log buffer. */
function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length; at += 8 + raw.readUInt32BE(at + 4)) parts.push(raw.subarray(at + 8, at + 8 + raw.readUInt32BE(at + 4)));
  return Buffer.concat(parts).toString('utf8');
}

function drain(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => { stream.on('data', () => {}); stream.once('end', resolve); stream.once('error', reject); });
}

