// Stage 3: what types alone cannot see: unknown `needs`, cycles, duplicate names after
// matrix expansion, too many jobs, cron and time zones, expressions. Works on the raw
// document (guarding every type), so a file with schema errors still gets all of these.
import { validateDetailed } from 'node-cron';
import { findExpressions, substituteMatrix } from './expressions.js';
import { declaredInputNames, lintInputs } from './inputs.js';
import { expandMatrix, matrixAxes, matrixJobName, matrixSize } from './matrix.js';
import { suggest } from './suggest.js';
import type { PathSegment } from './parse.js';

export const MAX_JOBS = 256;

/** A problem before positions are known. */
export interface RawProblem {
  path: PathSegment[];
  at?: 'key' | 'value';
  message: string;
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

export function lintPipeline(doc: unknown): RawProblem[] {
  if (!isDict(doc)) return [];
  const problems: RawProblem[] = [];
  const jobs = isDict(doc.jobs) ? doc.jobs : {};
  const defaults = isDict(doc.defaults) ? doc.defaults : {};
  const names = lintMatrices(jobs, defaults, problems);
  lintNeeds(jobs, defaults, names, problems);
  lintSteps(jobs, defaults, problems);
  lintCron(doc.on, problems);
  lintInputs(doc.on, problems);
  lintExpressions(doc, jobs, defaults, declaredInputNames(doc.on), problems);
  lintWhenMatrix(jobs, defaults, problems);
  return problems;
}

/** A `when: {matrix}` (of a job or of its steps) names only variables of the job's matrix. */
function lintWhenMatrix(jobs: Dict, defaults: Dict, problems: RawProblem[]): void {
  for (const [key, raw] of Object.entries(jobs)) {
    if (!isDict(raw)) continue;
    const variables = matrixVariables(jobValue(raw, defaults, 'matrix')) ?? [];
    const check = (when: unknown, path: PathSegment[]) => {
      if (!isDict(when) || !isDict(when.matrix)) return;
      for (const axis of Object.keys(when.matrix)) {
        if (variables.includes(axis)) continue;
        const hint = variables.length === 0 ? ': the job has no matrix' : suggest(axis, variables);
        problems.push({ path: [...path, 'matrix', axis], at: 'key', message: `the matrix has no axis "${axis}"${hint}` });
      }
    };
    check(raw.when, ['jobs', key, 'when']);
    if (Array.isArray(raw.steps)) raw.steps.forEach((step, i) => isDict(step) && check(step.when, ['jobs', key, 'steps', i, 'when']));
  }
}

/** Expands every job's matrix to count jobs and find duplicate names (`name:` rendered); returns job key → names. */
function lintMatrices(jobs: Dict, defaults: Dict, problems: RawProblem[]): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const owner = new Map<string, string>();
  let total = 0;
  for (const [key, raw] of Object.entries(jobs)) {
    const matrix = jobValue(raw, defaults, 'matrix');
    const title = jobValue(raw, defaults, 'name');
    const size = isDict(matrix) ? matrixSize(matrix) : 1;
    total += size;
    if (size > MAX_JOBS) {
      names.set(key, [key]);
      continue;
    }
    const combos = isDict(matrix) ? expandMatrix(matrix) : [null];
    const expanded = combos.map((values) => (typeof title === 'string' ? substituteMatrix(title, values ?? {}) : matrixJobName(key, values)));
    for (const name of expanded) {
      const other = owner.get(name);
      if (other === key) problems.push({ path: ['jobs', key, typeof title === 'string' ? 'name' : 'matrix'], message: `the matrix makes two jobs named "${name}"; its values must differ` });
      else if (other !== undefined) problems.push({ path: ['jobs', key], at: 'key', message: `jobs "${other}" and "${key}" are both named "${name}"` });
      owner.set(name, key);
    }
    names.set(key, expanded);
  }
  if (total > MAX_JOBS) {
    problems.push({ path: ['jobs'], at: 'key', message: `the pipeline has ${total} jobs after matrix expansion; at most ${MAX_JOBS} are allowed` });
  }
  return names;
}

/** Every variable a job's matrix gives: its axes and what `include` adds. */
function matrixVariables(matrix: unknown): string[] | null {
  if (!isDict(matrix)) return null;
  const included = Array.isArray(matrix.include) ? matrix.include.filter(isDict).flatMap((entry) => Object.keys(entry)) : [];
  return [...new Set([...Object.keys(matrixAxes(matrix)), ...included])];
}

function lintNeeds(jobs: Dict, defaults: Dict, names: Map<string, string[]>, problems: RawProblem[]): void {
  const allNames = new Set([...names.values()].flat());
  const edges = new Map<string, string[]>();
  for (const [key, raw] of Object.entries(jobs)) {
    const needs = jobValue(raw, defaults, 'needs');
    const viaDefaults = !(isDict(raw) && 'needs' in raw);
    const targets: string[] = [];
    asList(needs).forEach((item, i) => {
      const need = isDict(item) ? item.job : item;
      if (typeof need !== 'string' || need.includes('${{')) return;
      const path: PathSegment[] = viaDefaults ? ['defaults', 'needs'] : ['jobs', key, 'needs'];
      if (Array.isArray(needs)) path.push(i);
      const target = names.has(need) ? need : [...names].find(([, expanded]) => expanded.includes(need))?.[0];
      if (target === undefined) {
        problems.push({ path, message: `needs "${need}", but there is no such job${suggest(need, [...names.keys(), ...allNames])}` });
      } else targets.push(target);
    });
    edges.set(key, targets);
  }
  for (const cycle of findCycles(edges)) {
    problems.push({ path: ['jobs', cycle[0]!, 'needs'], message: `needs form a cycle: ${[...cycle, cycle[0]].join(' → ')}` });
  }
}

/** `steps` may come from `defaults`, so the schema cannot require it; after merging, every job needs them. */
function lintSteps(jobs: Dict, defaults: Dict, problems: RawProblem[]): void {
  for (const [key, raw] of Object.entries(jobs)) {
    if (isDict(raw) && jobValue(raw, defaults, 'steps') === undefined) {
      problems.push({ path: ['jobs', key], message: 'missing required key "steps"' });
    }
  }
}

/** One cycle per strongly connected group of jobs, each listed in `needs` order. */
function findCycles(edges: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  const reported = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        if (!cycle.some((n) => reported.has(n))) {
          cycle.forEach((n) => reported.add(n));
          cycles.push(cycle);
        }
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

function lintCron(on: unknown, problems: RawProblem[]): void {
  if (!isDict(on) || !Array.isArray(on.cron)) return;
  on.cron.forEach((entry, i) => {
    if (!isDict(entry)) return;
    if (typeof entry.schedule === 'string') {
      const result = validateDetailed(entry.schedule);
      if (!result.valid) {
        const reason = result.errors[0]?.message ?? 'not a cron expression';
        problems.push({ path: ['on', 'cron', i, 'schedule'], message: `bad cron expression "${entry.schedule}": ${reason}` });
      }
    }
    if (typeof entry.timezone === 'string' && !isTimeZone(entry.timezone)) {
      problems.push({ path: ['on', 'cron', i, 'timezone'], message: `unknown time zone "${entry.timezone}" (use an IANA name such as Europe/Paris)` });
    }
  });
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Where a job key's expressions are expanded: nowhere, on the server (matrix only), or on the agent too. */
const SERVER_SIDE_KEYS = new Set(['runs-on', 'concurrency', 'environment', 'when', 'name', 'working-directory']);
const NO_EXPRESSION_KEYS = new Set(['needs', 'matrix']);

function lintExpressions(doc: Dict, jobs: Dict, defaults: Dict, inputs: readonly string[], problems: RawProblem[]): void {
  type Mode = { allowed: 'none' | 'matrix' | 'all'; where: string };
  const check = (value: unknown, path: PathSegment[], axes: readonly string[] | null, mode: Mode): void => {
    walkStrings(value, path, (text, at) => {
      for (const found of findExpressions(text)) {
        const e = found.parsed;
        if (mode.allowed === 'none') problems.push({ path: at, message: `expressions are not allowed in ${mode.where}` });
        else if (e.kind === 'invalid') problems.push({ path: at, message: e.reason });
        else if (e.kind === 'inputs') {
          // The server substitutes inputs as it creates the run, so they may stand wherever matrix values may.
          if (!inputs.includes(e.name)) {
            const declared = inputs.length === 0 ? ': `on.manual.inputs` declares none' : suggest(e.name, inputs);
            problems.push({ path: at, message: `no input named "${e.name}"${declared}` });
          }
        } else if (e.kind !== 'matrix' && mode.allowed === 'matrix') {
          problems.push({ path: at, message: `only \${{ matrix.NAME }} and \${{ inputs.NAME }} are allowed in ${mode.where}: the server reads it before any agent runs` });
        } else if (e.kind === 'matrix' && axes === null) {
          problems.push({ path: at, message: `\${{ matrix.${e.name} }} is only available in a job with a matrix` });
        } else if (e.kind === 'matrix' && !axes!.includes(e.name)) {
          problems.push({ path: at, message: `the matrix has no axis "${e.name}"${suggest(e.name, axes!)}` });
        }
      }
    });
  };
  const modeFor = (field: string): Mode => ({
    allowed: NO_EXPRESSION_KEYS.has(field) ? 'none' : SERVER_SIDE_KEYS.has(field) ? 'matrix' : 'all',
    where: `\`${field}\``,
  });
  check(doc.name, ['name'], null, { allowed: 'none', where: '`name`' });
  check(doc.on, ['on'], null, { allowed: 'none', where: '`on`' });
  check(doc.env, ['env'], null, { allowed: 'all', where: '`env`' });
  if (isDict(doc.defaults)) {
    for (const [field, value] of Object.entries(defaults)) check(value, ['defaults', field], null, modeFor(field));
  }
  for (const [key, raw] of Object.entries(jobs)) {
    if (!isDict(raw)) continue;
    const matrix = jobValue(raw, defaults, 'matrix');
    const axes = matrixVariables(matrix);
    for (const [field, value] of Object.entries(raw)) check(value, ['jobs', key, field], axes, modeFor(field));
  }
}

function walkStrings(value: unknown, path: PathSegment[], visit: (text: string, path: PathSegment[]) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => walkStrings(item, [...path, i], visit));
  else if (isDict(value)) for (const [k, v] of Object.entries(value)) walkStrings(v, [...path, k], visit);
}

function jobValue(job: unknown, defaults: Dict, key: string): unknown {
  return isDict(job) && key in job ? job[key] : defaults[key];
}
