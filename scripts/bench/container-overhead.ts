// Container job overhead: one job with one `true` step, on the shell executor and on the docker
// executor with the image present (setup + step + teardown), median and p90 of N runs.
// Needs a Docker engine; BENCH_IMAGE (default busybox:latest), BENCH_RUNS (default 20),
// KILN_DOCKER_NETWORK (default host here: engines without a bridge need it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { createDockerExecutor } from '../../agent/executors/docker/executor.js';
import { runJob } from '../../agent/executors/run-job.js';
import { pickBaseEnv } from '../../agent/executors/host-env.js';
import { createShellExecutor } from '../../agent/executors/shell.js';
import type { Executor } from '../../agent/executors/executor.js';
import type { PlannedJob } from '../../shared/pipeline/types.js';
import { percentile, report } from './harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const IMAGE = process.env.BENCH_IMAGE ?? 'busybox:latest';
const NETWORK = (process.env.KILN_DOCKER_NETWORK ?? 'host') as 'host' | 'bridge';

const job = (image: string | null): PlannedJob => ({
  name: 'overhead', key: 'overhead', matrix: null, needs: [], runsOn: [], image, pull: 'never', user: null, services: [], docker: null,
  env: {}, secrets: [], cache: null, artifacts: null, retry: 0, timeoutMs: null, allowFailure: false, when: null, environment: null,
  approval: false, concurrency: null,
  steps: [{ name: 'true', run: 'true', shell: 'sh -e', env: {}, timeoutMs: null, continueOnError: false, when: null }],
});

const silent = { write() {}, endStep() {}, flush() {}, close() {}, truncated: false } as never;

async function timeJobs(make: (jobId: number) => Executor, plan: PlannedJob): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const workspace = mkdtempSync(join(tmpdir(), 'kiln-bench-ws-'));
    const started = performance.now();
    const result = await runJob({ job: plan, executor: make(i + 1), workspace, env: {}, output: silent });
    times.push(performance.now() - started);
    rmSync(workspace, { recursive: true, force: true });
    if (result.status !== 'success') throw new Error(`job ${result.status}: ${result.reason}`);
  }
  return times;
}

async function main(): Promise<void> {
  const docker = new Docker();
  await docker.ping();
  await docker.getImage(IMAGE).inspect().catch(() => { throw new Error(`image ${IMAGE} is not present`); });
  const shell = await timeJobs(() => createShellExecutor({ baseEnv: pickBaseEnv(process.env) }), job(null));
  const containers = await timeJobs((jobId) => createDockerExecutor({
    docker, job: job(IMAGE), jobId, agentName: 'bench-overhead', network: NETWORK, dind: { privileged: true }, log: () => {},
  }), job(IMAGE));
  report('container job overhead (one `true` step; setup + step + teardown, ms)', {
    runs: RUNS, image: IMAGE, 'shell p50': percentile(shell, 50), 'shell p90': percentile(shell, 90),
    'docker p50': percentile(containers, 50), 'docker p90': percentile(containers, 90),
    'overhead p50': percentile(containers, 50) - percentile(shell, 50),
  });
}

main().catch((error: unknown) => {
  console.error(`container overhead: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
