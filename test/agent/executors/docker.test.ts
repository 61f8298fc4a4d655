// The Docker executor: the conformance suite in two images, and what is particular to containers.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDockerExecutor, type DockerExecutorOptions } from '../../../agent/executors/docker/executor.js';
import type { Executor } from '../../../agent/executors/executor.js';
import { runJob, type JobOutput } from '../../../agent/executors/run-job.js';
import type { PlannedJob, PlannedStep } from '../../../shared/pipeline/types.js';
import { skipDocker } from '../../helpers/docker.js';
import { plannedStep } from '../../helpers/plan.js';
import { waitFor } from '../../helpers/processes.js';
import { useTempDirs } from '../../helpers/tmp.js';
import { describeExecutorConformance } from './conformance.js';
import { docker, dockerJob, expectNothingLeftAfterAll, managedResources, testAgentName } from './docker/helpers.js';

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

describe.skipIf(skipDocker())('docker executor', () => {
  const agentName = testAgentName('docker-executor');
  expectNothingLeftAfterAll(agentName);
  let nextJobId = 1;
  const logs: string[] = [];
  const make = (job: Partial<PlannedJob> = {}, options: Partial<DockerExecutorOptions> = {}) => {
    const jobId = nextJobId++;
    const executor = createDockerExecutor({
      docker, job: dockerJob(job), jobId, agentName, network: 'host', dind: { privileged: true }, log: (t) => logs.push(t), ...options,
    });
    return Object.assign(executor, { jobId });
  };

  describeExecutorConformance('docker (busybox)', () => make(), { hostPids: false });
  describeExecutorConformance('docker (node:20-bookworm-slim)', () => make({ image: 'node:20-bookworm-slim' }), { hostPids: false });

  const tempDir = useTempDirs('kiln-docker-');
  const never = new AbortController().signal;
  async function run(executor: Executor, step: PlannedStep | string, env: Record<string, string> = {}, signal = never) {
    let stdout = '';
    let stderr = '';
    const outcome = await executor.runStep(typeof step === 'string' ? plannedStep(step) : step, {
      env, signal, onOutput: (stream, data) => (stream === 'stdout' ? (stdout += data) : (stderr += data)),
    });
    return { outcome, stdout, stderr };
  }
  const output = (): JobOutput & { text(): string } => {
    let text = '';
    return { write: (_step, _stream, data) => (text += data), endStep: () => undefined, text: () => text };
  };

  it('runs steps in the job image, the workspace at its host path inside and as working directory', async () => {
    const workspace = await tempDir();
    await writeFile(join(workspace, 'from-host.txt'), 'hello from the host\n');
    const executor = make({ image: 'node:20-bookworm-slim' });
    await executor.setup({ workspace, env: { KILN_WORKSPACE: workspace } });
    const ran = await run(executor, 'pwd\necho "$KILN_WORKSPACE"\ncat from-host.txt\nnode -p process.version\necho made > from-step.txt');
    expect(ran.stdout).toBe(`${workspace}\n${workspace}\nhello from the host\n${process.version}\n`);
    expect(await readFile(join(workspace, 'from-step.txt'), 'utf8')).toBe('made\n');
    await executor.teardown();
  });

  it("runs steps as the image's user, or as `user:` when the pipeline sets it, who can write the workspace", async () => {
    const workspace = await tempDir();
    const asImage = make();
    await asImage.setup({ workspace, env: {} });
    expect((await run(asImage, 'id -u')).stdout).toBe('0\n');
    await asImage.teardown();
    for (const [user, uid] of [['1000:1000', '1000'], ['nobody', '65534']] as const) {
      const asUser = make({ image: 'node:20-bookworm-slim', user });
      await asUser.setup({ workspace, env: {} });
      const ran = await run(asUser, `id -u\nmkdir -p out/${uid}\necho x > out/${uid}/file`);
      expect(ran).toMatchObject({ stdout: `${uid}\n`, outcome: { exitCode: 0 } });
      await asUser.teardown();
    }
    expect((await readdir(join(workspace, 'out'))).sort()).toEqual(['1000', '65534']);
  });

  it('gives steps the secrets but keeps them out of the container configuration', async () => {
    const executor = make({ secrets: ['TOKEN'] });
    await executor.setup({ workspace: await tempDir(), env: { PLAIN: 'visible', TOKEN: 's3cret' } });
    expect((await run(executor, 'echo "$PLAIN $TOKEN"')).stdout).toBe('visible s3cret\n');
    const [info] = await docker.listContainers({ filters: { label: [`kiln.job=${executor.jobId}`, `kiln.agent=${agentName}`] } });
    const env = (await docker.getContainer(info!.Id).inspect()).Config.Env;
    expect(env).toContain('PLAIN=visible');
    expect(env.some((e) => e.startsWith('TOKEN='))).toBe(false);
    await executor.teardown();
  });

  it('runs a job whose steps reach a service by its name and the host engine (dood), and removes them after', async () => {
    const port = await freePort();
    const web = { name: 'web', image: 'busybox:latest', env: {}, entrypoint: null, ports: [port],
      command: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/etc'] };
    const executor = make({ services: [web], docker: 'dood' });
    await executor.setup({ workspace: await tempDir(), env: {} });
    const ran = await run(executor, `wget -qO- http://web:${port}/hostname\n[ -S /var/run/docker.sock ] && echo socket`);
    expect(ran.stdout).toMatch(/^\S+\nsocket\n$/);
    expect((await managedResources(agentName, executor.jobId)).length).toBe(2);
    await executor.teardown();
    expect(await managedResources(agentName, executor.jobId)).toEqual([]);
  });

  it('streams output as it comes, not when the step ends', async () => {
    const executor = make();
    await executor.setup({ workspace: await tempDir(), env: {} });
    const t0 = Date.now();
    let firstAt = 0;
    const outcome = await executor.runStep(plannedStep('echo first\nsleep 1\necho second'), {
      env: {}, signal: never, onOutput: () => (firstAt ||= Date.now() - t0),
    });
    expect(outcome.exitCode).toBe(0);
    expect(Date.now() - t0 - firstAt).toBeGreaterThan(700);
    await executor.teardown();
  });

  it('stops the processes of a cancelled step inside the container; those of earlier steps live on', async () => {
    const workspace = await tempDir();
    const executor = make();
    await executor.setup({ workspace, env: {} });
    await run(executor, 'sleep 2001 >/dev/null 2>&1 &');
    const abort = new AbortController();
    const running = run(executor, "sleep 1001 &\nsh -c 'trap \"\" TERM; sleep 1002' &\ntouch started\nwait", {}, abort.signal);
    expect(await waitFor(async () => (await readdir(workspace)).includes('started'), 5000)).toBe(true);
    abort.abort();
    expect((await running).outcome).toMatchObject({ exitCode: null, reason: 'cancelled' });
    const ps = await run(executor, 'ps -o args | grep "^sleep [12]00" || true');
    expect(ps.stdout).toBe('sleep 2001\n');
    await executor.teardown();
  });

  it('ends a timed-out step with the signal that stopped it', async () => {
    const executor = make({}, { graceMs: 200 });
    await executor.setup({ workspace: await tempDir(), env: {} });
    const ran = await run(executor, plannedStep("trap '' TERM\nwhile :; do sleep 0.1; done", { timeoutMs: 200 }));
    expect(ran.outcome).toEqual({ exitCode: null, signal: 'SIGKILL', reason: 'timeout' });
    await executor.teardown();
  });

  it("reports a step shell missing from the image as an executor error", async () => {
    const executor = make();
    await executor.setup({ workspace: await tempDir(), env: {} });
    const ran = await run(executor, plannedStep('true', { shell: 'bash -e' }));
    expect(ran.outcome).toEqual({ exitCode: null, reason: 'error', message: 'cannot start bash: not found in image busybox:latest' });
    expect((await run(executor, 'no-such-command-kiln')).outcome).toEqual({ exitCode: 127 });
    await executor.teardown();
  });

  it('keeps step scripts out of the workspace and removes them at teardown', async () => {
    const workspace = await tempDir();
    const executor = make();
    await executor.setup({ workspace, env: {} });
    expect((await run(executor, 'echo "$0"')).stdout).toBe('/.kiln/step-0.sh\n');
    expect(await readdir(workspace)).toEqual([]);
    await executor.teardown();
    const siblings = await readdir(dirname(workspace));
    expect(siblings.filter((name) => name.startsWith(`.${basename(workspace)}.kiln-`))).toEqual([]);
  });

  it('a cancelled job and a timed-out job leave no container with their labels', async () => {
    for (const how of ['cancel', 'timeout'] as const) {
      const abort = new AbortController();
      const job = dockerJob({ steps: [plannedStep('touch started\nsleep 1000')], timeoutMs: how === 'timeout' ? 1000 : null });
      const executor = make(job);
      const workspace = await tempDir();
      const done = runJob({ job, executor, workspace, env: {}, output: output(), signal: abort.signal });
      if (how === 'cancel') {
        await waitFor(async () => (await readdir(workspace)).includes('started'), 10_000);
        abort.abort();
      }
      expect((await done).status).toBe(how === 'cancel' ? 'cancelled' : 'failed');
      expect(await managedResources(agentName, executor.jobId)).toEqual([]);
    }
  });

  it('a job whose image cannot be pulled ends `error` at once with the reason, and leaves nothing', async () => {
    const job = dockerJob({ image: 'kiln-test/absent:1', steps: [plannedStep('true')] });
    const executor = make(job);
    const out = output();
    const t0 = Date.now();
    const result = await runJob({ job, executor, workspace: await tempDir(), env: {}, output: out });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(result.status).toBe('error');
    expect(result.reason).toMatch(/^executor setup failed: cannot pull kiln-test\/absent:1: \S/);
    expect(result.steps.map((s) => s.status)).toEqual(['skipped']);
    expect(await managedResources(agentName, executor.jobId)).toEqual([]);
    await expect(executor.teardown()).resolves.toBeUndefined();
  });

  it('with pull `never`, an absent image fails setup and a present one is used as is', async () => {
    const absent = make({ image: 'kiln-test/absent:1', pull: 'never' });
    await expect(absent.setup({ workspace: await tempDir(), env: {} })).rejects.toThrow('image kiln-test/absent:1 is not present and pull is never');
    await absent.teardown();
    logs.length = 0;
    const present = make({ pull: 'always' }, { pull: 'never' });
    await present.setup({ workspace: await tempDir(), env: {} });
    expect(logs.some((line) => line.startsWith('pulling'))).toBe(false);
    await present.teardown();
  });
});
