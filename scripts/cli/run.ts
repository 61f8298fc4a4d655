// `kiln run [--job NAME] [FILE]`: runs the current folder's pipeline locally, without a server.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { loadDockerConfig } from '../../agent/config.js';
import { chooseExecutor } from '../../agent/executors/choose.js';
import { connectDocker } from '../../agent/executors/docker/engine.js';
import { pickBaseEnv } from '../../agent/executors/host-env.js';
import { parseEnvPassthrough } from '../../agent/job-env-config.js';
import { runPlanLocally, type LocalJobResult } from '../../agent/jobs/local-run.js';
import { describeSource, prepareLocalWorkspace } from '../../agent/jobs/local-workspace.js';
import { KilnError } from '../../shared/errors.js';
import { formatProblem, validatePipeline, type InputValue, type Plan, type PlannedJob } from '../../shared/pipeline/index.js';
import { inputEnv, planWithInputs, resolveInputs } from '../../shared/pipeline/inputs.js';
import { runStatusFromJobs } from '../../shared/status.js';
import { parseCommand, parsePairs } from './args.js';

// Required, not imported: see server/hub/hub.ts.
const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');

const USAGE = `Usage: kiln run [--job NAME] [--input NAME=VALUE]... [FILE]

Runs FILE (default ./pipeline.yml) on this machine, without a server, with the agent's
executors (jobs with an image, services or dind in Docker, the rest as processes; the
agent's KILN_DOCKER_* settings and KILN_AGENT_ENV_PASSTHROUGH apply): each job in plan order, in a fresh copy of the current folder (in a git repo: HEAD
plus your uncommitted changes, without ignored files), as event "manual". A job whose need
did not succeed is skipped. Prints each job's log prefixed with its name, then a summary.
Exits 0 when every job succeeded, 1 when one did not, 2 on bad usage.

Options:
  --job NAME   run only this job and the jobs it needs (NAME may be a matrix job's key)
  --input N=V  a value of the pipeline's on.manual.inputs (repeatable; defaults fill in)`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, { job: { type: 'string' }, input: { type: 'string', multiple: true } }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length > 1) return usage('give at most one file');
  const file = parsed.positionals[0] ?? 'pipeline.yml';
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => error);
  if (typeof text !== 'string') return usage(`cannot read ${file}: ${text.code === 'ENOENT' ? 'no such file' : String(text.code ?? text)}`);
  const validated = validatePipeline(text);
  if (!validated.ok) {
    for (const problem of validated.problems) console.log(formatProblem(file, problem));
    return 1;
  }
  let inputs: Record<string, InputValue>;
  try {
    inputs = resolveInputs(validated.plan.inputs ?? [], parsePairs('--input', parsed.values.input, USAGE));
  } catch (error) {
    if (error instanceof KilnError) return usage(error.message);
    throw error;
  }
  const plan = planWithInputs(validated.plan, inputs);
  const only = parsed.values.job === undefined ? null : selectJobs(plan, parsed.values.job);
  if (only instanceof Error) return usage(only.message);

  // Bad agent settings stop here, before anything is made, with their one-line reason.
  const dockerConfig = loadDockerConfig({}, process.env, { cwd: process.cwd(), workDir: tmpdir() });
  const baseEnv = pickBaseEnv(process.env, { passthrough: parseEnvPassthrough('KILN_AGENT_ENV_PASSTHROUGH', process.env.KILN_AGENT_ENV_PASSTHROUGH) });
  const source = await describeSource(process.cwd());
  const root = await mkdtemp(join(tmpdir(), 'kiln-run-'));
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const width = Math.max(...plan.jobs.filter((j) => !only || only.has(j.name)).map((j) => j.name.length));
  const secrets = (job: PlannedJob) => Object.fromEntries(job.secrets.flatMap((n) => (process.env[n] ? [[n, process.env[n]!]] : [])));
  let results: LocalJobResult[];
  const needsDocker = plan.jobs.some((j) => (!only || only.has(j.name)) && (j.image !== null || j.services.length > 0 || j.docker !== null));
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  const docker = needsDocker ? await connectDocker(dockerConfig, `kiln-run-${process.pid}`, logger) : null;
  const choice = { docker, config: dockerConfig, agentName: `kiln-run-${process.pid}`, baseEnv };
  try {
    results = await runPlanLocally({
      plan, only, workspaceRoot: root, signal: abort.signal, executorFor: (request) => chooseExecutor(choice, request),
      facts: { event: 'manual', branch: source.branch, tag: null, changedPaths: null },
      prepare: (workspace) => prepareLocalWorkspace(source, workspace, [root]),
      env: (job) => ({
        CI: 'true', KILN: 'true', KILN_REPO: source.name, KILN_RUN_NUMBER: '0', KILN_RUN_ID: 'local', KILN_JOB: job.name,
        KILN_EVENT: 'manual', KILN_BRANCH: source.branch ?? '', KILN_TAG: '', KILN_COMMIT_SHA: source.sha ?? '',
        KILN_SERVER_URL: '', ...inputEnv(inputs), ...secrets(job),
      }),
      secrets: plan.jobs.flatMap((j) => Object.values(secrets(j))),
      onLine: (job, line) => console.log(`${job.name.padEnd(width)} │ ${line.text}`),
      onJobEnd: (r) => console.log(`${r.name.padEnd(width)} │ ${mark(r)} ${describe(r)}`),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(root, { recursive: true, force: true });
  }
  const at = source.sha ? ` at ${source.sha.slice(0, 12)}${source.branch ? ` (${source.branch})` : ''} and the work tree` : '';
  console.log(`\nkiln run: ${source.name}${at}`);
  for (const r of results) console.log(`  ${mark(r)} ${r.name.padEnd(width)}  ${describe(r)}`);
  const status = runStatusFromJobs(results);
  console.log(`${status === 'success' || status === 'skipped' ? '✔' : '✖'} ${status}`);
  if (abort.signal.aborted) return 130;
  return status === 'success' || status === 'skipped' ? 0 : 1;
}

/** `--job NAME`: that job (or every matrix job of that key) and, transitively, what it needs. */
function selectJobs(plan: Plan, name: string): Set<string> | Error {
  const byName = new Map(plan.jobs.map((j) => [j.name, j]));
  const picked = plan.jobs.filter((j) => j.name === name || j.key === name);
  if (picked.length === 0) return new Error(`no job "${name}" in the pipeline (jobs: ${plan.jobs.map((j) => j.name).join(', ')})`);
  const selected = new Set<string>();
  const add = (job: PlannedJob) => {
    if (selected.has(job.name)) return;
    selected.add(job.name);
    for (const need of job.needs) add(byName.get(need)!);
  };
  picked.forEach(add);
  return selected;
}

function mark(r: LocalJobResult): string {
  return r.status === 'success' ? '✔' : r.status === 'skipped' ? '○' : r.status === 'failed' && r.allowFailure ? '⚠' : '✖';
}

function describe(r: LocalJobResult): string {
  const time = r.durationMs === null ? '' : ` in ${(r.durationMs / 1000).toFixed(1)} s`;
  const exit = r.exitCode !== null && r.exitCode !== 0 ? ` (exit ${r.exitCode})` : '';
  return `${r.status}${time}${r.reason && r.status !== 'success' ? `: ${r.reason}` : ''}${exit}`;
}

function usage(message: string): number {
  console.error(`kiln run: ${message}`);
  return 2;
}
