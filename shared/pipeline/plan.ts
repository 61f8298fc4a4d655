// Stage 4: a validated pipeline → the Plan: matrix expanded, defaults merged, env layered,
// `when` kept as data, jobs in topological order. A pure function: same input, same plan.
import { parseDuration } from './duration.js';
import { substituteMatrix } from './expressions.js';
import { planInputs } from './inputs.js';
import { planNotify } from './notify.js';
import { expandMatrix, matrixJobName, matrixMatches, type MatrixValues } from './matrix.js';
import type { JobInput, PipelineInput, StepInput, WhenInput } from './schema.js';
import { DEFAULT_CHECKOUT, type Plan, type PlannedCheckout, type PlannedJob, type PlannedService, type PlannedStep, type Triggers, type When } from './types.js';

export const DEFAULT_SHELL = 'sh -e';

export function planPipeline(input: PipelineInput): Plan {
  const pipelineEnv = envStrings(input.env);
  const defaults = input.defaults ?? {};
  const expanded: PlannedJob[] = [];
  const namesByKey = new Map<string, string[]>();
  for (const [key, own] of Object.entries(input.jobs ?? {})) {
    const job: JobInput = { ...defaults, ...own, env: { ...defaults.env, ...own.env } };
    const combos: Array<MatrixValues | null> = job.matrix ? expandMatrix(job.matrix) : [null];
    // A variable only some `include` entries give is empty in the other combinations, as in GitHub Actions.
    const blank = Object.fromEntries(combos.flatMap((values) => Object.keys(values ?? {})).map((name) => [name, '']));
    const planned = combos.map((values) => planJob(key, values, { ...blank, ...values }, job, pipelineEnv));
    namesByKey.set(key, planned.map((j) => j.name));
    expanded.push(...planned);
  }
  const expand = (names: string[]) => [...new Set(names.flatMap((need) => namesByKey.get(need) ?? [need]))];
  for (const job of expanded) {
    job.needs = expand(job.needs);
    job.noArtifactsFrom = expand(job.noArtifactsFrom ?? []);
  }
  for (const job of expanded) {
    const env = job.environment === null ? undefined : input.environments?.[job.environment];
    if (!env) continue;
    const approvers = env.approvers === undefined ? null : typeof env.approvers === 'string' ? [env.approvers] : env.approvers;
    job.approvalPolicy = { approvers, separateApprover: env.separate_approver ?? false, protected: env.protected ?? approvers !== null };
    // An environment that names its approvers gates every job that deploys to it.
    if (approvers !== null) job.approval = true;
  }
  const { ordered, stages } = topologicalOrder(expanded);
  const manual = input.on?.manual;
  const inputs = typeof manual === 'object' ? planInputs(manual.inputs) : [];
  const notify = planNotify(input.notify);
  return { name: input.name ?? null, triggers: planTriggers(input.on), inputs, ...(notify.length > 0 ? { notify } : {}), jobs: ordered, stages };
}

function planJob(key: string, matrix: MatrixValues | null, variables: MatrixValues, job: JobInput, pipelineEnv: Record<string, string>): PlannedJob {
  // Matrix values are substituted in every string of the job, once, before anything reads it.
  const sub = <T>(value: T): T => (matrix ? deepSubstitute(value, variables) : value);
  const j = sub(job);
  const name = j.name ?? matrixJobName(key, matrix);
  return {
    name,
    key,
    matrix,
    needs: needNames(j.needs),
    noArtifactsFrom: needObjects(j.needs).filter((n) => n.artifacts === false).map((n) => n.job),
    runsOn: list(j['runs-on']),
    image: j.image ?? null,
    pull: j.pull ?? 'if-not-present',
    user: j.user ?? null,
    services: Object.entries(j.services ?? {}).map(([name, s]): PlannedService => ({
      name,
      image: s.image,
      env: envStrings(s.env),
      command: s.command === undefined ? null : typeof s.command === 'string' ? splitWords(s.command) : s.command,
      entrypoint: s.entrypoint === undefined ? null : typeof s.entrypoint === 'string' ? splitWords(s.entrypoint) : s.entrypoint,
      ports: s.ports ?? [],
    })),
    docker: j.docker ?? null,
    env: { ...pipelineEnv, ...envStrings(j.env) },
    secrets: j.secrets ?? [],
    steps: (j.steps ?? []).map((step) => planStep(step, matrix, j['working-directory'])),
    cache: j.cache ? { key: j.cache.key, paths: j.cache.paths, restoreKeys: j.cache.restore_keys ?? [], policy: j.cache.policy ?? 'pull-push' } : null,
    artifacts: j.artifacts ? {
      name: j.artifacts.name ?? name,
      paths: j.artifacts.paths,
      expireMs: j.artifacts.expire ? parseDuration(j.artifacts.expire) : null,
      when: j.artifacts.when ?? 'on_success',
    } : null,
    retry: j.retry ?? 0,
    timeoutMs: j.timeout ? parseDuration(j.timeout) : null,
    allowFailure: j.allow_failure ?? false,
    when: planWhen(j.when, matrix),
    environment: j.environment ?? null,
    approval: j.approval ?? false,
    concurrency: j.concurrency ?? null,
    checkout: planCheckout(j.checkout),
  };
}

type NeedsInput = JobInput['needs'];

function needObjects(needs: NeedsInput): Array<{ job: string; artifacts?: boolean }> {
  const all = needs === undefined ? [] : typeof needs === 'string' ? [needs] : needs;
  return all.map((n) => (typeof n === 'string' ? { job: n } : n));
}

function needNames(needs: NeedsInput): string[] {
  return needObjects(needs).map((n) => n.job);
}

function planCheckout(checkout: JobInput['checkout']): PlannedCheckout {
  if (checkout === undefined) return { ...DEFAULT_CHECKOUT };
  if (checkout === 'fresh') return { ...DEFAULT_CHECKOUT, fresh: true };
  return { fresh: checkout.fresh ?? false, depth: checkout.depth ?? null, filter: checkout.filter ?? null };
}

function planStep(step: StepInput, matrix: MatrixValues | null, jobDirectory: string | undefined): PlannedStep {
  const firstLine = step.run.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'run';
  return {
    name: step.name ?? (firstLine.length > 80 ? `${firstLine.slice(0, 77)}...` : firstLine),
    run: step.run,
    shell: step.shell ?? DEFAULT_SHELL,
    env: envStrings(step.env),
    timeoutMs: step.timeout ? parseDuration(step.timeout) : null,
    continueOnError: step.continue_on_error ?? false,
    when: planWhen(step.when, matrix),
    workingDirectory: step['working-directory'] ?? jobDirectory ?? null,
  };
}

function planWhen(when: WhenInput | undefined, matrix: MatrixValues | null): When | null {
  if (!when) return null;
  const out: When = {};
  if (when.branch !== undefined) out.branch = list(when.branch);
  if (when.event !== undefined) out.event = list(when.event);
  if (when.status !== undefined) out.status = list(when.status);
  if (when.paths !== undefined) out.paths = list(when.paths);
  if (when.matrix !== undefined) {
    out.matrix = Object.fromEntries(Object.entries(when.matrix).map(([axis, v]) => [axis, list(v).map(String)]));
    out.matrixMatches = matrixMatches(out.matrix, matrix);
  }
  return out;
}

function planTriggers(on: PipelineInput['on']): Triggers {
  if (on === undefined) return { push: { branches: null, paths: null }, tags: null, pullRequest: null, cron: [], manual: true };
  const { push, pull_request: pr } = on;
  return {
    push: push === undefined || push === false ? null : push === null || push === true ? { branches: null, paths: null } : {
      branches: push.branches === undefined ? null : list(push.branches),
      paths: push.paths === undefined ? null : list(push.paths),
    },
    tags: on.tags === undefined || on.tags === false ? null : on.tags === true ? ['*'] : list(on.tags),
    pullRequest: pr === undefined || pr === false ? null : pr === null || pr === true ? { branches: null, paths: null } : {
      branches: pr.branches === undefined ? null : list(pr.branches),
      paths: pr.paths === undefined ? null : list(pr.paths),
    },
    cron: (on.cron ?? []).map((c) => ({ schedule: c.schedule, branch: c.branch ?? null, timezone: c.timezone ?? null })),
    manual: on.manual !== false,
  };
}

/** Kahn's algorithm, taking ready jobs in the order written so the plan is stable. */
function topologicalOrder(jobs: PlannedJob[]): { ordered: PlannedJob[]; stages: string[][] } {
  const depth = new Map<string, number>();
  const ordered: PlannedJob[] = [];
  let pending = jobs;
  while (pending.length > 0) {
    const ready = pending.filter((job) => job.needs.every((need) => depth.has(need)));
    if (ready.length === 0) throw new Error('planPipeline: needs form a cycle (lint should have refused it)');
    for (const job of ready) {
      depth.set(job.name, Math.max(-1, ...job.needs.map((need) => depth.get(need)!)) + 1);
      ordered.push(job);
    }
    pending = pending.filter((job) => !depth.has(job.name));
  }
  const stages: string[][] = [];
  for (const job of ordered) (stages[depth.get(job.name)!] ??= []).push(job.name);
  return { ordered, stages };
}

function deepSubstitute<T>(value: T, matrix: MatrixValues): T {
  if (typeof value === 'string') return substituteMatrix(value, matrix) as T;
  if (Array.isArray(value)) return value.map((v) => deepSubstitute(v, matrix)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'matrix' ? v : deepSubstitute(v, matrix)])) as T;
  }
  return value;
}

/** `redis-server --appendonly "yes please"` → words, as Compose reads a string command (quotes group, no expansion). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? match[3]!));
  }
  return words;
}

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function envStrings(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}
